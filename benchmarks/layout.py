"""channels_last against the default NCHW layout on this CPU, per CLI model, alternated.

    python benchmarks/layout.py                                  # the default models, fp32, 4 rounds of 10 s
    python benchmarks/layout.py dcgan stylegan --precision bf16 --rounds 3
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 python benchmarks/layout.py   # as a CPU without AVX-512

For each model, two bundles of its CLI recipe are built with the same seed (``--batch-size`` 64,
so the rows compare): one as ganedu builds it on a CPU, every network in channels_last (NHWC)
and every real batch converted to it, and one turned back to the NCHW layout
(``gan.use_layout(channels_last=False)``). After a warm-up of each, the two
train in turn, A B A B, ``--rounds`` times for ``--seconds`` each, so a change in the machine's
load hits both alike. Reported: the median images/s (steps × batch / s) of each and their ratio.

The environment caps ``ONEDNN_MAX_CPU_ISA`` and ``ATEN_CPU_CAPABILITY`` make oneDNN and
PyTorch use AVX2 kernels on a CPU that has AVX-512: an emulation of a CPU without it (same
cores and caches), recorded in the row as ``isa_caps``.

Rows (with the CPU and its vector extensions) are appended to ``benchmarks/results/layout.json``.
Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402

from ganedu.models import RunConfig, build  # noqa: E402

MODELS = ("dcgan", "cgan", "lsgan", "wgan-gp", "r3gan", "stylegan", "cyclegan")


def rate(gan, data, batch_size: int, seconds: float) -> float:
    """Images per second of ``gan.train_step`` over ``seconds`` of wall time."""
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        gan.train_step(data, batch_size)
        steps += 1
    return steps * batch_size / (time.perf_counter() - start)


def compare(model: str, precision: str, batch_size: int, seconds: float, rounds: int) -> dict:
    bundles = {}
    for layout in ("channels_last", "nchw"):
        gan, data = build(RunConfig(model, batch_size=batch_size, device="cpu", precision=precision, seed=0))
        if layout == "nchw":
            gan.use_layout(channels_last=False)
        for _ in range(3):  # warm-up: oneDNN picks and caches its kernels
            gan.train_step(data, batch_size)
        bundles[layout] = (gan, data)
    rates = {layout: [] for layout in bundles}
    for _ in range(rounds):
        for layout, (gan, data) in bundles.items():
            rates[layout].append(rate(gan, data, batch_size, seconds))
    median = {layout: statistics.median(r) for layout, r in rates.items()}
    return {
        "model": model,
        "precision": bundles["nchw"][0].precision,
        "batch_size": batch_size,
        "channels_last_images_per_s": round(median["channels_last"], 1),
        "nchw_images_per_s": round(median["nchw"], 1),
        "ratio": round(median["channels_last"] / median["nchw"], 3),
        "rounds": {layout: [round(r, 1) for r in rs] for layout, rs in rates.items()},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", default=list(MODELS))
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "auto"])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seconds", type=float, default=10.0, help="length of each measured round")
    p.add_argument("--rounds", type=int, default=4, help="rounds of each layout, alternated")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "layout.json")
    args = p.parse_args()
    stamp = {"date": date.today().isoformat(), "threads": torch.get_num_threads(), **machine()}
    print("| model | precision | channels_last images/s | NCHW images/s | ratio |")
    print("|---|---|---:|---:|---:|")
    rows = []
    for model in args.models:
        row = {**compare(model, args.precision, args.batch_size, args.seconds, args.rounds), **stamp}
        rows.append(row)
        print(f"| {model} | {row['precision']} | {row['channels_last_images_per_s']:,.0f} "
              f"| {row['nchw_images_per_s']:,.0f} | {row['ratio']:.2f}× |", flush=True)  # fmt: skip
    append_rows(args.out, rows)


if __name__ == "__main__":
    main()
