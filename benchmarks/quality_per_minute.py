"""Quality per CPU minute: classifier-feature FD after 1, 2, 5 and 10 minutes of training.

    chrt -r 10 python benchmarks/quality_per_minute.py dcgan wgan-gp lsgan --marks 1 2 5 10

For each model, one run of its CLI recipe is trained in stretches of wall time (``train(...,
minutes=...)``); at each mark, training pauses while 5,000 samples are drawn and scored with
benchmarks/score.py (Fréchet distance in the features of ganedu's Fashion-MNIST classifier
against the 10k test images, and the classes an independent classifier finds). Sampling and
scoring are not counted as training time. Rows go to ``benchmarks/results/quality_per_minute.json``.
Run it under ``chrt -r 10`` (or on an otherwise idle machine): PyTorch's CPU threads slow
down many-fold when another process competes for the cores.

``--step-marks 3100 7400`` pauses at generator steps instead of minutes: the quality another
CPU reaches in its ten minutes, reproduced here at its step count. A run to a step count does not
depend on the machine's speed or load, so such runs may share the cores (one thread each).
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
from machine import machine  # noqa: E402
from score import score_samples  # noqa: E402

from ganedu.files import atomic_write  # noqa: E402
from ganedu.models import RunConfig, build, spec  # noqa: E402
from ganedu.train import train  # noqa: E402


def run(model: str, marks: list[float], n: int, seed: int, options: dict | None = None,
        precision: str = "auto", by_steps: bool = False) -> list[dict]:  # fmt: skip
    """Train ``model`` to each mark (minutes, or generator steps with ``by_steps``), scoring at each."""
    batch = spec(model).batch_size  # the CLI's default batch for the model
    gan, data = build(RunConfig(model, batch_size=batch, seed=seed, device="cpu", precision=precision,
                                options=dict(options or {})))  # fmt: skip
    rows, trained = [], 0.0
    for mark in marks:
        start = time.monotonic()
        if by_steps:
            train(gan, data, steps=mark, batch_size=batch)
        else:
            train(gan, data, minutes=mark - trained, batch_size=batch)
        trained += (time.monotonic() - start) / 60
        scores = score_samples(gan.export(n, data, seed=seed)["images"])
        scores.pop("classes")
        row = {"model": model, **({"options": options} if options else {}), "seed": seed,
               "minutes": round(trained, 2) if by_steps else mark,
               **({"step_marks": True} if by_steps else {}),
               "steps": gan.step, "batch_size": batch, "precision": gan.precision,
               "threads": torch.get_num_threads(), **machine(), "date": date.today().isoformat(),
               **scores}  # fmt: skip
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+")
    marks = p.add_mutually_exclusive_group()
    marks.add_argument("--marks", type=float, nargs="+", default=[1, 2, 5, 10], help="minutes of training")
    marks.add_argument("--step-marks", type=int, nargs="+", help="generator steps, instead of minutes")
    p.add_argument("-n", type=int, default=5000, help="samples scored at each mark")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--option", nargs="*", default=[], help="KEY=VALUE options for every model of the run")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "quality_per_minute.json")
    args = p.parse_args()
    options = dict(kv.split("=", 1) for kv in args.option)
    for model in args.models:
        by_steps = args.step_marks is not None
        new = run(model, sorted(args.step_marks if by_steps else args.marks), args.n, args.seed, options,
                  args.precision, by_steps)  # fmt: skip
        # A rerun replaces its own rows only. The file is read just before it is written, and
        # replaced whole, so two runs can share it.
        rows = json.loads(args.out.read_text()) if args.out.is_file() else []
        rows = [r for r in rows if rerun_key(r) != rerun_key(new[0])] + new
        with atomic_write(args.out) as f:
            f.write((json.dumps(rows, indent=1) + "\n").encode())


def rerun_key(row: dict) -> tuple:
    """What a rerun shares with the rows it replaces: model, options, seed, precision, kind of mark."""
    return (row["model"], row.get("options"), row.get("seed", 0), row.get("precision"),
            row.get("step_marks", False))  # fmt: skip


if __name__ == "__main__":
    main()
