"""Start-up: how long the command line takes before it does useful work.

    python benchmarks/startup.py --repeats 5

Each row is the median of ``--repeats`` fresh processes (a fresh interpreter each time, the
dataset files already in the OS page cache after the first):

- ``import torch``: the floor every command pays.
- ``ganedu --help``: the CLI's own imports.
- ``train dcgan --steps 1``: the whole process of a one-step run, checkpoint included; and,
  measured inside one fresh process, its phases: importing ganedu's training code, building the
  model and loading the data, the first step (warm-up), and a later step for comparison.
- ``sample -n 1000`` from that run and ``eval`` of those samples (classifier features, 1,000
  real images): both should start in about the time of ``import torch``.

Rows (with the CPU and its vector extensions) go to ``benchmarks/results/startup.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402

PHASES = """
import json, time
t0 = time.perf_counter()
from ganedu.models import RunConfig, build
from ganedu.train import train
t1 = time.perf_counter()
gan, data = build(RunConfig("dcgan", device="cpu"))
t2 = time.perf_counter()
train(gan, data, steps=1, batch_size=64)
t3 = time.perf_counter()
train(gan, data, steps=2, batch_size=64)
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "build + data": t2 - t1, "first step": t3 - t2, "later step": t4 - t3}))
"""


def wall(argv: list[str]) -> float:
    """Seconds one command takes, start to exit; fails loudly if the command fails."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "startup.json")
    args = p.parse_args()
    py, cli = sys.executable, [sys.executable, "-m", "ganedu"]
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        run, npz = Path(tmp) / "run", Path(tmp) / "s.npz"
        commands = {
            "import torch": lambda i: [py, "-c", "import torch"],
            "ganedu --help": lambda i: [*cli, "--help"],
            "train dcgan --steps 1": lambda i: [*cli, "train", "dcgan", "--steps", "1", "--out", f"{run}{i}"],
            "sample -n 1000": lambda i: [*cli, "sample", f"{run}0", "-n", "1000", "--out", str(npz)],
            "eval -n 1000": lambda i: [*cli, "eval", str(npz), "-n", "1000"],
        }
        for name, argv in commands.items():
            times = [wall(argv(i)) for i in range(args.repeats)]
            rows[name] = round(statistics.median(times), 2)
            print(f"{name:28s} {rows[name]:6.2f} s", flush=True)
        phases = [json.loads(subprocess.run([py, "-c", PHASES], check=True, capture_output=True, text=True).stdout)
                  for _ in range(args.repeats)]  # fmt: skip
        for key in phases[0]:
            rows[f"train: {key}"] = round(statistics.median(p[key] for p in phases), 2)
            print(f"{'train: ' + key:28s} {rows[f'train: {key}']:6.2f} s", flush=True)
    stamp = {"date": date.today().isoformat(), **machine(), "repeats": args.repeats}
    append_rows(args.out, [{**stamp, "seconds": rows}])


if __name__ == "__main__":
    main()
