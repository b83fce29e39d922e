"""Instructor mode: every reference solution graded and every notebook run at full size, on a GPU.

::

    python -m ganedu instructor [--out DIR] [--notebooks 01 02 ...] [--skip-solutions]
                                [--mode full|cpu|smoke] [--allow-cpu] [--timeout-per-notebook S]

For each chapter it grades the reference solutions on the GPU (``pytest exercises/
--solutions --device cuda``, :func:`ganedu.grading.autograder.run_autograder`): tests passed
of total and wall time. Then it runs the chapter's notebook top to bottom in a fresh kernel,
in the chosen speed mode, from a scratch copy of ``course/`` (:func:`ganedu.notebooks.execute`):
wall time, the first error if a cell fails, and the headline numbers the notebook recorded
(:mod:`ganedu.report`: steps, steps/s and final losses of each training run, FD in classifier
features, chapter 3's and 7's classifier-judged shares). A failing chapter never stops the others.

``DIR/report.json`` and ``DIR/report.md`` (a table a person can paste into
``benchmarks/README.md``) name the GPU, PyTorch, the mode and the date; both are rewritten,
whole, after every chapter. The exit status is 0 when every test passed and every notebook
ran, 1 otherwise, and 2 when there is no CUDA GPU: then nothing is run, unless ``--allow-cpu``
says to run on the CPU anyway (in ``--mode smoke`` or ``cpu``, ``full`` would take hours).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

from ganedu.errors import GaneduError
from ganedu.files import write_atomically
from ganedu.runtime import MODES

NO_GPU = (
    "no CUDA GPU found: instructor mode runs every solution and notebook at full size on a GPU; "
    "nothing was run. On a CPU: --allow-cpu --mode smoke|cpu"
)
NO_GPU_STATUS = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ganedu instructor",
        description="Grade every reference solution and run every notebook in full mode on the GPU; "
        "write a report of wall times and final metrics.",
    )
    p.add_argument(
        "--out", type=Path, default=Path("build/instructor"), help="report folder (default: %(default)s)"
    )
    p.add_argument("--notebooks", nargs="+", metavar="NN", help="chapters to run, e.g. 01 07 (default: all)")
    p.add_argument("--skip-solutions", action="store_true", help="run the notebooks only")
    p.add_argument("--mode", choices=MODES, default="full", help="the notebooks' speed mode (default: full)")
    p.add_argument("--allow-cpu", action="store_true", help="run on the CPU when there is no CUDA GPU")
    p.add_argument(
        "--timeout-per-notebook",
        type=float,
        default=3600,
        metavar="S",
        help="seconds one notebook may run, kernel start-up included (default: %(default)s)",
    )
    p.add_argument("--course", type=Path, help="the notebooks' folder (default: the repository's course/)")
    return p


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (0 all passed, 1 something failed, 2 no GPU)."""
    args = _parser().parse_args(argv)
    import torch

    gpu = torch.cuda.is_available()
    if not gpu and not args.allow_cpu:
        print(f"ganedu: {NO_GPU}", file=sys.stderr)
        return NO_GPU_STATUS
    if args.timeout_per_notebook <= 0:
        raise GaneduError(
            f"--timeout-per-notebook must be a positive number of seconds, not {args.timeout_per_notebook:g}"
        )
    from ganedu.grading.stubs import repository_root

    root = repository_root()
    course = args.course or root / "course"
    notebooks = chapters(course, args.notebooks)
    report = {
        "device": torch.cuda.get_device_name(0)
        if gpu
        else f"CPU ({platform.machine()}, {os.cpu_count()} cores)",
        "torch": torch.__version__,
        "mode": args.mode,
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "chapters": [],
    }
    try:  # an unwritable --out fails now, not after the first chapter
        write_report(report, args.out)
    except PermissionError:
        raise GaneduError(
            f"cannot write the report in {args.out}: permission denied; choose another --out"
        ) from None
    print(
        f"instructor mode: {len(notebooks)} chapter(s), mode {args.mode}, on {report['device']}", flush=True
    )
    start = time.monotonic()
    for notebook in notebooks:
        row = run_chapter(notebook, root, args, device="cuda" if gpu else "cpu")
        report["chapters"].append(row)
        report["seconds"] = round(time.monotonic() - start, 1)
        write_report(report, args.out)
        print(summary_line(row), flush=True)
    print(f"report: {args.out / 'report.md'} and report.json")
    return 0 if all(chapter_ok(row) for row in report["chapters"]) else 1


