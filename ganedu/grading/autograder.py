"""Running the autograders from Python: one :class:`TestResult` per test, never a lost one.

:func:`run_autograder` runs pytest on ``exercises/`` in a fresh Python process, which grades
each chapter in a process of its own (:mod:`ganedu.grading.isolation`) and writes one result
per collected test as JSON; a test whose process died is there too, as failed with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ganedu.errors import GaneduError
from ganedu.grading.stubs import repository_root

# The names :mod:`ganedu.grading.journal` gives a test that did not end with an exception of its own.
TIMEOUT, MEMORY, CRASH = "Timeout", "MemoryError", "Crash"
STATUS = {
    "NotImplementedError": "not yet implemented",
    TIMEOUT: "timed out",
    MEMORY: "out of memory",
    CRASH: "crashed",
}


class GradingError(GaneduError, RuntimeError):
    """The autograder itself could not run (not a test that failed)."""


@dataclass
class TestResult:
    """One graded test: ``outcome`` is passed, failed, error (outside the test body) or skipped.

    ``exception`` is the name of the exception that failed it (``"NotImplementedError"`` for an
    untouched stub, ``"AssertionError"`` for a wrong answer, or the grader's own ``"Timeout"``,
    ``"MemoryError"`` and ``"Crash"``); ``message`` its first line.
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
        """What a learner reads: passed, not yet implemented, timed out, out of memory, crashed,
        failed, error or skipped."""
        if self.outcome in ("passed", "skipped"):
            return self.outcome
        return STATUS.get(self.exception, self.outcome)


class _Recorder:
    """A pytest plugin that keeps each collected test's outcome and the exception behind a failure."""

    def __init__(self) -> None:
        self.results: dict[str, TestResult] = {}
        self.collected: list[str] = []

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            message = str(report.longrepr).strip().splitlines()
            self.results[report.nodeid] = TestResult(
                report.nodeid, "error", "CollectionError", message[-1] if message else ""
            )

    def pytest_collection_finish(self, session) -> None:
        self.collected = [item.nodeid for item in session.items]

    def pytest_runtest_logreport(self, report) -> None:
        result = self.results.setdefault(report.nodeid, TestResult(report.nodeid, "passed"))
        if result.outcome != "passed" or report.passed:
            return  # keep the first failure (a teardown error after a failed call adds nothing)
        if report.skipped:
            result.outcome = "skipped"
            return
        result.outcome = "failed" if report.when == "call" else "error"
        crash = getattr(report.longrepr, "reprcrash", None)
        result.exception = getattr(report, "exception_name", "")
        result.message = getattr(report, "exception_message", "") or _first_line(
            crash.message if crash is not None else str(report.longrepr)
        )

    def ordered(self) -> list[TestResult]:
        """Collection errors, then every collected test in order; one that never reported is an error."""
        missing = TestResult("", "error", CRASH, "the test did not report a result")
        tests = [self.results.get(n) or TestResult(**{**vars(missing), "nodeid": n}) for n in self.collected]
        return [r for n, r in self.results.items() if n not in set(self.collected)] + tests


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else ""


def _run_pytest(args: list[str], json_path: str) -> int:
    """Run pytest in this process with :class:`_Recorder`; write its results as JSON."""
    import pytest

    recorder = _Recorder()
    code = pytest.main(args, plugins=[recorder])
    Path(json_path).write_text(json.dumps([vars(r) for r in recorder.ordered()]))
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
    with it; each chapter runs in a process of its own, and each test has its own time limit
    and memory limit (``exercises/conftest.py``).

    Args:
        names: exercises to grade (``["ex01_gan_basics"]``); ``None`` grades all of ``exercises/``.
        solutions: grade ``solutions/`` instead of the learner's files in ``exercises/``.
        device: passed to the tests as ``--device`` (``"cpu"``, ``"cuda"``, ...).
        root: the repository (default: :func:`repository_root`).
        timeout: seconds before the whole run is abandoned.

    Returns:
        :class:`TestResult` per collected test, in order; a module that failed to import appears
        as one result with outcome "error", a test whose process died as failed, status "crashed".

    Raises:
        GradingError: pytest itself did not run, or the run took longer than ``timeout``.
    """
    root = root or repository_root()
    targets = [f"exercises/test_{n}.py" for n in names] if names else ["exercises"]
    with tempfile.TemporaryDirectory() as tmp:
        json_path = os.path.join(tmp, "results.json")
        args = ["-q", "-p", "no:cacheprovider", f"--device={device}", *targets]
        if solutions:
            args.append("--solutions")
        command = [sys.executable, "-m", "ganedu.grading", "pytest", json_path, "--", *args]
        try:
            proc = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise GradingError(f"grading took longer than {timeout:g} s and was stopped") from None
        if not os.path.exists(json_path):
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
            raise GradingError(f"the autograder did not run (exit {proc.returncode}): {' | '.join(tail)}")
        return [TestResult(**r) for r in json.loads(Path(json_path).read_text())]
