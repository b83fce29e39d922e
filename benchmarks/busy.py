"""Training speed on a busy machine: PyTorch's thread settings with and without a competing process.

    python benchmarks/busy.py                 # 3 rounds of 15 s per setting
    python benchmarks/busy.py --seconds 3 --rounds 1   # a smoke test

A learner's laptop is rarely idle: a browser or a second notebook takes a core. PyTorch's CPU
kernels split each operation over its OpenMP threads (one per core by default) and wait at a
barrier for the slowest; when another process holds one of the cores, one thread runs at a
fraction of its speed and every operation waits for it. This script measures the ``dcgan``
recipe (batch 64, fp32) in a fresh process per setting (the OpenMP settings are read at start):

* threads: 2 (PyTorch's default here, one per core) or 1 (``torch.set_num_threads(1)``);
* OpenMP wait policy: libgomp's default (spin, then sleep) or ``OMP_WAIT_POLICY=PASSIVE``;
* adapt: ``train``'s thread governor (``ganedu.threads``, the default since it was written),
  which drops to the cores other processes leave free, or fixed threads (``adapt_threads=False``);
* competitor: none, or one CPU-bound Python process (``while True: pass``) started before
  the measurement and killed after it; ``--load 0.5`` makes it spin half of every 10 ms and
  sleep the rest (a video in a browser tab rather than a runaway script).

Each setting runs ``--rounds`` times, the settings alternated within a round, and reports the
median images/s. The goal: with one busy core, training keeps at least half of what one
thread reaches on an idle core. Rows go to ``benchmarks/results/busy.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402

SETTINGS = [
    {"threads": 2, "wait": "default", "adapt": False},
    {"threads": 2, "wait": "passive", "adapt": False},
    {"threads": 1, "wait": "default", "adapt": False},
    {"threads": 2, "wait": "default", "adapt": True},
]

CHILD = """
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
from ganedu.models import RunConfig, build
from ganedu.train import train
gan, data = build(RunConfig("dcgan", device="cpu", precision="fp32"))
adapt = sys.argv[3] == "True"
train(gan, data, steps=5, batch_size=64, adapt_threads=adapt)
before, start = gan.step, time.perf_counter()
train(gan, data, minutes=float(sys.argv[2]) / 60, batch_size=64, adapt_threads=adapt)
print((gan.step - before) * 64 / (time.perf_counter() - start))
"""


SPIN = """
import sys, time
on = 0.01 * float(sys.argv[1])
while True:
    t = time.perf_counter()
    while time.perf_counter() - t < on:
        pass
    if on < 0.01:
        time.sleep(0.01 - on)
"""


def measure(threads: int, wait: str, adapt: bool, seconds: float, load: float) -> float:
    """images/s of the dcgan recipe in a fresh process under one setting, beside a competitor taking
    ``load`` of a core (none at 0)."""
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    env.pop("OMP_NUM_THREADS", None)  # it would switch the governor off
    if wait == "passive":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    competitor = subprocess.Popen([sys.executable, "-c", SPIN, str(load)]) if load > 0 else None
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, str(threads), str(seconds), str(adapt)], env=env,
                             capture_output=True, text=True, check=True)  # fmt: skip
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--load", type=float, default=1.0, help="the competitor's share of its core, 0 to 1")
    p.add_argument("--settings", type=int, nargs="+", help="indices into SETTINGS (default: all)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "busy.json")
    args = p.parse_args()
    chosen = [SETTINGS[i] for i in args.settings] if args.settings else SETTINGS
    cases = [
        {**s, "competitor": busy, "load": args.load if busy else 0.0}
        for busy in (False, True)
        for s in chosen
    ]
    speeds: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    for _ in range(args.rounds):
        for i, case in enumerate(cases):
            speeds[i].append(
                measure(case["threads"], case["wait"], case["adapt"], args.seconds, case["load"])
            )
            time.sleep(1)
    stamp = {"date": date.today().isoformat(), "seconds": args.seconds, **machine()}
    rows = []
    for i, case in enumerate(cases):
        rows.append({**case, "images_per_s": round(statistics.median(speeds[i]), 1),
                     "rounds": [round(v, 1) for v in speeds[i]], **stamp})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    append_rows(args.out, rows)


if __name__ == "__main__":
    main()
