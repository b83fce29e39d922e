"""Exercises and their grading: stubs generated from the solutions, autograders run in isolation.

Each chapter's exercises have one source, ``solutions/exNN_<topic>.py``; :func:`make_stub`
turns it into the learner's ``exercises/exNN_<topic>.py`` (:mod:`ganedu.grading.stubs`)::

    python -m ganedu.grading make-stubs          # after editing a solution
    python -m ganedu.grading grade ex01_gan_basics [--solutions] [--device cuda]

``pytest exercises/`` grades every chapter in a process of its own (:mod:`ganedu.grading.isolation`,
:mod:`ganedu.grading.journal`), so one learner file cannot change another chapter's grades, and a
test that crashes, hangs or needs too much memory fails alone while the others still report.

An instructor grades a whole class with ``python -m ganedu grading collect SUBMISSIONS/ --out
GRADES/`` (:mod:`ganedu.grading.collect`): each student in a sandbox, the gradebook written by
:mod:`ganedu.grading.gradebook`.

In a notebook, :func:`check` runs one exercise's autograder (``exercises/test_<name>.py``)
against the learner's file and shows a table; it never raises, so a notebook runs on while
its exercises are still stubs. :func:`use` hands a notebook the learner's module once it passes
(else the reference solution, saying which tests still fail), so the chapter trains with it.
"""

from ganedu.grading.autograder import GradingError, TestResult, run_autograder
from ganedu.grading.cli import main
from ganedu.grading.hints import hints
from ganedu.grading.report import Report, check
from ganedu.grading.stubs import (
    BEGIN,
    END,
    STUB_HEADER,
    StubError,
    exercise_names,
    expected_stubs,
    make_stub,
    repository_root,
    write_stubs,
)
from ganedu.grading.use import use

__all__ = [
    "BEGIN",
    "END",
    "STUB_HEADER",
    "GradingError",
    "Report",
    "StubError",
    "TestResult",
    "check",
    "exercise_names",
    "hints",
    "expected_stubs",
    "main",
    "make_stub",
    "repository_root",
    "run_autograder",
    "use",
    "write_stubs",
]
