"""Start-up: how long the command line takes before it does useful work, and where that time goes.

    python benchmarks/startup.py --repeats 7                          # this tree
    python benchmarks/startup.py --before /path/to/old/tree           # before/after, alternated
    python benchmarks/startup.py --before OLD --vs-textbook           # 120 DCGAN steps, whole process
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 python benchmarks/startup.py --before OLD --vs-textbook

Every number is the median of ``--repeats`` fresh processes. With ``--before``, each command
runs under ``PYTHONPATH=OLD`` and under this tree in turn (old, new, old, new, ...), so both
see the same machine. Both trees share one cache folder (``XDG_CACHE_HOME``, a temporary
one), warmed by one untimed run of each command first: the rows are a returning user's
start-up; a first run after installing also decodes the dataset into the cache once.

- whole commands: ``import torch`` (the floor), ``train dcgan --steps 1`` (and, inside it, the
  time from the process's start to the end of the first step), ``sample -n 64``,
  ``eval -n 1000 --features classifier``, ``options``, ``doctor``, ``grading grade ex01_gan_basics``;
- ``parts``: a one-step run taken apart in one fresh process (import, data, probe, build,
  first step, a later step);
- ``imports``: per command, what ``-X importtime`` counts for the packages that matter
  (cumulative seconds of each top-level import);
- ``notebook``: a notebook's training cell in a fresh process whose ``ganedu`` is already
  imported: the cell's ``build(...)`` and ``train(...)`` to the end of the first step;
- ``warm``: the commands that import PyTorch once more, served by this tree's warm process
  (``ganedu/warm.py``: started by an untimed command first, as a learner's first command starts
  it), alternated with the cold runs; every other row runs cold (``GANEDU_WARM=0``). A warm
  ``train --steps 1`` is timed whole, an upper bound on its time to the first step;
- ``--vs-textbook``: 120 DCGAN steps at batch 64, whole process, against the textbook loop
  (``benchmarks/textbook.py``, always run from ``--before``'s tree or this one), alternated;
  under the AVX2 caps above it is the fp32 CPU's emulation, and the row says so.

Rows (with the CPU and its vector extensions, and any ISA cap) go to ``results/startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402

HERE = Path(__file__).resolve().parents[1]

# runs `python -m ganedu ARGS` and prints, on stderr, the wall-clock time its first step ended
FIRST_STEP = """
import runpy, sys, time
import ganedu.train as t
step, done = t._step, []
def first(*args):
    logs = step(*args)
    if not done:
        done.append(print(f"FIRST-STEP-AT {time.time()!r}", file=sys.stderr, flush=True))
    return logs
t._step = first
sys.argv = ["ganedu", *sys.argv[1:]]
runpy.run_module("ganedu", run_name="__main__")
"""

PARTS = """
import json, time
t = [time.perf_counter()]
from ganedu.models import RunConfig, build
from ganedu.train import train
from ganedu import runtime
import torch
t.append(time.perf_counter())
from ganedu.data import load_dataset
load_dataset("fashion-mnist", "train")
t.append(time.perf_counter())
runtime.resolve_precision("auto", torch.device("cpu"))
t.append(time.perf_counter())
gan, data = build(RunConfig("dcgan", device="cpu"))
t.append(time.perf_counter())
train(gan, data, steps=1, batch_size=64)
t.append(time.perf_counter())
train(gan, data, steps=2, batch_size=64)
t.append(time.perf_counter())
names = ["import", "data", "probe", "build", "first step", "later step"]
print(json.dumps({n: b - a for n, a, b in zip(names, t, t[1:])}))
"""

NOTEBOOK = """
import json, time
import ganedu, ganedu.models, ganedu.train, ganedu.callbacks  # the notebook's first cell
from ganedu.models import RunConfig, build
from ganedu.train import Callback, train

class FirstStep(Callback):
    def on_step(self, gan, logs):
        self.at = getattr(self, "at", time.perf_counter())

