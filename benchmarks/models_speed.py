"""Every CLI model's training speed on this CPU, and the share of the CPU's matmul peak it reaches.

    python benchmarks/models_speed.py                       # all models, 20 s each, precision auto
    python benchmarks/models_speed.py dcgan wgan-gp --seconds 5 --precision fp32

The peaks are measured first: ``torch.mm`` of two 2048×2048 matrices, fp32 and bf16, on all of
PyTorch's threads, repeated for 3 s each (2·n³ floating-point operations each); a model's share
is of the peak of the precision it trains in. Then, for each model, its CLI
recipe (``python -m ganedu train MODEL``, Fashion-MNIST) is built at ``--batch-size`` (64 for
every model, so the rows compare; the CLI's own default is 8 for cyclegan, 32 for stylegan),
warmed up for 3 steps, and trained for ``--seconds`` of wall time by ``ganedu.train.train``. The floating-point
operations of one training step (forward, backward and any double backward of a penalty;
convolutions and matrix products) are counted over 16 steps with ``torch.utils.flop_counter``'s
formulas and averaged, so a penalty taken every k-th step counts at its rate;
GFLOP/s = GFLOP per step × steps/s, and the share of the peak is GFLOP/s over the peak. A step
is one ``train_step``: a model with several D steps per G step (``n_critic``; 1 in every default recipe) counts all of
them in its step, and its images/s (steps × batch / s) counts one batch per generator step.

Rows (with the CPU and its vector extensions) go to ``benchmarks/results/models_speed.json``.
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
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402

from ganedu.models import MODELS, RunConfig, build  # noqa: E402
from ganedu.train import train  # noqa: E402

FLOP_STEPS = 16  # lazy penalties: WGAN-GP's every 4th step (gp_every), StyleGAN's R1 every 16th


def matmul_peak(n: int = 2048, seconds: float = 3.0, dtype: torch.dtype = torch.float32) -> float:
    """GFLOP/s of ``torch.mm`` (n×n by n×n, ``dtype``) on the current threads, best of ~``seconds``."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    torch.mm(a, b)  # warm-up
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


class CountFlops(TorchDispatchMode):
    """Counts the floating-point operations of the convolutions and matrix products run under it.

    The formulas are PyTorch's own (``torch.utils.flop_counter.flop_registry``). Unlike
    ``FlopCounterMode`` it tracks no modules, so it also works through the double backward of
    ``torch.autograd.grad(..., create_graph=True)`` (R1, R2, the gradient penalty).
    """

    def __init__(self):
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


def model_speed(model: str, seconds: float, precision: str, batch_size: int) -> dict:
    gan, data = build(RunConfig(model, batch_size=batch_size, device="cpu", precision=precision))
    train(gan, data, steps=3, batch_size=batch_size)  # warm-up (allocator, autocast caches)
    with CountFlops() as counter:  # over 16 steps, so penalties taken every k-th step count at their rate
        for _ in range(FLOP_STEPS):
            gan.train_step(data, batch_size)
    gflop = counter.total / FLOP_STEPS / 1e9
    before, start = gan.step, time.perf_counter()
    train(gan, data, minutes=seconds / 60, batch_size=batch_size)
    elapsed, steps = time.perf_counter() - start, gan.step - before
    return {"model": model, "precision": gan.precision, "batch_size": batch_size,
            "steps_per_s": round(steps / elapsed, 2), "images_per_s": round(steps * batch_size / elapsed, 1),
            "gflop_per_step": round(gflop, 2), "gflop_per_s": round(gflop * steps / elapsed, 1)}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", default=[m for m in MODELS if m != "gan"])
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "models_speed.json")
    args = p.parse_args()
    peaks = {"fp32": matmul_peak(), "bf16": matmul_peak(dtype=torch.bfloat16)}
    stamp = {"date": date.today().isoformat(), "threads": torch.get_num_threads(),
             "matmul_peak_gflop_s": round(peaks["fp32"], 1),
             "bf16_matmul_peak_gflop_s": round(peaks["bf16"], 1), **machine()}  # fmt: skip
    print(json.dumps(stamp), flush=True)
    rows = []
    for model in args.models:
        row = model_speed(model, args.seconds, args.precision, args.batch_size)
        row["share_of_peak"] = round(row["gflop_per_s"] / peaks[row["precision"]], 3)  # of its precision's
        rows.append({**row, **stamp})
        print(json.dumps(row), flush=True)
    append_rows(args.out, rows)


if __name__ == "__main__":
    main()
