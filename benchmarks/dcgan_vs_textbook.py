"""Quality after the same wall time: ganedu's DCGAN against the textbook loop.

    python benchmarks/dcgan_vs_textbook.py --minutes 5 --out runs/bench

1. trains the textbook loop (benchmarks/textbook.py) for ``--minutes`` and samples 10k images;
2. runs ``python -m ganedu train dcgan --minutes M`` and ``python -m ganedu sample -n 10000``
   (benchmarks/quality.py);
3. scores both with benchmarks/score.py: the Fréchet distance in the features of the project's
   Fashion-MNIST classifier against the 10k test images, and the classes an independent
   classifier sees in the samples.

Prints one JSON object per model and writes them to ``OUT/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from quality import train_and_sample  # noqa: E402
from score import score_samples  # noqa: E402
from textbook import TextbookDCGAN  # noqa: E402

from ganedu.data import load_dataset  # noqa: E402


def run_textbook(minutes: float, out: Path, seed: int) -> dict:
    images, _ = load_dataset("fashion-mnist", "train")
    model = TextbookDCGAN(images, seed=seed)
    start = time.monotonic()
    seen = model.train(minutes=minutes)
    elapsed = time.monotonic() - start
    np.savez_compressed(out / "textbook.npz", images=model.sample(10_000, seed=seed))
    return {"model": "textbook DCGAN", "steps": model.steps, "images_per_s": round(seen / elapsed, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--out", type=Path, default=Path("runs/bench"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--score-only", action="store_true", help="score the .npz files of an earlier run")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(min(2, os.cpu_count() or 2))
    results_path = args.out / "results.json"
    if args.score_only:
        rows = json.loads(results_path.read_text())
    else:
        rows = [
            run_textbook(args.minutes, args.out, args.seed),
            train_and_sample("dcgan", args.minutes, args.out, args.seed),
        ]
        for row in rows:
            row.update(minutes=args.minutes, load_avg=os.getloadavg()[0])
        results_path.write_text(json.dumps(rows, indent=2) + "\n")  # kept even if scoring fails
    for row, name in zip(rows, ["textbook.npz", "dcgan.npz"], strict=True):
        row.update(score_samples(np.load(args.out / name)["images"]))
        print(json.dumps(row))
    results_path.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