def chapters(course: Path, wanted: list[str] | None) -> list[Path]:
    """The notebooks ``NN_*.ipynb`` in ``course``, in order; only chapters ``wanted`` (``"01"``, ``"7"``) if given."""
    found = sorted(course.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise GaneduError(f"no notebooks NN_*.ipynb in {course}; give --course the folder that holds them")
    if not wanted:
        return found
    numbers = {w.zfill(2)[:2] if w.isdigit() else w[:2] for w in wanted}
    unknown = numbers - {p.name[:2] for p in found}
    if unknown:
        raise GaneduError(
            f"no notebook for chapter {', '.join(sorted(unknown))} in {course}; "
            f"the chapters are {', '.join(p.name[:2] for p in found)}"
        )
    return [p for p in found if p.name[:2] in numbers]


def run_chapter(notebook: Path, root: Path, args, device: str) -> dict:
    """One chapter's row: its solutions graded (unless skipped) and its notebook run."""
    from ganedu.notebooks import execute

    row = {"chapter": notebook.name[:2], "notebook": notebook.name, "solutions": None}
    if not args.skip_solutions:
        row["solutions"] = grade_solutions(notebook.name[:2], root, device)
    run = execute(notebook, args.mode, timeout=args.timeout_per_notebook)
    row["run"] = {"seconds": run.seconds, "ok": run.ok, "error": run.error, "metrics": run.metrics}
    return row


def grade_solutions(chapter: str, root: Path, device: str) -> dict:
    """The chapter's reference solutions graded on ``device``: passed, total, seconds and what failed."""
    from ganedu.grading.autograder import GradingError, run_autograder
    from ganedu.grading.stubs import exercise_names

    names = [n for n in exercise_names(root) if n.startswith(f"ex{chapter}_")]
    if not names:
        return {"exercise": None, "passed": 0, "total": 0, "seconds": 0.0, "failed": []}
    start = time.monotonic()
    try:
        results = run_autograder(names, solutions=True, device=device, root=root)
    except GradingError as e:
        return {"exercise": names[0], "passed": 0, "total": 0, "seconds": round(time.monotonic() - start, 1),
                "failed": [f"the autograder did not run: {e}"]}  # fmt: skip
    return {
        "exercise": names[0],
        "passed": sum(r.outcome == "passed" for r in results),
        "total": len(results),
        "seconds": round(time.monotonic() - start, 1),
        "failed": [
            f"{r.name}: {r.status} {r.message}".strip()
            for r in results
            if r.outcome not in ("passed", "skipped")
        ],
    }


def chapter_ok(row: dict) -> bool:
    """Whether the chapter's notebook ran and none of its graded tests failed."""
    solutions = row["solutions"]
    return row["run"]["ok"] and (solutions is None or not solutions["failed"])


def summary_line(row: dict) -> str:
    """One line per chapter for the terminal."""
    solutions = row["solutions"]
    graded = (
        ""
        if solutions is None
        else f"solutions {solutions['passed']}/{solutions['total']} ({solutions['seconds']:g} s); "
    )
    run = row["run"]
    ran = "ran" if run["ok"] else f"FAILED at {run['error']}"
    return f"{row['notebook']}: {graded}notebook {ran} in {run['seconds']:g} s; {metrics_text(run['metrics']) or 'no metrics'}"


def metrics_text(records: list[dict], joiner: str = "; ") -> str:
    """The last value recorded under each name, with how many values the name had if more than one."""
    last: dict[str, object] = {}
    count: dict[str, int] = {}
    for r in records:
        last[r["name"]] = r["value"]
        count[r["name"]] = count.get(r["name"], 0) + 1
    parts = []
    for name, value in last.items():
        shown = ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
        of = f" (last of {count[name]})" if count[name] > 1 else ""
        parts.append(f"{name}{of}: {shown}")
    return joiner.join(parts)


def markdown(report: dict) -> str:
    """The report as markdown: what it ran on, then one table row per chapter."""
    lines = [
        f"Instructor mode on {report['device']}, PyTorch {report['torch']}, mode `{report['mode']}`, "
        f"{report['date']}; {report.get('seconds', 0):g} s in all.",
        "",
        "| chapter | solutions passed | grading | notebook | notebook wall time | final metrics |",
        "|---|---:|---:|---|---:|---|",
    ]
    for row in report["chapters"]:
        s, run = row["solutions"], row["run"]
        passed = "–" if s is None else f"{s['passed']}/{s['total']}"
        graded = "–" if s is None else f"{s['seconds']:g} s"
        status = "ran" if run["ok"] else f"failed: {run['error']}".replace("|", "\\|")
        metrics = metrics_text(run["metrics"], joiner="<br>").replace("|", "\\|") or "–"
        lines.append(
            f"| {row['chapter']} | {passed} | {graded} | {row['notebook']}: {status} | {run['seconds']:g} s | {metrics} |"
        )
    failed = [
        f"- {row['chapter']}: {f}"
        for row in report["chapters"]
        if row["solutions"]
        for f in row["solutions"]["failed"]
    ]
    if failed:
        lines += ["", "Tests that failed:", *failed]
    return "\n".join(lines) + "\n"


def write_report(report: dict, out: Path) -> None:
    """Write ``out/report.json`` and ``out/report.md``, each whole or not at all."""
    write_atomically(out / "report.json", (json.dumps(report, indent=1) + "\n").encode())
    write_atomically(out / "report.md", markdown(report).encode())
