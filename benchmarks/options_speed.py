"""Training speed of one CLI model under several option sets, alternated in one process.

    chrt -r 10 python benchmarks/options_speed.py wgan-gp --variants "" mbstd=4 gp_every=8 --precision fp32

Each variant (space-separated ``KEY=VALUE`` options; ``""`` is the recipe's defaults) is built
once (``RunConfig(model, options=...)``, Fashion-MNIST, batch 64) and warmed up for 8 steps.
Then the variants take turns, ``--rounds`` times, each training ``--steps`` generator steps with
``ganedu.train.train``; a variant's steps/s is the median of its rounds. Alternating spreads a
machine's drift (clock, another process) over every variant instead of charging it to the one
that ran last. Rows, with the CPU and its vector extensions, go to
``benchmarks/results/options_speed.json``. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402

from ganedu.models import RunConfig, build  # noqa: E402
from ganedu.train import train  # noqa: E402


def parse_variant(text: str) -> dict[str, str]:
    """``"mbstd=4 gp_every=8"`` -> ``{"mbstd": "4", "gp_every": "8"}``; ``""`` -> ``{}``."""
    return dict(item.split("=", 1) for item in text.split())


def options_speed(model: str, variants: list[str], rounds: int, steps: int, precision: str,
                  batch_size: int = 64) -> list[dict]:  # fmt: skip
    """Median steps/s of each variant over ``rounds`` alternated stretches of ``steps`` steps."""
    runs = {}
    for text in variants:
        gan, data = build(RunConfig(model, batch_size=batch_size, seed=0, device="cpu", precision=precision,
                                    options=parse_variant(text)))  # fmt: skip
        train(gan, data, steps=8, batch_size=batch_size)  # warm-up
        runs[text] = (gan, data, [])
    for _ in range(rounds):
        for gan, data, rates in runs.values():
            first, start = gan.step, time.perf_counter()
            train(gan, data, steps=first + steps, batch_size=batch_size)
            rates.append(steps / (time.perf_counter() - start))
    return [{"model": model, "options": parse_variant(text), "precision": gan.precision,
             "batch_size": batch_size, "steps_per_s": round(statistics.median(rates), 2),
             "rounds": [round(r, 2) for r in rates]} for text, (gan, _, rates) in runs.items()]  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("--variants", nargs="+", required=True, help='option sets, e.g. "" "mbstd=4 gp_every=8"')
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=48)
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    p.add_argument("--note", default="", help="recorded with every row (e.g. which code was measured)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "options_speed.json")
    args = p.parse_args()
    stamp = {"date": date.today().isoformat(), "threads": torch.get_num_threads(), **machine(),
             **({"note": args.note} if args.note else {})}  # fmt: skip
    rows = [{**row, **stamp} for row in options_speed(args.model, args.variants, args.rounds, args.steps,
                                                       args.precision)]  # fmt: skip
    for row in rows:
        print(json.dumps(row), flush=True)
    append_rows(args.out, rows)


if __name__ == "__main__":
    main()
