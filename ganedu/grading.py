"""Exercises and their grading: stubs generated from the solutions, autograders run in place.

Each chapter's exercises have one source, ``solutions/exNN_<topic>.py``. Inside a function
body the reference code sits between ``# BEGIN SOLUTION`` and ``# END SOLUTION``;
:func:`make_stub` replaces that block by ``raise NotImplementedError(...)`` to make the
learner's file ``exercises/exNN_<topic>.py``. The docstring above the markers stays, so the
stub still says what to compute::

    python -m ganedu.grading make-stubs          # after editing a solution
    python -m ganedu.grading grade ex01_gan_basics [--solutions] [--device cuda]

In a notebook, :func:`check` runs one exercise's autograder (``exercises/test_<name>.py``)
against the learner's file and shows a table; it never raises, so a notebook runs on while
its exercises are still stubs.
"""

from __future__ import annotations

import argparse
import ast
import html
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
STUB_HEADER = (
    "# Generated from solutions/{name}.py by `python -m ganedu.grading make-stubs`.\n"
    "# Replace each `raise NotImplementedError(...)` with your code; grade with\n"
    "# `ganedu.grading.check({name!r})` in the notebook or `pytest exercises/test_{name}.py`.\n"
)


class StubError(ValueError):
    """A solution file whose ``BEGIN/END SOLUTION`` markers cannot be turned into a stub."""


def make_stub(source_text: str, name: str | None = None) -> str:
    """Turn a solution module into the learner's stub.

    Every block from a line ``# BEGIN SOLUTION`` to a line ``# END SOLUTION`` (both included,
    at the indentation of the function body) becomes one line
    ``raise NotImplementedError("<function>: ...")`` at that indentation.

    Args:
        source_text: the text of ``solutions/exNN_<topic>.py``.
        name: the exercise name (``"ex01_gan_basics"``); when given, a comment saying where the
            file comes from and how to grade it is put on top.

    Returns:
        The stub's text.

    Raises:
        StubError: a marker without its partner, nested markers, ends at another indentation,
            or a block outside any function.
    """
    lines = source_text.splitlines(keepends=True)
    try:
        tree = ast.parse(source_text)
    except SyntaxError as e:
        raise StubError(f"line {e.lineno}: the solution is not valid Python: {e.msg}") from None
    functions = list(_functions(tree))
    out: list[str] = []
    block_indent: str | None = None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if block_indent is not None:  # inside a solution block: drop lines until END
            if stripped == BEGIN:
                raise StubError(f"line {number}: {BEGIN} inside another solution block")
            if stripped == END:
                if indent != block_indent:
                    raise StubError(f"line {number}: {END} is not indented like its {BEGIN}")
                block_indent = None
            continue
        if stripped == END:
            raise StubError(f"line {number}: {END} without a {BEGIN} before it")
        if stripped == BEGIN:
            enclosing = [f for f in functions if f[0] < number <= f[1]]
            if not enclosing:
                raise StubError(f"line {number}: {BEGIN} outside a function body")
            function = max(enclosing)[2]  # the innermost one starts last
            out.append(
                f'{indent}raise NotImplementedError("{function}: not implemented yet, see its docstring")\n'
            )
            block_indent = indent
            continue
        out.append(line)
    if block_indent is not None:
        raise StubError(f"{BEGIN} without an {END} after it")
    header = STUB_HEADER.format(name=name) if name else ""
    return header + "".join(out)


def _functions(node: ast.AST, prefix: str = ""):
    """``(first line, last line, qualified name)`` of every function under ``node``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = prefix + child.name
            if not isinstance(child, ast.ClassDef):
                yield child.lineno, child.end_lineno, name
            yield from _functions(child, name + ".")
        else:
            yield from _functions(child, prefix)


def repository_root(start: Path | None = None) -> Path:
    """The course repository: the first folder at or above ``start`` (default: the working
    directory) that holds ``exercises/conftest.py``, else the folder that holds this package."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "exercises" / "conftest.py").is_file():
            return folder
    return Path(__file__).resolve().parents[1]


def exercise_names(root: Path) -> list[str]:
    """Names of the exercises, one per ``solutions/exNN_<topic>.py``, in chapter order."""
    return sorted(p.stem for p in (root / "solutions").glob("ex[0-9][0-9]_*.py"))


