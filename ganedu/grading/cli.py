"""``python -m ganedu.grading``: write the stubs, grade exercises, release the student bundle."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from ganedu.errors import GaneduError
from ganedu.files import write_atomically
from ganedu.grading.autograder import GradingError, _run_pytest, run_autograder
from ganedu.grading.gradebook import Submission, gradescope_results
from ganedu.grading.release import release
from ganedu.grading.report import Report
from ganedu.grading.stubs import exercise_names, expected_stubs, repository_root, write_stubs


def main(argv: list[str] | None = None, prog: str = "python -m ganedu.grading") -> int:
    """Run the grading command line; returns the exit status (1 for a test that did not pass,
    or a one-line error on stderr for anything expected: a broken marker, an unknown exercise)."""
    parser = argparse.ArgumentParser(prog=prog, description="Exercise stubs and their autograders.")
    sub = parser.add_subparsers(dest="command", required=True)
    stubs = sub.add_parser("make-stubs", help="write exercises/exNN_*.py from solutions/exNN_*.py")
    stubs.add_argument("--check", action="store_true", help="only report stubs that are out of date")
    stubs.add_argument("--root", type=Path, default=None)
    grade = sub.add_parser("grade", help="grade exercises and print a table per exercise")
    grade.add_argument("names", nargs="*", help="exercise names; all when none is given")
    grade.add_argument("--solutions", action="store_true", help="grade solutions/ instead")
    grade.add_argument("--device", default="cpu")
    grade.add_argument("--root", type=Path, default=None)
    _add_collect(sub)
    rel = sub.add_parser("release", help="write the student bundle (no solutions) to a new folder OUT")
    rel.add_argument("out", type=Path)
    rel.add_argument("--root", type=Path, default=None)
    scope = sub.add_parser(
        "gradescope", help="grade a Gradescope submission folder and write its results.json (run_autograder)"
    )
    scope.add_argument("submission", type=Path, help="the folder holding the learner's exNN_<topic>.py files")
    scope.add_argument("results", type=Path, help="where results.json goes")
    scope.add_argument("--root", type=Path, default=None)
    run = sub.add_parser("pytest", help="run pytest here and write its results as JSON (used by grade)")
    run.add_argument("json_path")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    if args.command == "pytest":
        rest = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
        return _run_pytest(rest, args.json_path)
    try:
        commands = {
            "make-stubs": _make_stubs,
            "grade": _grade,
            "release": _release,
            "gradescope": _gradescope,
            "collect": _collect,
        }
        return commands[args.command](args)
    except GaneduError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def _make_stubs(args: argparse.Namespace) -> int:
    root = args.root or repository_root()
    if args.check:
        stale = [p for p, text in expected_stubs(root).items() if not p.is_file() or p.read_text() != text]
        for path in stale:
            print(f"out of date: {path.relative_to(root)}")
        return 1 if stale else 0
    for path in write_stubs(root):
        print(f"wrote {path.relative_to(root)}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    root = args.root or repository_root()
    known = exercise_names(root)
    unknown = [n for n in args.names if not (root / "exercises" / f"test_{n}.py").is_file()]
    if unknown:
        raise GaneduError(
            f"no autograder for {', '.join(unknown)} in {root}/exercises (exercises: {', '.join(known)})"
        )
    names = args.names or known
    results = run_autograder(names, solutions=args.solutions, device=args.device, root=root)
    for name in names:
        mine = [r for r in results if Path(r.nodeid.split("::")[0]).stem == f"test_{name}"]
        print(Report(name, mine))
    others = [r for r in results if Path(r.nodeid.split("::")[0]).stem not in {f"test_{n}" for n in names}]
    if others:
        print(Report("other", others))
    return 0 if results and all(r.outcome == "passed" for r in results) else 1


def _add_collect(sub) -> None:
    from ganedu.grading.collect import DEFAULT_MEMORY_GIB, DEFAULT_TIMEOUT_S

    p = sub.add_parser(
        "collect",
        help="grade a class: every student's folder, zip or git clone in SUBMISSIONS, in a sandbox",
        description="Grade every entry of SUBMISSIONS (one per student: a folder, a .zip or a GitHub "
        "Classroom clone) with the autograders of this repository; write OUT/gradebook.csv, "
        "OUT/summary.csv, OUT/feedback/ and OUT/gradescope/. A rerun grades only what changed.",
    )
    p.add_argument("submissions", type=Path, help="the folder holding one entry per student")
    p.add_argument(
        "--out", type=Path, required=True, help="where the gradebook goes (not inside SUBMISSIONS)"
    )
    p.add_argument(
        "--chapters", nargs="+", default=[], metavar="NAME", help="exercises to grade (default: all)"
    )
    p.add_argument(
        "--jobs", type=int, default=None, help="students graded at a time (default: from cores and memory)"
    )
    p.add_argument(
        "--memory-limit",
        type=float,
        default=DEFAULT_MEMORY_GIB,
        metavar="GIB",
        help=f"memory one chapter may use (default {DEFAULT_MEMORY_GIB:g}; every solution needs under 1)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds one student's grading may take (default {DEFAULT_TIMEOUT_S:g})",
    )
    p.add_argument("--regrade", action="store_true", help="grade everyone again, even those graded before")
    p.add_argument("--no-sandbox", action="store_true", help="grade without bubblewrap (trusted code only)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--root", type=Path, default=None, help="the course repository (default: this one)")


def _collect(args: argparse.Namespace) -> int:
    from ganedu.grading.collect import Options, collect, default_jobs

    if args.jobs is not None and args.jobs < 1:
        raise GaneduError("--jobs must be at least 1")
    if args.memory_limit <= 0 or args.timeout <= 0:
        raise GaneduError("--memory-limit and --timeout must be positive")
    options = Options(
        chapters=args.chapters,
        jobs=args.jobs or default_jobs(args.memory_limit),
        memory_gib=args.memory_limit,
        timeout=args.timeout,
        regrade=args.regrade,
        sandbox=not args.no_sandbox,
        device=args.device,
    )
    graded = collect(
        args.submissions, args.out, options, root=args.root, progress=lambda line: print(line, flush=True)
    )
    print(f"gradebook of {len(graded)} students: {args.out / 'gradebook.csv'}")
    return 0


def _release(args: argparse.Namespace) -> int:
    root = args.root or repository_root()
    files = release(root, args.out)
    print(f"wrote the student bundle to {args.out} ({len(files)} files, no solutions)")
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    """Grade the learner's files of a Gradescope submission in this bundle; exit 0 once written."""
    root = args.root or repository_root()
    names = exercise_names(root)
    found = {p.name: p for p in sorted(args.submission.rglob("ex[0-9][0-9]_*.py")) if p.stem in names}
    start, problem, results = time.monotonic(), "", []
    if not found:
        problem = f"no exercise file in the submission: upload exercises/exNN_<topic>.py ({', '.join(names)})"
    else:
        for name, path in found.items():
            shutil.copyfile(path, root / "exercises" / name)
        try:
            results = run_autograder(names, root=root)  # a chapter not uploaded grades its stub
        except GradingError as e:
            problem = str(e)
    submission = Submission("submission", results, problem, time.monotonic() - start)
    text = json.dumps(gradescope_results(submission, root), indent=1) + "\n"
    write_atomically(args.results, text.encode())
    passed = sum(r.outcome == "passed" for r in results)
    print(f"wrote {args.results}: {passed} of {len(results)} tests passed{'; ' + problem if problem else ''}")
    return 0
