"""Training throughput on the CPU: ganedu's DCGAN step against the textbook loop, alternated.

    python benchmarks/throughput.py                         # 5 rounds of 30 s each, precision auto
    python benchmarks/throughput.py --precision fp32 --threads 2
    python benchmarks/throughput.py --compile               # torch.compile ganedu's G and D
    python benchmarks/throughput.py --seconds 2 --rounds 1 --warmup 1   # a smoke test

Both train the same 32x32 DCGAN (``ganedu.nets.dcgan``, nz = 100, ngf = ndf = 64) on
Fashion-MNIST padded to 32x32 with the same batch (64):

* **ganedu**: ``ganedu.train.train`` running ``GAN.train_step`` of the ``dcgan`` recipe:
  batches indexed out of a uint8 tensor (``ImageBatches``), logits and softplus losses,
  ``zero_grad(set_to_none=True)``, fused Adam, the EMA of G, channels_last, and ``--precision``
  (``auto`` = bf16 autocast where the CPU has native bf16, else fp32).
  ``--compile`` wraps G's and D's forward in ``torch.compile`` (the DCGAN takes no gradient
  penalty, so no double backward goes through compiled code).
* **textbook**: ``benchmarks/textbook.py``: a per-sample ``Dataset`` with PIL transforms
  behind a ``DataLoader`` (``--workers`` processes), ``Sigmoid`` + ``BCELoss``, ``zero_grad()``,
  fp32. Its workers are kept alive between rounds (``persistent_workers``), so alternating
  short rounds does not charge it a worker start-up every round; a continuous run pays one
  per epoch (937 steps).

After a warm-up of each, the two run in turn, A B A B ..., ``--rounds`` times for ``--seconds``
each, so that a change in the machine's load hits both alike. Reported: images/s (real images
per second = steps x batch / s) of every round, the medians, and ganedu / textbook. Prints a
markdown table row and appends a JSON row to ``benchmarks/results/throughput.json``.
PyTorch's OpenMP threads slow down sharply when another process takes a core: run it on an
otherwise idle machine (or as in benchmarks/README.md, under ``chrt -r 10``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402
from textbook import PerSampleDataset, TextbookDCGAN  # noqa: E402

from ganedu.data import load_dataset  # noqa: E402
from ganedu.models import RunConfig, build  # noqa: E402
from ganedu.train import train  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "throughput.json"


class Ganedu:
    """The ``dcgan`` recipe on the CPU, trained ``seconds`` at a time."""

    name = "ganedu"

    def __init__(self, batch_size: int, precision: str, compile: bool, seed: int):
        config = RunConfig("dcgan", batch_size=batch_size, seed=seed, device="cpu", precision=precision)
        self.gan, self.data = build(config)
        self.batch_size = batch_size
        if compile:
            for net in (self.gan.G, self.gan.D):
                net.compile()  # compiles the module's forward; weights and state_dict keys stay as they are

    @property
    def precision(self) -> str:
        return self.gan.precision

    def run(self, seconds: float) -> tuple[int, float]:
        """Train for ``seconds``; return (real images seen, elapsed seconds)."""
        before, start = self.gan.step, time.perf_counter()
        train(self.gan, self.data, minutes=seconds / 60, batch_size=self.batch_size)
        return (self.gan.step - before) * self.batch_size, time.perf_counter() - start


class Textbook:
    """benchmarks/textbook.py with its DataLoader workers kept between rounds."""

    name = "textbook"

    def __init__(self, images: torch.Tensor, batch_size: int, workers: int, seed: int):
        self.model = TextbookDCGAN(images, batch_size=batch_size, workers=workers, seed=seed)
        self.model.loader = torch.utils.data.DataLoader(
            PerSampleDataset(images),
            batch_size=batch_size,
            shuffle=True,
            num_workers=workers,
            drop_last=True,
            persistent_workers=workers > 0,
        )

    def run(self, seconds: float) -> tuple[int, float]:
        start = time.perf_counter()
        images = self.model.train(minutes=seconds / 60)
        return images, time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=30.0, help="length of each measured round")
    p.add_argument("--rounds", type=int, default=5, help="rounds of each loop, alternated")
    p.add_argument("--warmup", type=float, default=10.0, help="seconds of each loop before measuring")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"], help="ganedu's precision")
    p.add_argument("--compile", action="store_true", help="torch.compile ganedu's G and D forward")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's)")
    p.add_argument("--workers", type=int, default=2, help="the textbook DataLoader's worker processes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=RESULTS, help="JSON file the row is appended to")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    images, _ = load_dataset("fashion-mnist", "train")
    loops = [
        Ganedu(args.batch_size, args.precision, args.compile, args.seed),
        Textbook(images, args.batch_size, args.workers, args.seed),
    ]
    for loop in loops:
        print(f"warm-up {loop.name} ({args.warmup:g} s)", file=sys.stderr)
        loop.run(args.warmup)
    rates: dict[str, list[float]] = {loop.name: [] for loop in loops}
    for i in range(args.rounds):
        for loop in loops:
            seen, elapsed = loop.run(args.seconds)
            rates[loop.name].append(seen / elapsed)
            print(f"round {i + 1}/{args.rounds} {loop.name}: {seen / elapsed:.1f} images/s", file=sys.stderr)

    median = {name: statistics.median(r) for name, r in rates.items()}
    ratio = median["ganedu"] / median["textbook"] if median["textbook"] else float("nan")
    row = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": "DCGAN 32x32, nz=100, ngf=ndf=64, Fashion-MNIST",
        "batch_size": args.batch_size,
        "ganedu_precision": loops[0].precision,
        "compile": args.compile,
        "threads": torch.get_num_threads(),
        "textbook_workers": args.workers,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "ganedu_images_per_s": [round(r, 1) for r in rates["ganedu"]],
        "textbook_images_per_s": [round(r, 1) for r in rates["textbook"]],
        "ganedu_median": round(median["ganedu"], 1),
        "textbook_median": round(median["textbook"], 1),
        "ratio": round(ratio, 3),
        "torch": torch.__version__,
        **machine(),  # cpu, extensions, cores, isa_caps if any
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "load_avg": round(os.getloadavg()[0], 2),
    }
    append_rows(args.out, [row], indent=2)
    print("| precision | compile | threads | ganedu images/s | textbook images/s | ganedu / textbook |")
    print("|---|---|---:|---:|---:|---:|")
    print(
        f"| {row['ganedu_precision']} | {'yes' if args.compile else 'no'} | {row['threads']} "
        f"| {row['ganedu_median']:,.0f} | {row['textbook_median']:,.0f} | {ratio:.2f}x |"
    )
    print(f"row appended to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
