"""Training speed with instance normalisation as GroupNorm(C, C) against nn.InstanceNorm2d.

    chrt -r 10 python benchmarks/instance_norm_speed.py cyclegan --batch-size 8
    chrt -r 10 python benchmarks/instance_norm_speed.py wgan-gp --option norm=instance

``ganedu.nets.layers.InstanceNorm`` is instance normalisation as ``GroupNorm(C, C)`` (computed
in fp32 when its input is bf16): the function and the parameters of
``nn.InstanceNorm2d(C, affine=True)``. This script builds the
model twice (same seed, same weights), puts ``nn.InstanceNorm2d`` back into the second copy,
warms both up for 8 steps, and alternates them ``--rounds`` times for ``--steps`` generator steps
each; a form's steps/s is the median of its rounds. Rows, with the CPU and its vector
extensions, go to ``benchmarks/results/instance_norm_speed.json``. Run it on an idle machine.
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
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402

from ganedu.models import RunConfig, build  # noqa: E402
from ganedu.train import train  # noqa: E402


def is_instance_norm(module: nn.Module) -> bool:
    """A GroupNorm with one group per channel (ganedu's InstanceNorm, or a plain GroupNorm(C, C))."""
    return isinstance(module, nn.GroupNorm) and module.num_groups == module.num_channels


def to_instancenorm2d(module: nn.Module) -> None:
    """Replace every GroupNorm(C, C) inside ``module`` by nn.InstanceNorm2d(C, affine=True), in place,
    keeping its parameters (the same tensors, so the optimizer still updates them)."""
    for name, child in module.named_children():
        if is_instance_norm(child):
            norm = nn.InstanceNorm2d(child.num_channels, eps=child.eps, affine=True)
            norm.weight, norm.bias = child.weight, child.bias
            setattr(module, name, norm)
        else:
            to_instancenorm2d(child)


def instance_norm_speed(model: str, options: dict[str, str], rounds: int, steps: int, precision: str,
                        batch_size: int) -> list[dict]:  # fmt: skip
    """Median steps/s of the model as built and with nn.InstanceNorm2d put back, alternated."""
    runs = {}
    for form in ("GroupNorm(C, C)", "nn.InstanceNorm2d"):  # ganedu's InstanceNorm is the former
        gan, data = build(RunConfig(model, batch_size=batch_size, seed=0, device="cpu", precision=precision,
                                    options=options))  # fmt: skip
        swapped = sum(is_instance_norm(m) for net in (gan.G, gan.D) for m in net.modules())
        if swapped == 0:
            raise SystemExit(f"{model} with {options} has no instance normalisation to compare")
        if form == "nn.InstanceNorm2d":
            to_instancenorm2d(gan.G)
            to_instancenorm2d(gan.D)
        train(gan, data, steps=8, batch_size=batch_size)  # warm-up
        runs[form] = (gan, data, [], swapped)
    for _ in range(rounds):
        for gan, data, rates, _ in runs.values():
            first, start = gan.step, time.perf_counter()
            train(gan, data, steps=first + steps, batch_size=batch_size)
            rates.append(steps / (time.perf_counter() - start))
    return [{"model": model, "options": options, "form": form, "layers": swapped,
             "precision": gan.precision, "batch_size": batch_size,
             "steps_per_s": round(statistics.median(rates), 2), "rounds": [round(r, 2) for r in rates]}
            for form, (gan, _, rates, swapped) in runs.items()]  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--precision", default="fp32", choices=["auto", "fp32", "bf16"])
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "instance_norm_speed.json")
    args = p.parse_args()
    options = dict(item.split("=", 1) for item in args.option)
    stamp = {"date": date.today().isoformat(), "threads": torch.get_num_threads(), **machine()}
    rows = [{**row, **stamp} for row in instance_norm_speed(args.model, options, args.rounds, args.steps,
                                                             args.precision, args.batch_size)]  # fmt: skip
    for row in rows:
        print(json.dumps(row), flush=True)
    append_rows(args.out, rows)


if __name__ == "__main__":
    main()