cell = time.perf_counter()  # the training cell
gan, data = build(RunConfig("dcgan", device="cpu"))
built = time.perf_counter()
first = FirstStep()
train(gan, data, steps=1, batch_size=64, callbacks=[first])
print(json.dumps({"cell to first step": first.at - cell, "build": built - cell, "first step": first.at - built}))
"""

TEXTBOOK = """
import sys
sys.path.insert(0, sys.argv[1])
from textbook import TextbookDCGAN
from ganedu.data import load_dataset
images, _ = load_dataset("fashion-mnist", "train")
TextbookDCGAN(images).train(steps=int(sys.argv[2]))
"""

IMPORTS = ("torch", "numpy", "ganedu", "scipy", "matplotlib", "torchvision", "PIL", "tqdm", "pytest", "sympy")


# the commands a warm process serves (ganedu.__main__.WARM_COMMANDS)
WARM = ("train dcgan --steps 1", "sample -n 64", "eval -n 1000 --features classifier", "doctor")


def env_for(tree: Path, cache: Path, warm: bool = False) -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(tree),
        "XDG_CACHE_HOME": str(cache),
        "GANEDU_WARM": str(int(warm)),
    }


def start_warm(tree: Path, cache: Path, argv: list[str]) -> None:
    """Run ``argv`` cold with the warm process allowed, which starts one; wait until it listens."""
    import socket

    timed(argv, env_for(tree, cache, warm=True), tree)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for path in (cache / "ganedu" / "warm").glob("*.sock"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                if probe.connect_ex(str(path)) == 0:
                    return
        time.sleep(0.2)
    raise SystemExit("the warm process did not start within 300 s")


def timed(argv: list[str], env: dict, cwd: Path) -> tuple[float, str]:
    """Seconds one command takes, start to exit, and its stderr; fails loudly if the command fails.

    ``doctor`` and ``grading grade`` exit with 1 when they report a problem (a missing download, an
    exercise still a stub): that is their work done, so only a traceback or another status fails.
    """
    start = time.perf_counter()
    done = subprocess.run(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    seconds = time.perf_counter() - start
    reported = (
        bool({"doctor", "grading"} & set(argv)) and done.returncode == 1 and "Traceback" not in done.stderr
    )
    if done.returncode != 0 and not reported:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    return seconds, done.stderr


def to_first_step(argv: list[str], env: dict, cwd: Path) -> float:
    """Seconds from starting ``python -m ganedu ARGS`` to the end of its first training step."""
    start = time.time()
    _, err = timed([sys.executable, "-c", FIRST_STEP, *argv], env, cwd)
    marker = "FIRST-STEP-AT "  # on a line of its own or after the progress bar's carriage return
    return float(err[err.index(marker) + len(marker) :].split()[0]) - start


def json_of(code: str, env: dict, cwd: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_seconds(argv: list[str], env: dict, cwd: Path) -> dict:
    """Cumulative ``-X importtime`` seconds of each of :data:`IMPORTS` a command imports."""
    _, err = timed([sys.executable, "-X", "importtime", *argv], env, cwd)
    found = {}
    for line in err.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
            if name in IMPORTS and cumulative.isdigit():
                found[name] = round(int(cumulative) / 1e6, 3)
    return found


def commands(tmp: Path, first: str) -> dict:
    """The commands timed, each a function of a suffix that keeps its run folders apart; ``sample``
    draws from the run the first tree's warm-up wrote."""
    py = sys.executable
    run, npz = tmp / "run", tmp / "s.npz"
    return {
        "import torch": lambda i: [py, "-c", "import torch"],
        "train dcgan --steps 1": lambda i: [py, "-m", "ganedu", "train", "dcgan", "--steps", "1", "--out", f"{run}{i}"],
        "sample -n 64": lambda i: [py, "-m", "ganedu", "sample", f"{run}w{first}", "-n", "64", "--out", str(npz)],
        "eval -n 1000 --features classifier": lambda i: [
            py, "-m", "ganedu", "eval", str(npz), "-n", "1000", "--features", "classifier"],
        "options": lambda i: [py, "-m", "ganedu", "options"],
        "doctor": lambda i: [py, "-m", "ganedu", "doctor"],
        "grading grade ex01_gan_basics": lambda i: [py, "-m", "ganedu", "grading", "grade", "ex01_gan_basics"],
    }  # fmt: skip


