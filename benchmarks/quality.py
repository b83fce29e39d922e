"""Quality after a fixed CPU budget, for any model of the CLI.

    python benchmarks/quality.py cgan --minutes 5 --out runs/bench

runs ``python -m ganedu train MODEL --minutes M`` then ``sample -n 10000`` and scores the
samples with benchmarks/score.py (classifier-feature Fréchet distance against the test split,
the classes an independent classifier sees, and for a conditional model the share of samples
that are of the class asked for). Prints a JSON row and writes it to ``OUT/MODEL.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from score import score_samples  # noqa: E402


def train_and_sample(
    model: str, minutes: float, out: Path, seed: int = 0, extra: tuple[str, ...] = ()
) -> dict:
    """Train ``model`` for ``minutes`` with the CLI and sample 10k images into ``OUT/MODEL.npz``."""
    run = out / f"ganedu-{model}"
    cli = [sys.executable, "-m", "ganedu"]
    start = time.monotonic()
    subprocess.run([*cli, "train", model, "--minutes", str(minutes), "--out", str(run), "--seed", str(seed), *extra],
                   check=True, stderr=subprocess.DEVNULL)  # fmt: skip
    elapsed = time.monotonic() - start
    subprocess.run([*cli, "sample", str(run), "-n", "10000", "--out", str(out / f"{model}.npz")], check=True)
    steps = json.loads((run / "log.jsonl").read_text().splitlines()[-1])["step"]
    command = f"python -m ganedu train {model} --minutes {minutes:g} --seed {seed} {' '.join(extra)}".strip()
    return {"model": f"ganedu {model}", "command": command, "steps": steps, "wall_s": round(elapsed, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--out", type=Path, default=Path("runs/bench"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    row = train_and_sample(args.model, args.minutes, args.out, args.seed)
    samples = np.load(args.out / f"{args.model}.npz")
    row.update(score_samples(samples["images"], samples["labels"] if "labels" in samples else None))
    print(json.dumps(row))
    (args.out / f"{args.model}.json").write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
