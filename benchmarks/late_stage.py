"""Late-stage probes: branch one run after M minutes into variants, each trained N more minutes.

    python benchmarks/late_stage.py wgan-gp --seed 0 --first 5 --more 2.5 \\
        --variants base lr_half ema_40k g_beta1_0.5 beta2_0.99 lr_d_x2 drift n_critic_2

A setting that matters only late in a run (a learning rate, the generator's EMA, momentum)
cannot be judged by a short run from scratch, and a full run per variant costs ten minutes each.
Here one run of the CLI recipe trains for ``--first`` minutes; then every variant starts from a
copy of that same state (networks, optimizers, EMA), changes one thing, trains ``--more``
minutes and is scored like benchmarks/quality_per_minute.py (FD of 5,000 samples in classifier
features, classes found by the independent classifier). ``base`` changes nothing: its score is
the yardstick, and two ``base`` branches of one run show the noise. Rows, with the critic's mean
outputs on reals and fakes at each score, go to ``benchmarks/results/late_stage.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from datetime import date
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402
from score import score_samples  # noqa: E402

from ganedu.models import RunConfig, build  # noqa: E402
from ganedu.penalties import GradientPenalty  # noqa: E402
from ganedu.train import train  # noqa: E402


class DriftPenalty:
    """ProGAN's drift term ε·E[D(x)²] (Karras et al. 2018): keeps a critic's outputs near zero."""

    every = 1

    def __init__(self, eps: float = 1e-3):
        self.eps = eps

    def __call__(self, D, real, fake, labels=None):
        return self.eps * D(real).float().pow(2).mean()


def _zero_centred(gan) -> None:
    gp = gan.penalties["GP"]
    gan.penalties["GP"] = GradientPenalty(gp.weight, every=gp.every, centre=0.0)  # Thanh-Tung et al. 2019


def _param_groups(gan, which=("g", "d")):
    """The parameter groups of G's and/or D's optimizer."""
    return [group for name in which for group in getattr(gan, f"opt_{name}").param_groups]


def _scale_lr(gan, factor: float, which=("g", "d")) -> None:
    for group in _param_groups(gan, which):
        group["lr"] *= factor


def _betas(gan, beta1: float | None = None, beta2: float | None = None, which=("g", "d")) -> None:
    for group in _param_groups(gan, which):
        b1, b2 = group["betas"]
        group["betas"] = (b1 if beta1 is None else beta1, b2 if beta2 is None else beta2)


VARIANTS = {
    "base": lambda gan: None,
    "lr_half": lambda gan: _scale_lr(gan, 0.5),
    "lr_d_x2": lambda gan: _scale_lr(gan, 2.0, which=("d",)),
    "ema_40k": lambda gan: setattr(gan.ema, "half_life", 40_000),
    "g_beta1_0.5": lambda gan: _betas(gan, beta1=0.5, which=("g",)),
    "beta2_0.99": lambda gan: _betas(gan, beta2=0.99),
    "drift": lambda gan: gan.penalties.__setitem__("drift", DriftPenalty()),
    "n_critic_2": lambda gan: setattr(gan, "n_critic", 2),
    "gp_weight_1": lambda gan: setattr(gan.penalties["GP"], "weight", 1.0),
    "gp_every_1": lambda gan: setattr(gan.penalties["GP"], "every", 1),
    "gp_zero_centred": _zero_centred,
}


@torch.no_grad()
def critic_outputs(gan, data, n: int = 256) -> dict:
    """Mean critic output on ``n`` reals and ``n`` fakes (the scale a Wasserstein critic drifts to)."""
    real = gan.in_layout(data.sample(n)[0])
    return {
        "D_real": round(gan.D(real).float().mean().item(), 3),
        "D_fake": round(gan.D(gan.generate(n, None)).float().mean().item(), 3),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--first", type=float, default=5.0, help="minutes before the branch point")
    p.add_argument("--more", type=float, default=2.5, help="minutes each variant trains after it")
    p.add_argument("--variants", nargs="+", default=["base"], choices=sorted(VARIANTS))
    p.add_argument("--option", nargs="*", default=[], help="KEY=VALUE options of the recipe")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "late_stage.json")
    args = p.parse_args()
    options = dict(kv.split("=", 1) for kv in args.option)
    old = json.loads(args.out.read_text()) if args.out.is_file() else []
    run = 1 + max((r.get("run", 0) for r in old), default=0)  # the rows of one branch point
    gan, data = build(RunConfig(args.model, batch_size=64, seed=args.seed, device="cpu", options=options))
    train(gan, data, minutes=args.first, batch_size=64)
    common = {"run": run, "model": args.model, **({"options": options} if options else {}), "seed": args.seed,
              "precision": gan.precision, "threads": torch.get_num_threads(), **machine(),
              "date": date.today().isoformat()}  # fmt: skip

    def row(g, variant: str, minutes: float) -> dict:
        scores = score_samples(g.export(5000, data, seed=args.seed)["images"])
        scores.pop("classes")
        out = {**common, "variant": variant, "minutes": minutes, "steps": g.step, **scores,
               **critic_outputs(g, data)}  # fmt: skip
        print(json.dumps(out), flush=True)
        return out

    rows = [row(gan, "branch point", args.first)]
    for variant in args.variants:
        branch = copy.deepcopy(gan)
        VARIANTS[variant](branch)
        torch.manual_seed(args.seed + 1)  # every branch draws the same noise from here on
        start = time.monotonic()
        train(branch, data, minutes=args.more, batch_size=64)
        rows.append(row(branch, variant, args.first + (time.monotonic() - start) / 60))
        del branch
    append_rows(args.out, rows)


if __name__ == "__main__":
    main()