def startup(
    trees: dict[str, Path], repeats: int, tmp: Path, cache: Path, only: list[str], parts_too: bool
) -> dict:
    """Per tree: median seconds of every command (or those in ``only``), imports, and where ``parts_too``
    the parts of a one-step run, the time to its first step and the notebook cell."""
    cmds = commands(tmp, next(iter(trees)))
    timed_cmds = {name: argv for name, argv in cmds.items() if not only or name in only}
    results = {label: {"seconds": {}, "parts": {}, "imports": {}, "notebook": {}} for label in trees}
    for label, tree in trees.items():  # untimed: the caches filled, the run to sample from written
        env = env_for(tree, cache)
        timed(cmds["train dcgan --steps 1"](f"w{label}"), env, tree)
        for name in ("sample -n 64", "eval -n 1000 --features classifier"):
            timed(cmds[name](label), env, tree)
    last, newest = list(trees.items())[-1]
    warm = f"{last} warm" if (newest / "ganedu" / "warm.py").is_file() else None
    if warm:
        results[warm] = {"seconds": {}}
        start_warm(newest, cache, cmds["sample -n 64"](last))
    try:
        for name, argv in timed_cmds.items():
            arms = {label: (tree, False) for label, tree in trees.items()}
            if warm and name in WARM:
                arms[warm] = (newest, True)
            times = {label: [] for label in arms}
            for i in range(repeats):
                for label, (tree, served) in arms.items():
                    env = env_for(tree, cache, warm=served)
                    times[label].append(timed(argv(f"{label.replace(' ', '')}{i}"), env, tree)[0])
            for label in arms:
                results[label]["seconds"][name] = round(statistics.median(times[label]), 2)
            for label in trees:
                results[label]["imports"][name] = import_seconds(argv(f"{label}x")[1:], env_for(trees[label], cache), trees[label])  # fmt: skip
            print(f"{name:38s}", "  ".join(f"{label} {results[label]['seconds'][name]:6.2f} s" for label in arms), flush=True)  # fmt: skip
    finally:
        if warm:
            timed([sys.executable, "-m", "ganedu", "warm", "stop"], env_for(newest, cache), newest)
    if not parts_too:
        return results
    firsts, parts, cells = ({label: [] for label in trees} for _ in range(3))
    for i in range(repeats):
        for label, tree in trees.items():
            env = env_for(tree, cache)
            argv = ["train", "dcgan", "--steps", "1", "--out", str(tmp / f"first-{label}{i}")]
            firsts[label].append(to_first_step(argv, env, tree))
            parts[label].append(json_of(PARTS, env, tree))
            cells[label].append(json_of(NOTEBOOK, env, tree))
    for label in trees:
        results[label]["seconds"]["train --steps 1 to the first step"] = round(
            statistics.median(firsts[label]), 2
        )
        for key in parts[label][0]:
            results[label]["parts"][key] = round(statistics.median(p[key] for p in parts[label]), 3)
        for key in cells[label][0]:
            results[label]["notebook"][key] = round(statistics.median(c[key] for c in cells[label]), 3)
        print(label, json.dumps({k: results[label][k] for k in ("parts", "notebook")}), flush=True)
        print(
            label,
            "to the first step",
            results[label]["seconds"]["train --steps 1 to the first step"],
            flush=True,
        )
    return results


def vs_textbook(
    trees: dict[str, Path], repeats: int, steps: int, tmp: Path, cache: Path, ganedu_of: list[str]
) -> dict:
    """Whole-process seconds of ``steps`` DCGAN steps: the textbook loop and ganedu of each tree (of those
    in ``ganedu_of``, when given), alternated."""
    baseline_tree = next(iter(trees.values()))  # the textbook loop always runs on the first tree's code
    arms = {
        "textbook": ([sys.executable, "-c", TEXTBOOK, str(Path(__file__).parent), str(steps)], baseline_tree)
    }
    for label, tree in trees.items():
        if ganedu_of and label not in ganedu_of:
            continue
        arms[f"ganedu ({label})"] = (
            [sys.executable, "-m", "ganedu", "train", "dcgan", "--steps", str(steps)],
            tree,
        )
    for label, tree in trees.items():  # untimed: the caches filled
        timed([sys.executable, "-m", "ganedu", "train", "dcgan", "--steps", "1", "--out", str(tmp / f"warm{label}")],
              env_for(tree, cache), tree)  # fmt: skip
    times = {arm: [] for arm in arms}
    for i in range(repeats):
        for arm, (argv, tree) in arms.items():
            extra = ["--out", str(tmp / f"{arm.replace(' ', '')}{i}")] if arm != "textbook" else []
            times[arm].append(round(timed([*argv, *extra], env_for(tree, cache), tree)[0], 2))
            print(f"{arm:20s} {times[arm][-1]:6.2f} s", flush=True)
    medians = {arm: round(statistics.median(t), 2) for arm, t in times.items()}
    ratios = {arm: round(medians["textbook"] / m, 2) for arm, m in medians.items() if arm != "textbook"}
    print(json.dumps({"medians": medians, "speed-up over textbook": ratios}), flush=True)
    return {
        "steps": steps,
        "batch_size": 64,
        "seconds": times,
        "medians": medians,
        "speed-up over textbook": ratios,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--before", type=Path, help="a tree of older ganedu code to alternate with this one")
    p.add_argument("--vs-textbook", action="store_true", help="120 DCGAN steps against the textbook loop")
    p.add_argument("--steps", type=int, default=120)
    p.add_argument("--only", nargs="*", default=[], help="time only these commands (names as printed)")
    p.add_argument("--no-parts", action="store_true", help="skip the parts, first step and notebook cell")
    p.add_argument("--ganedu-of", nargs="*", default=[], help="--vs-textbook: run ganedu of these trees only")
    p.add_argument("--note", default="", help="what the row measures (e.g. the commits compared)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "startup.json")
    args = p.parse_args()
    trees = {"before": args.before.resolve(), "after": HERE} if args.before else {"this tree": HERE}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        cache = tmp / "cache"
        if args.vs_textbook:
            result = {"vs textbook": vs_textbook(trees, args.repeats, args.steps, tmp, cache, args.ganedu_of)}
        else:
            result = startup(trees, args.repeats, tmp, cache, args.only, not args.no_parts)
    stamp = {"date": date.today().isoformat(), **machine(), "repeats": args.repeats, "note": args.note}
    append_rows(args.out, [{**stamp, **result}])


if __name__ == "__main__":
    main()
