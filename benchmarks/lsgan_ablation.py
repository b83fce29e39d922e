"""Why LSGAN lags the DCGAN: the same bundle with D's loss and G's loss chosen separately, at equal steps.

    python benchmarks/lsgan_ablation.py --d ls --g ns --option norm=batch lr=2e-4 --steps 300 --marks 150
    python benchmarks/lsgan_ablation.py --option norm=none lr=2e-4 --steps 300 --marks 150

Builds the CLI's ``lsgan`` (the DCGAN networks, Adam(β1 = 0.5), the EMA of G; ``--option`` as
on the command line) and swaps in the chosen losses. The recipe's defaults have changed since
the rows in benchmarks/README.md: it now has the paper's BatchNorm D and Adam at 1e-3, so
``norm=batch lr=2e-4`` repeats the rows with BatchNorm and ``norm=none lr=2e-4`` the others.
The losses:
``ns`` (the DCGAN's minimax D loss / non-saturating G loss), ``ls`` (least squares, 0-1 coding), ``ls-chi2`` (a = −1, b = 1, c = 0),
``hinge``. At each mark: FD of 5,000 samples (benchmarks/score.py), the last 50 steps' mean
losses and D outputs, and two diagnostics on fresh batches:

- ``g_grad_cosine``: cosine between G's parameter gradients from two independent batches
  (near 0: G's signal is noise; near 1: every batch pushes G the same way);
- ``slope_per_gap``: mean ‖∇ₓD‖ at fakes over D's mean real − fake output gap, a steepness
  that compares across losses whose outputs live on different scales.

One JSON line per mark on stdout; ``--out`` appends them (with the CPU) to a JSON list.
Step budgets, not minutes, so runs may share the machine (``--threads 1`` each).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402
from score import score_samples  # noqa: E402

from ganedu import losses  # noqa: E402
from ganedu.callbacks import History  # noqa: E402
from ganedu.models import RunConfig, build  # noqa: E402
from ganedu.train import train  # noqa: E402

D_LOSS = {"ns": losses.minimax_d, "ls": losses.least_squares_d, "hinge": losses.hinge_d,
          "ls-chi2": partial(losses.least_squares_d, a=-1.0, b=1.0)}  # fmt: skip
G_LOSS = {"ns": losses.nonsaturating_g, "ls": losses.least_squares_g, "hinge": losses.hinge_g,
          "ls-chi2": partial(losses.least_squares_g, c=0.0)}  # fmt: skip


def diagnose(gan, data, pairs: int = 8, batch: int = 64) -> dict[str, float]:
    """``g_grad_cosine`` and ``slope_per_gap`` (see the module docstring), averaged over ``pairs``."""
    cosines, slopes, gaps = [], [], []
    for _ in range(pairs):
        grads = []
        for _ in range(2):
            gan.D.requires_grad_(False)
            loss = gan.g_loss(gan.D(gan.generate(batch, None)).float())
            grads.append(
                torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(gan.G.parameters()))])
            )
            gan.D.requires_grad_(True)
        cosines.append(torch.nn.functional.cosine_similarity(grads[0], grads[1], dim=0).item())
        real, _ = data.sample(batch)
        fake = gan.generate(batch, None).detach().requires_grad_(True)
        out_fake = gan.D(fake)
        (grad,) = torch.autograd.grad(out_fake.sum(), fake)
        with torch.no_grad():
            out_real = gan.D(real)
        slopes.append(grad.flatten(1).norm(dim=1).mean().item())  # mean ‖∇ₓD‖ over the fakes
        gaps.append((out_real.mean() - out_fake.mean()).item())
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    return {"g_grad_cosine": round(mean(cosines), 3), "d_slope_at_fakes": round(mean(slopes), 4),
            "d_gap": round(mean(gaps), 3), "slope_per_gap": round(mean(slopes) / max(abs(mean(gaps)), 1e-8), 4)}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--d", choices=tuple(D_LOSS), help="D's loss (default: the model's)")
    p.add_argument("--g", choices=tuple(G_LOSS), help="G's loss (default: the model's)")
    p.add_argument("--model", default="lsgan")
    p.add_argument("--option", nargs="*", default=[], help="KEY=VALUE model options, as on the command line")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--marks", type=int, nargs="*", default=[], help="earlier steps to score at too")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, help="a JSON list to append the rows to")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    options = dict(kv.split("=", 1) for kv in args.option)
    gan, data = build(RunConfig(args.model, batch_size=64, seed=args.seed, device="cpu", options=options))
    gan.d_loss = D_LOSS[args.d] if args.d else gan.d_loss
    gan.g_loss = G_LOSS[args.g] if args.g else gan.g_loss
    history, start, rows = History(), time.monotonic(), []
    for mark in sorted({*args.marks, args.steps}):
        train(gan, data, steps=mark, batch_size=64, callbacks=[history])
        diagnostics = diagnose(gan, data)
        scores = score_samples(gan.export(5000, data, seed=args.seed)["images"])
        scores.pop("classes")
        last = {k: v[-50:] for k, v in history.values.items() if k != "step"}  # the last 50 steps' logs
        means = {k: round(sum(float(x) for x in v) / len(v), 3) for k, v in last.items()}
        rows.append({"model": args.model, "d": args.d or "model's", "g": args.g or "model's", "options": options,
                     "seed": args.seed, "steps": gan.step, "seconds": round(time.monotonic() - start),
                     **scores, **means, **diagnostics, **machine(), "threads": args.threads})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    if args.out:
        append_rows(args.out, rows)


if __name__ == "__main__":
    main()
