"""RpGAN + R1 + R2 on the 25-mode grid, one setting at a time, with scatter plots along the way.

    python benchmarks/toy_grid.py --seed 0                    # the chapter's recipe: nz = 2, EMA
    python benchmarks/toy_grid.py --nz 16 --ema 0 --gamma 0.01 --hidden 400 --seed 0

Chapter 10's toy pair (``modern.toy_bundle``) with its knobs exposed: γ of R1 and R2, the MLPs'
width, Adam's learning rate, an EMA of G (half-life in steps of 256 points), the latent's
dimension. Trains for the toolbox's 4,000 grid steps on one thread, scoring 2,000 samples with
:func:`ganedu.metrics.mode_coverage` after 500, 1,000, 2,000 and 4,000 steps, and saves the
four scatter plots to ``--plot`` (default: build/toy_grid.png). One JSON line per mark.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from machine import machine  # noqa: E402
from modern import TOY_EMA_HALF_LIFE, TOY_NZ, toy_bundle  # noqa: E402

from ganedu.data import ToyBatches  # noqa: E402
from ganedu.metrics.modes import mode_coverage  # noqa: E402
from ganedu.train import train  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gamma", type=float, default=1.0)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument(
        "--ema", type=float, default=TOY_EMA_HALF_LIFE / 256, help="half-life of G's EMA in steps (0: none)"
    )
    p.add_argument("--nz", type=int, default=TOY_NZ, help="the latent's dimension")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--marks", type=int, nargs="+", default=[500, 1000, 2000, 4000], help="steps to plot at")
    p.add_argument("--plot", type=Path, default=Path("build/toy_grid.png"))
    args = p.parse_args()
    torch.set_num_threads(1)
    gan = toy_bundle(
        "rpgan+r1+r2", args.seed, args.gamma, args.hidden, args.lr, args.ema * 256 or None, args.nz
    )
    data = ToyBatches("grid", seed=args.seed)
    fig, axes = plt.subplots(1, len(args.marks), figsize=(4 * len(args.marks), 4))
    for ax, mark in zip(axes, args.marks, strict=True):
        train(gan, data, steps=mark, batch_size=256)
        points = gan.sample(2000, seed=args.seed)
        cover = mode_coverage(points, data.centers, data.std)
        ax.scatter(*points.T, s=1)
        ax.scatter(*data.centers.T, s=10, c="r")
        ax.set(
            xlim=(-6, 6),
            ylim=(-6, 6),
            title=f"{mark} steps: {cover.covered}/25 modes, {cover.high_quality:.0%}",
        )
        print(json.dumps({**vars(args), "plot": str(args.plot), "steps": mark, "modes": cover.covered,
                          "high_quality": round(cover.high_quality, 3), **machine()}), flush=True)  # fmt: skip
    args.plot.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.plot, dpi=60)


if __name__ == "__main__":
    main()
