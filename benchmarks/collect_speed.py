"""Grading a class: submissions per minute of ``python -m ganedu grading collect`` on this machine.

    python benchmarks/collect_speed.py --students 8 [--jobs N] [--chapters ex01_gan_basics ...]

A synthetic class: every fourth student submits the stubs (a student who did nothing: every
test fails fast), the others the reference solutions (every test runs to the end, the slower
case), each a folder of ``exercises/exNN_*.py``. It is graded by the real command line, in the
sandbox when bubblewrap is there, with the default per-chapter memory limit and, unless
``--jobs`` says otherwise, the default number of students at a time. The row records the wall
time, submissions per minute and the time a 100-student class would take at that rate (an
extrapolation: the same per-student cost, the same machine, nothing else running).

Rows (with the CPU and its vector extensions) go to ``benchmarks/results/collect_speed.json``.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def make_class(folder: Path, students: int, chapters: list[str]) -> None:
    """``folder/hw-sNN/exercises/<chapter>.py``: stubs for every fourth student, else solutions."""
    for i in range(students):
        source = "exercises" if i % 4 == 3 else "solutions"
        work = folder / f"hw-s{i:02d}" / "exercises"
        work.mkdir(parents=True)
        for name in chapters:
            shutil.copyfile(ROOT / source / f"{name}.py", work / f"{name}.py")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=8)
    p.add_argument("--jobs", type=int, default=None, help="default: collect's own (from cores and memory)")
    p.add_argument("--chapters", nargs="+", default=None, help="default: every chapter")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "collect_speed.json")
    args = p.parse_args()
    chapters = args.chapters or sorted(f.stem for f in (ROOT / "solutions").glob("ex[0-9][0-9]_*.py"))
    with tempfile.TemporaryDirectory(prefix="collect-speed-") as tmp:
        subs, grades = Path(tmp) / "submissions", Path(tmp) / "grades"
        make_class(subs, args.students, chapters)
        command = [sys.executable, "-m", "ganedu", "grading", "collect", str(subs), "--out", str(grades)]
        command += ["--chapters", *chapters, *(["--jobs", str(args.jobs)] if args.jobs else [])]
        start = time.perf_counter()
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - start
        header = run.stdout.splitlines()[0 if "warning" not in run.stdout.splitlines()[0] else 1]
        jobs = int(re.search(r"(\d+) at a time", header).group(1))
        sandbox = re.search(r"sandbox: ([^)]*)\)", header).group(1)
        summary = list(csv.DictReader((grades / "summary.csv").open()))
    solutions = [r for r in summary if int(r["student"][-2:]) % 4 != 3]
    assert all(r["points"] == r["max_points"] for r in solutions), "a solution lost points: see the gradebook"
    per_minute = args.students / (seconds / 60)
    row = {
        "date": date.today().isoformat(),
        **machine(),
        "students": args.students,
        "chapters": len(chapters),
        "jobs": jobs,
        "sandbox": sandbox,
        "seconds": round(seconds, 1),
        "student_seconds_mean": round(sum(float(r["seconds"]) for r in summary) / len(summary), 1),
        "submissions_per_minute": round(per_minute, 2),
        "minutes_for_100_extrapolated": round(100 / per_minute, 1),
    }
    print(row)
    append_rows(args.out, [row])


if __name__ == "__main__":
    main()