def expected_stubs(root: Path) -> dict[Path, str]:
    """What :func:`make_stub` makes from every solution: ``{stub path: text}``."""
    return {
        root / "exercises" / f"{name}.py": make_stub((root / "solutions" / f"{name}.py").read_text(), name)
        for name in exercise_names(root)
    }


def write_stubs(root: Path) -> list[Path]:
    """Write every stub that differs from its solution's; returns the paths written."""
    written = []
    for path, text in expected_stubs(root).items():
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


# ------------------------------------------------------------------------------ grading


@dataclass
class TestResult:
    """One graded test: ``outcome`` is passed, failed, error (outside the test body) or skipped.

    ``exception`` is the name of the exception that failed it (``"NotImplementedError"`` for an
    untouched stub, ``"AssertionError"`` for a wrong answer); ``message`` its first line.
    """

    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: str
    exception: str = ""
    message: str = ""

    @property
    def name(self) -> str:
        return self.nodeid.split("::", 1)[-1]

    @property
    def status(self) -> str:
        """What a learner reads: passed, not yet implemented, failed or error."""
        if self.outcome == "passed":
            return "passed"
        if self.exception == "NotImplementedError":
            return "not yet implemented"
        return self.outcome


class _Recorder:
    """A pytest plugin that keeps each test's outcome and the exception behind a failure."""

    def __init__(self) -> None:
        self.results: dict[str, TestResult] = {}

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            message = str(report.longrepr).strip().splitlines()
            self.results[report.nodeid] = TestResult(
                report.nodeid, "error", "CollectionError", message[-1] if message else ""
            )

    def pytest_runtest_logreport(self, report) -> None:
        result = self.results.setdefault(report.nodeid, TestResult(report.nodeid, "passed"))
        if result.outcome != "passed" or report.passed:
            return  # keep the first failure (a teardown error after a failed call adds nothing)
        if report.skipped:
            result.outcome = "skipped"
            return
        result.outcome = "failed" if report.when == "call" else "error"
        crash = getattr(report.longrepr, "reprcrash", None)
        result.message = _first_line(crash.message if crash is not None else str(report.longrepr))

    def pytest_exception_interact(self, node, call, report) -> None:
        """Called after the report of a failure, with the exception itself."""
        result = self.results.get(report.nodeid)
        if result is not None and not result.exception and call.excinfo is not None:
            result.exception = call.excinfo.typename
            result.message = _first_line(str(call.excinfo.value)) or result.message


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else ""


def _run_pytest(args: list[str], json_path: str) -> int:
    """Run pytest in this process with :class:`_Recorder`; write its results as JSON."""
    import pytest

    recorder = _Recorder()
    code = pytest.main(args, plugins=[recorder])
    Path(json_path).write_text(json.dumps([vars(r) for r in recorder.results.values()]))
    return int(code)


def run_autograder(
    names: list[str] | None = None,
    *,
    solutions: bool = False,
    device: str = "cpu",
    root: Path | None = None,
    timeout: float = 900,
) -> list[TestResult]:
    """Run exercise autograders in a fresh Python process and return one result per test.

    A fresh process sees the learner's latest edits and cannot take a notebook kernel down
    with it; each test also has its own time limit (``exercises/conftest.py``).

    Args:
        names: exercises to grade (``["ex01_gan_basics"]``); ``None`` grades all of ``exercises/``.
        solutions: grade ``solutions/`` instead of the learner's files in ``exercises/``.
        device: passed to the tests as ``--device`` (``"cpu"``, ``"cuda"``, ...).
        root: the repository (default: :func:`repository_root`).
        timeout: seconds before the whole run is abandoned.

    Returns:
        :class:`TestResult` per test, in the order pytest ran them; a module that failed to
        import appears as one result with outcome "error".
    """
    root = root or repository_root()
    targets = [f"exercises/test_{n}.py" for n in names] if names else ["exercises"]
    with tempfile.TemporaryDirectory() as tmp:
        json_path = os.path.join(tmp, "results.json")
        args = ["-q", "-p", "no:cacheprovider", f"--device={device}", *targets]
        if solutions:
            args.append("--solutions")
        command = [sys.executable, "-m", "ganedu.grading", "pytest", json_path, "--", *args]
        proc = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=timeout)
        if not os.path.exists(json_path):
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
            raise RuntimeError(f"the autograder did not run (exit {proc.returncode}): {' | '.join(tail)}")
        return [TestResult(**r) for r in json.loads(Path(json_path).read_text())]


