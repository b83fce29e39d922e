"""The in-notebook check: one exercise graded in place, shown as a table that never raises."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from ganedu.grading.autograder import STATUS, GradingError, TestResult, run_autograder
from ganedu.grading.stubs import exercise_names, repository_root


def note(r: TestResult) -> str:
    """The message beside a result: what went wrong (the status already names the grader's own
    reasons: a timeout, too much memory, a crash); ``""`` for a pass or an untouched stub."""
    if r.status in ("passed", "not yet implemented"):
        return ""
    if r.exception in STATUS or not r.exception:
        return r.message
    return f"{r.exception}: {r.message}"


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

    def __repr__(self) -> str:
        width = max((len(r.name) for r in self.results), default=0)
        rows = [f"  {r.name:<{width}}  {r.status}  {note(r)}".rstrip() for r in self.results]
        return "\n".join([self.summary(), *rows])

    def _repr_html_(self) -> str:
        colours = {"passed": "#1a7f37", "not yet implemented": "#6e7781"}
        cell = "<td style='text-align:left{}'>{}</td>"
        rows = "".join(
            "<tr>"
            + cell.format("", f"<code>{html.escape(r.name)}</code>")
            + cell.format(f";color:{colours.get(r.status, '#cf222e')}", f"<b>{html.escape(r.status)}</b>")
            + cell.format("", html.escape(note(r)))
            + "</tr>"
            for r in self.results
        )
        head = "".join(f"<th style='text-align:left'>{h}</th>" for h in ("test", "result", "message"))
        table = f"<table><tr>{head}</tr>{rows}</table>" if self.results else ""
        return f"<p><b>{html.escape(self.summary())}</b></p>{table}"


def check(name: str, device: str = "cpu", root: Path | str | None = None) -> Report:
    """Grade the learner's ``exercises/<name>.py`` with ``exercises/test_<name>.py``, in place.

    Put it last in a notebook cell: the returned :class:`Report` shows as a table (test, result,
    the first line of the message). It never raises: a stub shows as "not yet implemented", a test
    past its time limit as "timed out", one that needed too much memory as "out of memory", one
    that ended its process as "crashed", a missing file as one line saying what happened.

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
    except (OSError, GradingError) as e:
        return Report(name, [], f"could not run the autograder: {e}")
    if not results:
        return Report(name, [], "the autograder collected no tests")
    return Report(name, results)
