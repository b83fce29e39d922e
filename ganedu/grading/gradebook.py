"""Grades in the formats instructors' tools read: a gradebook CSV, feedback, Gradescope results.

:func:`write_outputs` turns graded :class:`Submission` s into, under ``OUT/``:

``gradebook.csv``
    One row per (student, chapter), sorted by student then chapter, with the columns
    ``student, chapter, points, max_points, tests_passed, tests_total, failing``. ``failing``
    holds the failing tests' one-line reasons, ``"test_name: reason; test_name: reason"``.
    A submission that could not be graded (its ``problem``) still has a row for every
    chapter it lacks results for: 0 points, the problem as the reason.
``summary.csv``
    One row per student: ``student, points, max_points, tests_passed, tests_total, problem, seconds``.
``feedback/<student>.txt``
    What the learner reads: the total, then per chapter exactly the table
    :class:`ganedu.grading.Report` shows in a notebook, and that chapter's points.
``gradescope/<student>/results.json``
    Gradescope's autograder results (:func:`gradescope_results`).

Points come from the ``POINTS`` declared beside each autograder (:mod:`ganedu.grading.points`).
A chapter's maximum is the same for every student: the sum over every test any submission was
graded on, plus, for a test function no submission reached (a chapter that crashed for all),
its points once. Every file is written atomically (:func:`ganedu.files.write_atomically`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ganedu.errors import GaneduError
from ganedu.files import write_atomically
from ganedu.grading.autograder import STATUS, TestResult
from ganedu.grading.points import function_of, graded_functions, points_of
from ganedu.grading.report import Report, note

GRADEBOOK_COLUMNS = ("student", "chapter", "points", "max_points", "tests_passed", "tests_total", "failing")
SUMMARY_COLUMNS = ("student", "points", "max_points", "tests_passed", "tests_total", "problem", "seconds")
_SAFE_STUDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}$")


@dataclass
class Submission:
    """One student's graded work.

    ``student`` is the student's id (the folder, zip or repository name); ``results`` every graded
    test, node ids ``"exercises/test_exNN_topic.py::test..."``; ``problem`` is ``""`` when it was
    graded, else one line saying why it (or a part of it) could not be; ``seconds`` the wall time
    its grading took.
    """

    student: str
    results: list[TestResult] = field(default_factory=list)
    problem: str = ""
    seconds: float = 0.0


def chapter_of(nodeid: str) -> str:
    """The exercise a node id grades: ``"exercises/test_ex02_dcgan.py::t"`` -> ``"ex02_dcgan"``."""
    stem = Path(nodeid.split("::", 1)[0]).stem
    return stem.removeprefix("test_")


def reason(result: TestResult) -> str:
    """One line saying why a test did not pass: the message (with the exception's name), or the
    status alone (``"not yet implemented"``), or the grader's status and its message."""
    message = note(result)  # what a learner sees beside the status
    if not message:
        text = result.status
    elif result.exception in STATUS:
        text = f"{result.status} ({message})"
    else:
        text = message
    return " ".join(text.split())


class Grades:
    """Points of every chapter, with maxima shared by all the submissions graded together."""

    def __init__(self, submissions: Iterable[Submission], root: Path):
        self.root = Path(root)
        self.submissions = list(submissions)
        seen: dict[str, dict[str, None]] = {}  # chapter -> node ids graded for anyone, in order
        for s in self.submissions:
            for r in s.results:
                seen.setdefault(chapter_of(r.nodeid), {})[r.nodeid] = None
        if not seen:  # nobody was graded: every autograder of the course, as its functions
            seen = {p.stem.removeprefix("test_"): {} for p in sorted(self.root.glob("exercises/test_ex*.py"))}
        self.chapters = sorted(seen)
        self.tests = {c: self._tests(c, list(seen[c])) for c in self.chapters}
        self.max_points = {c: sum(points_of(n, self.root) for n in self.tests[c]) for c in self.chapters}

    def _tests(self, chapter: str, nodeids: list[str]) -> list[str]:
        """The chapter's graded node ids, and one per test function that nobody reached."""
        test_file = self.root / "exercises" / f"test_{chapter}.py"
        reached = {function_of(n) for n in nodeids}
        unreached = (
            [f for f in graded_functions(test_file) if f not in reached] if test_file.is_file() else []
        )
        graded = [n for n in nodeids if "::" in n]  # a module that failed to collect is no test
        return graded + [f"exercises/test_{chapter}.py::{f}" for f in unreached]

    def rows(self, s: Submission) -> list[dict[str, object]]:
        """The gradebook rows of one submission, one per chapter."""
        rows = []
        for chapter in self.chapters:
            mine = [r for r in s.results if chapter_of(r.nodeid) == chapter]
            passed = [r for r in mine if r.outcome == "passed"]
            failing = "; ".join(f"{r.name}: {reason(r)}" for r in mine if r.outcome != "passed")
            if not mine:
                failing = s.problem or "no test of this chapter was graded"
            rows.append(
                {
                    "student": s.student,
                    "chapter": chapter,
                    "points": _number(sum(points_of(r.nodeid, self.root) for r in passed)),
                    "max_points": _number(self.max_points[chapter]),
                    "tests_passed": len(passed),
                    "tests_total": len(mine),
                    "failing": failing,
                }
            )
        return rows

    def feedback(self, s: Submission) -> str:
        """The learner's feedback: total points, then each chapter's :class:`Report` table."""
        rows = self.rows(s)
        got = sum(float(r["points"]) for r in rows)
        most = sum(float(r["max_points"]) for r in rows)
        parts = [f"{s.student}: {_number(got)} of {_number(most)} points"]
        if s.problem:
            parts.append(f"could not grade everything: {s.problem}")
        for row in rows:
            mine = [r for r in s.results if chapter_of(r.nodeid) == row["chapter"]]
            report = Report(str(row["chapter"]), mine, "" if mine else s.problem or "not graded")
            parts.append(f"{report!r}\n  points: {row['points']} of {row['max_points']}")
        return "\n\n".join(parts) + "\n"


def _number(x: float) -> float | int:
    """Whole points as ints (``3``, not ``3.0``), halves as they are."""
    return int(x) if float(x).is_integer() else round(x, 4)


def _csv(columns: tuple[str, ...], rows: list[dict[str, object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def gradescope_results(submission: Submission, root: Path, grades: Grades | None = None) -> dict:
    """Gradescope's ``results.json`` for one submission, as a dict.

    The documented schema (https://gradescope-autograders.readthedocs.io, "Output format"): top
    level ``score`` (points earned), ``execution_time`` (whole seconds), ``output`` (the summary
    shown above the tests), ``stdout_visibility`` and ``tests``, one entry per graded test:
    ``{"name": "ex01_gan_basics: test_x", "number": "1.3", "score": 2, "max_score": 2,
    "status": "passed" | "failed", "output": why it failed, "visibility": "visible"}``. A
    chapter without results (the submission's ``problem``) is listed test function by test
    function at 0 points, the problem as the output, so the maximum stays the course's.

    Args:
        submission: the graded submission.
        root: the course repository whose ``exercises/test_*.py`` declare the points.
        grades: the maxima to use when grading many submissions together (default: this one's).
    """
    grades = grades or Grades([submission], root)
    tests = []
    for number, chapter in enumerate(grades.chapters, start=1):
        mine = [r for r in submission.results if chapter_of(r.nodeid) == chapter]
        if not mine:
            why = submission.problem or "not graded"
            mine = [TestResult(n, "error", "", why) for n in grades.tests[chapter]]
        for case, r in enumerate(mine, start=1):
            points = points_of(r.nodeid, grades.root) if "::" in r.nodeid else 0.0
            passed = r.outcome == "passed"
            tests.append(
                {
                    "name": f"{chapter}: {r.name}",
                    "number": f"{number}.{case}",
                    "score": _number(points if passed else 0.0),
                    "max_score": _number(points),
                    "status": "passed" if passed else "failed",
                    "output": "" if passed else reason(r),
                    "visibility": "visible",
                }
            )
    rows = grades.rows(submission)
    output = [f"{r['chapter']}: {r['tests_passed']}/{r['tests_total']} tests passed" for r in rows]
    if submission.problem:
        output.insert(0, f"could not grade everything: {submission.problem}")
    return {
        "score": _number(sum(t["score"] for t in tests)),
        "execution_time": round(submission.seconds),
        "output": "\n".join(output),
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_outputs(submissions: list[Submission], out: Path, root: Path) -> dict[str, Path]:
    """Write the gradebook, the summary, each student's feedback and Gradescope results.

    Writes ``out/gradebook.csv``, ``out/summary.csv``, ``out/feedback/<student>.txt`` and
    ``out/gradescope/<student>/results.json`` (formats in the module docstring), each atomically.

    Returns:
        What was written: ``{"gradebook": path, "summary": path, "feedback/<student>": path,
        "gradescope/<student>": path, ...}``.

    Raises:
        GaneduError: a student id that cannot be a file name (a path separator, a leading dot),
            or two submissions with one id; nothing is written then.
    """
    out, root = Path(out), Path(root)
    students = [s.student for s in submissions]
    bad = [s for s in students if not _SAFE_STUDENT.match(s)]
    if bad:
        raise GaneduError(
            f"student ids must be letters, digits and ._@+- (no leading dot or slash): {', '.join(map(repr, bad))}"
        )
    twice = sorted({s for s in students if students.count(s) > 1})
    if twice:
        raise GaneduError(f"more than one submission for {', '.join(twice)}: keep one per student")
    ordered = sorted(submissions, key=lambda s: s.student)
    grades = Grades(ordered, root)
    rows = [row for s in ordered for row in grades.rows(s)]
    summary = []
    for s in ordered:
        mine = [r for r in rows if r["student"] == s.student]
        summary.append(
            {
                "student": s.student,
                "points": _number(sum(float(r["points"]) for r in mine)),
                "max_points": _number(sum(float(r["max_points"]) for r in mine)),
                "tests_passed": sum(int(r["tests_passed"]) for r in mine),
                "tests_total": sum(int(r["tests_total"]) for r in mine),
                "problem": s.problem,
                "seconds": round(s.seconds, 1),
            }
        )
    written = {
        "gradebook": write_atomically(out / "gradebook.csv", _csv(GRADEBOOK_COLUMNS, rows)),
        "summary": write_atomically(out / "summary.csv", _csv(SUMMARY_COLUMNS, summary)),
    }
    for s in ordered:
        written[f"feedback/{s.student}"] = write_atomically(
            out / "feedback" / f"{s.student}.txt", grades.feedback(s).encode()
        )
        results = json.dumps(gradescope_results(s, root, grades), indent=1) + "\n"
        written[f"gradescope/{s.student}"] = write_atomically(
            out / "gradescope" / s.student / "results.json", results.encode()
        )
    return written