@dataclass
class Report:
    """The results of one :func:`check`, shown as a table in a notebook and as text elsewhere."""

    name: str
    results: list[TestResult]
    problem: str = ""

    @property
    def passed(self) -> int:
        return sum(r.outcome == "passed" for r in self.results)

    def summary(self) -> str:
        if self.problem:
            return f"{self.name}: {self.problem}"
        return f"{self.name}: {self.passed}/{len(self.results)} tests passed"

    def _note(self, r: TestResult) -> str:
        if r.status in ("passed", "not yet implemented"):
            return ""
        return f"{r.exception}: {r.message}" if r.exception else r.message

    def __repr__(self) -> str:
        width = max((len(r.name) for r in self.results), default=0)
        rows = [f"  {r.name:<{width}}  {r.status}  {self._note(r)}".rstrip() for r in self.results]
        return "\n".join([self.summary(), *rows])

    def _repr_html_(self) -> str:
        colours = {"passed": "#1a7f37", "not yet implemented": "#6e7781"}
        cell = "<td style='text-align:left{}'>{}</td>"
        rows = "".join(
            "<tr>"
            + cell.format("", f"<code>{html.escape(r.name)}</code>")
            + cell.format(f";color:{colours.get(r.status, '#cf222e')}", f"<b>{html.escape(r.status)}</b>")
            + cell.format("", html.escape(self._note(r)))
            + "</tr>"
            for r in self.results
        )
        head = "".join(f"<th style='text-align:left'>{h}</th>" for h in ("test", "result", "message"))
        table = f"<table><tr>{head}</tr>{rows}</table>" if self.results else ""
        return f"<p><b>{html.escape(self.summary())}</b></p>{table}"


def check(name: str, device: str = "cpu", root: Path | str | None = None) -> Report:
    """Grade the learner's ``exercises/<name>.py`` with ``exercises/test_<name>.py``, in place.

    Put it last in a notebook cell: the returned :class:`Report` shows as a table (test, result,
    the first line of the message). It never raises: a stub shows as "not yet implemented",
    a crash or a missing file as one line saying what happened.

    Args:
        name: the exercise, e.g. ``"ex01_gan_basics"``.
        device: where the tests run (``"cpu"``; ``"cuda"`` on an instructor's GPU).
        root: the repository (default: found from the working directory).

    Returns:
        The :class:`Report`.
    """
    root = Path(root) if root is not None else repository_root()
    if not (root / "exercises" / f"test_{name}.py").is_file():
        known = ", ".join(exercise_names(root)) or "none found"
        return Report(name, [], f"no autograder exercises/test_{name}.py in {root} (exercises: {known})")
    try:
        results = run_autograder([name], device=device, root=root)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        return Report(name, [], f"could not run the autograder: {e}")
    if not results:
        return Report(name, [], "the autograder collected no tests")
    return Report(name, results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ganedu.grading", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    stubs = sub.add_parser("make-stubs", help="write exercises/exNN_*.py from solutions/exNN_*.py")
    stubs.add_argument("--check", action="store_true", help="only report stubs that are out of date")
    stubs.add_argument("--root", type=Path, default=None)
    grade = sub.add_parser("grade", help="grade exercises and print a table per exercise")
    grade.add_argument("names", nargs="*", help="exercise names; all when none is given")
    grade.add_argument("--solutions", action="store_true", help="grade solutions/ instead")
    grade.add_argument("--device", default="cpu")
    grade.add_argument("--root", type=Path, default=None)
    run = sub.add_parser("pytest", help="run pytest here and write its results as JSON (used by grade)")
    run.add_argument("json_path")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    if args.command == "pytest":
        rest = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
        return _run_pytest(rest, args.json_path)
    root = args.root or repository_root()
    if args.command == "make-stubs":
        if args.check:
            stale = [
                p for p, text in expected_stubs(root).items() if not p.is_file() or p.read_text() != text
            ]
            for path in stale:
                print(f"out of date: {path.relative_to(root)}")
            return 1 if stale else 0
        for path in write_stubs(root):
            print(f"wrote {path.relative_to(root)}")
        return 0
    names = args.names or exercise_names(root)
    results = run_autograder(names, solutions=args.solutions, device=args.device, root=root)
    for name in names:
        mine = [r for r in results if Path(r.nodeid.split("::")[0]).stem == f"test_{name}"]
        print(Report(name, mine))
    return 0 if results and all(r.outcome == "passed" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
