"""Chapter 10's must-hold measurements: R3GAN on the toys, editing the shipped StyleGAN, little data.

    python benchmarks/modern.py toy --seeds 0 1 2          # RpGAN + R1 + R2 vs classic + R1, ring and grid
    python benchmarks/modern.py edit --seeds 0 1 2         # W vs W+ inversion; the sneaker → boot walk
    python benchmarks/modern.py little --seeds 0 1 --minutes 10   # 1,000 images, DiffAugment or not
    python benchmarks/modern.py little --seeds 0 --steps 1470 --threads 1   # the same by steps, one core

``toy``: the MLPs and optimizer of the chapter (``toy_bundle`` in course/10), trained for the
toolbox's step budget of chapter 6 (3,000 ring steps, 4,000 grid steps, batch 256, no time
cap); modes covered and the high-quality share of 2,000 samples (:func:`ganedu.metrics.mode_coverage`).

``edit``: on the shipped StyleGAN (EMA generator). Inversion: 3 disjoint sets of 16 test images
(one per seed), 150 Adam steps (the notebook's cpu budget), λ = 0.1 with the course classifier's
features; mean pixel MSE in W and in W+. Walk: the direction d = w̄(ankle boot) − w̄(sneaker)
from 4,000 samples labelled by the *course* classifier (seed s), walked from the sampled sneakers
among 2,000 other samples (seed s + 100); the share of walked images that the *independent*
classifier calls ankle boots, for the plain walk (ψ = 1) and with the truncation towards the
boot mean (ψ < 1), and for the truncation alone (α = 0) as a control.

``little``: the CLI's DCGAN on the first 1,000 Fashion-MNIST training images for ``--minutes``
of wall time (or ``--steps``: the steps the DCGAN makes in that time on an idle machine, so
that two seeds can run side by side, one core each, with the same result), with
``DiffAugment("colour,translation,cutout")`` on every image D sees or without; FD (classifier
features) of 5,000 samples against the 10k test images (benchmarks/score.py), and D's mean logit
on 500 training images, 500 held-out test images and 500 fakes (``d_logits``). ``--norm none``
takes BatchNorm out of the DCGAN's D; ``--marks`` scores at those steps too.

Rows (with the CPU and its vector extensions) are appended to ``benchmarks/results/modern.json``.
Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402

import ganedu  # noqa: E402
from ganedu import editing, losses  # noqa: E402
from ganedu.data import ImageBatches, ToyBatches, load_dataset  # noqa: E402
from ganedu.data.convert import to_float, to_uint8  # noqa: E402
from ganedu.gan import GAN  # noqa: E402
from ganedu.metrics import ClassifierFeatures  # noqa: E402
from ganedu.metrics.modes import mode_coverage  # noqa: E402
from ganedu.models import RunConfig, build  # noqa: E402
from ganedu.models.r3gan import R3GAN  # noqa: E402
from ganedu.nets import mlp  # noqa: E402
from ganedu.penalties import R1Penalty  # noqa: E402
from ganedu.train import train  # noqa: E402

TOY_STEPS = {"ring": 3000, "grid": 4000}
SNEAKER, ANKLE_BOOT = 7, 9


# The chapter's toy recipe: a 2-D latent (the data's own dimension) and an EMA of G with a
# half-life of 200 steps of 256 points. With nz = 16 and no EMA (the first version) RpGAN + R1 + R2
# covered 0-5 of the 25 grid modes; see benchmarks/README.md, chapter 10.
TOY_NZ, TOY_EMA_HALF_LIFE = 2, 200 * 256


def toy_bundle(kind: str, seed: int, gamma: float = 1.0, hidden: int = 128, lr: float = 1e-3,
               ema_half_life: float | None = TOY_EMA_HALF_LIFE, nz: int = TOY_NZ) -> GAN:  # fmt: skip
    """The chapter's toy pair: the same MLPs and Adam for both losses (as course/10 builds them).

    The defaults are the chapter's; ``hidden``, ``lr``, ``ema_half_life`` (in points, ``None``
    for no EMA) and ``nz`` are the knobs benchmarks/toy_grid.py turns.
    """
    ganedu.seed_everything(seed)
    G = mlp.Generator(nz=nz, out_shape=(2,), hidden=hidden, depth=3, batchnorm=False, tanh=False)
    D = mlp.Discriminator(in_shape=(2,), hidden=hidden, depth=3)
    opt_g, opt_d = (torch.optim.Adam(net.parameters(), lr=lr, betas=(0.0, 0.99)) for net in (G, D))
    common = dict(nz=nz, ema_half_life=ema_half_life, device="cpu")
    if kind == "rpgan+r1+r2":
        return R3GAN(G, D, opt_g, opt_d, gamma=gamma, **common)
    return GAN(G, D, opt_g, opt_d, losses.minimax_d, losses.nonsaturating_g,
               penalties={"R1": R1Penalty(gamma)}, **common)  # fmt: skip


def toy(seeds: list[int]) -> list[dict]:
    rows = []
    for seed in seeds:
        for mixture, steps in TOY_STEPS.items():
            data = ToyBatches(mixture, seed=seed)
            for kind in ("classic+r1", "rpgan+r1+r2"):
                gan, start = toy_bundle(kind, seed), time.monotonic()
                train(gan, data, steps=steps, batch_size=256)
                cover = mode_coverage(gan.sample(2000, seed=seed), data.centers, data.std)
                rows.append({"experiment": "toy", "mixture": mixture, "loss": kind, "seed": seed, "steps": steps,
                             "modes": cover.covered, "of": cover.total, "high_quality": round(cover.high_quality, 3),
                             "seconds": round(time.monotonic() - start, 1)})  # fmt: skip
                print(json.dumps(rows[-1]), flush=True)
    return rows


def edit(seeds: list[int]) -> list[dict]:
    from ganedu.pretrained import load_pretrained

    stylegan, _ = load_pretrained("stylegan", device="cpu")
    G = stylegan.ema.model if stylegan.ema is not None else stylegan.G
    clf = ClassifierFeatures("fashion-mnist", device="cpu")
    judge = ClassifierFeatures("fashion-mnist", device="cpu", which="independent")
    phi = editing.classifier_feature_fn(clf)
    test_images, _ = load_dataset("fashion-mnist", "test")
    rows = []
    for seed in seeds:
        targets = to_float(test_images[16 * seed : 16 * (seed + 1)], pad_to=32)
        row = {"experiment": "inversion", "seed": seed, "images": 16, "steps": 150}
        for space in ("w", "w+"):
            inv = editing.invert(G, targets, space, steps=150, lam=0.1, features=phi)
            row[f"pixel_mse_{space}"] = round(inv.pixel_mse.mean().item(), 4)
        rows.append(row)
        print(json.dumps(row), flush=True)

        means = editing.class_means(G, clf, n=4000, seed=seed)
        direction = means[ANKLE_BOOT] - means[SNEAKER]
        w, images = editing.sample_ws(G, 2000, seed=seed + 100)
        sneakers = w[clf.predict(to_uint8(images, crop_to=28)) == SNEAKER]
        for alpha, psi in [(1.0, 1.0), (1.5, 1.0), (2.0, 1.0), (0.0, 0.7), (1.0, 0.7), (1.0, 0.5)]:
            walked = editing.walk(G, sneakers, direction, [alpha], center=means[ANKLE_BOOT], psi=psi)[0]
            said = judge.predict(to_uint8(walked, crop_to=28))
            rows.append({"experiment": "walk", "seed": seed, "sneakers": len(sneakers), "alpha": alpha, "psi": psi,
                         "ankle_boot": round((said == ANKLE_BOOT).float().mean().item(), 3),
                         "labels": torch.bincount(said, minlength=10).tolist()})  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    return rows


def little(seeds: list[int], minutes: float, steps: int | None = None, policies: list[str] | None = None,
           norm: str = "batch", marks: list[int] | None = None, n: int = 5000) -> list[dict]:  # fmt: skip
    from score import score_samples

    from ganedu.augment import DiffAugment

    train_images, _ = load_dataset("fashion-mnist", "train")
    test_images, _ = load_dataset("fashion-mnist", "test")
    few = train_images[:1000]
    seen, held_out = to_float(few[:500], pad_to=32), to_float(test_images[:500], pad_to=32)
    rows = []
    for seed in seeds:
        for policy in policies or (None, "colour,translation,cutout"):
            gan, _ = build(RunConfig("dcgan", seed=seed, device="cpu", options={"norm": norm}))
            gan.augment = DiffAugment(policy) if policy not in (None, "none") else None
            data = ImageBatches(few, pad_to=32, seed=seed)
            for mark in (marks or []) + [None] if steps else [None]:
                budget = {"steps": mark or steps} if steps else {"minutes": minutes}
                train(gan, data, batch_size=64, **budget)
                scores = score_samples(gan.export(n, seed=seed, crop_to=28)["images"])
                scores.pop("classes")
                rows.append({"experiment": "little", "seed": seed, "augment": policy or "none", "norm": norm,
                             **({"step_budget": steps} if steps else {"minutes": minutes}),
                             "steps": gan.step, "precision": gan.precision, **d_logits(gan, seen, held_out), **scores})  # fmt: skip
                print(json.dumps(rows[-1]), flush=True)
    return rows


@torch.no_grad()
def d_logits(gan, seen, held_out) -> dict:
    """D's mean logit on 500 of the training images, 500 held-out test images and 500 fakes.

    A D that memorises its training set scores held-out reals like fakes: ``D_test`` falls from
    ``D_train`` towards ``D_fake`` (chapter 10's ``LogitGap``). D as it trains (BatchNorm, if any,
    on each batch's statistics), without augmentation.
    """
    with gan.autocast():
        batches = {"D_train": seen, "D_test": held_out, "D_fake": gan.G(gan.sample_z(len(seen)))}
        return {k: round(gan.D(gan.in_layout(x)).float().mean().item(), 3) for k, x in batches.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("experiment", choices=["toy", "edit", "little"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--minutes", type=float, default=10.0, help="training minutes per run (little)")
    p.add_argument("--steps", type=int, help="training steps per run instead of minutes (little)")
    p.add_argument(
        "--policies",
        nargs="+",
        help="augmentations compared (little); default: none, colour,translation,cutout",
    )
    p.add_argument(
        "--norm", default="batch", help="the DCGAN D's normalisation (little): batch (the paper's) or none"
    )
    p.add_argument("--marks", type=int, nargs="*", help="also score at these steps before --steps (little)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: PyTorch's)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "modern.json")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.experiment == "toy":
        rows = toy(args.seeds)
    elif args.experiment == "edit":
        rows = edit(args.seeds)
    else:
        rows = little(args.seeds, args.minutes, args.steps, args.policies, args.norm, args.marks)
    stamp = {"date": date.today().isoformat(), "threads": torch.get_num_threads(), **machine()}
    append_rows(args.out, [{**r, **stamp} for r in rows])


if __name__ == "__main__":
    main()
