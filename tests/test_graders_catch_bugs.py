"""The autograders catch the mistakes learners really make.

Each ``tests/bugs/exNN_<topic>.py`` holds a catalogue of one-bug variants of
``solutions/exNN_<topic>.py``::

    BUGS = [(bug_id, old_text, new_text, why), ...]

``old_text`` occurs exactly once in the solution; replacing it by ``new_text`` gives the file a
learner with that bug would hand in. Every variant of a chapter is graded in one pytest process
(``exercises/conftest.py`` parametrises the ``ex`` fixture over the files in ``$GANEDU_MUTANTS``),
chapters two at a time, and each variant must fail at least one test of its chapter's grader
(``tests/bugs/stop_at_first_failure.py`` skips a variant's remaining tests after its first
failure). ``pytest tests/test_graders_catch_bugs.py -s`` prints how many bugs each chapter catches.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = sorted((ROOT / "tests" / "bugs").glob("ex[0-9][0-9]_*.py"))
CHAPTERS = [path.stem for path in CATALOGUES]
BUG_ID = re.compile(r"^[a-z0-9_]+$")
CHILD_TIMEOUT_S = 240


@dataclass(frozen=True)
class Bug:
    """One catalogued mistake: replace ``old`` by ``new`` in the solution."""

    id: str
    old: str
    new: str
    why: str


def load_catalogue(chapter: str) -> list[Bug]:
    """The ``BUGS`` list of ``tests/bugs/<chapter>.py`` as :class:`Bug` records."""
    path = ROOT / "tests" / "bugs" / f"{chapter}.py"
    spec = importlib.util.spec_from_file_location(f"bug_catalogue_{chapter}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [Bug(*entry) for entry in module.BUGS]


def solution_text(chapter: str) -> str:
    return (ROOT / "solutions" / f"{chapter}.py").read_text()


def catalogue_problems(chapter: str) -> list[str]:
    """Everything that makes a catalogue entry unusable, one line each (empty: all valid)."""
    source = solution_text(chapter)
    problems, seen = [], set()
    for bug in load_catalogue(chapter):
        if not BUG_ID.match(bug.id):
            problems.append(f"{bug.id!r}: a bug id is lower-case letters, digits and underscores")
        if bug.id in seen:
            problems.append(f"{bug.id}: the id is used twice")
        seen.add(bug.id)
        if not bug.why.strip():
            problems.append(f"{bug.id}: say why a learner makes this mistake")
        count = source.count(bug.old)
        if count != 1:
            problems.append(
                f"{bug.id}: old_text occurs {count} times in solutions/{chapter}.py, expected once"
            )
            continue
        if bug.new == bug.old:
            problems.append(f"{bug.id}: new_text equals old_text, nothing changes")
        try:
            compile(source.replace(bug.old, bug.new), f"{chapter}__{bug.id}.py", "exec")
        except SyntaxError as e:
            problems.append(f"{bug.id}: the variant does not compile (line {e.lineno}: {e.msg})")
    return problems


def grade_variants(chapter: str, directory: Path) -> dict[str, list[str]]:
    """Write every valid variant of ``chapter`` into ``directory`` and grade them all in one process.

    Returns:
        ``{bug_id: [names of the tests that failed on it]}`` for every variant written.
    """
    source = solution_text(chapter)
    bugs = [bug for bug in load_catalogue(chapter) if source.count(bug.old) == 1]
    for bug in bugs:
        (directory / f"{chapter}__{bug.id}.py").write_text(source.replace(bug.old, bug.new))
    report = directory / f"{chapter}.xml"
    plugin_path = os.pathsep.join(filter(None, [str(ROOT / "tests" / "bugs"), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "GANEDU_MUTANTS": str(directory), "OMP_NUM_THREADS": "1", "PYTHONPATH": plugin_path}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "stop_at_first_failure",
        f"exercises/test_{chapter}.py",
        f"--junitxml={report}",
    ]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    if not report.is_file():
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        raise RuntimeError(f"grading the variants of {chapter} did not run (exit {proc.returncode}): {tail}")
    failed: dict[str, list[str]] = {bug.id: [] for bug in bugs}
    graded_ids = set()
    for case in ET.parse(report).iter("testcase"):
        match = re.match(
            r"^(\w+)\[(.+)\]$", case.get("name", "")
        )  # test[bug_id] or test[bug_id-other-params]
        bug_id = next((part for part in match.group(2).split("-") if part in failed), None) if match else None
        if bug_id is not None:
            graded_ids.add(bug_id)
            if case.find("failure") is not None or case.find("error") is not None:
                failed[bug_id].append(match.group(1))
    if bugs and not graded_ids:
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        raise RuntimeError(
            f"exercises/test_{chapter}.py graded none of its variants (exit {proc.returncode}): {tail}"
        )
    return failed


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict[str, list[str]]]:
    """``{chapter: {bug_id: failed tests}}``, two chapters graded at a time."""
    directory = tmp_path_factory.mktemp("variants")
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {chapter: pool.submit(grade_variants, chapter, directory) for chapter in CHAPTERS}
        return {chapter: run.result() for chapter, run in runs.items()}


def test_there_are_bug_catalogues():
    assert CATALOGUES, "no tests/bugs/exNN_<topic>.py found"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_catalogue_entries_apply_once_and_compile(chapter):
    assert (ROOT / "solutions" / f"{chapter}.py").is_file(), (
        f"tests/bugs/{chapter}.py has no solutions/{chapter}.py"
    )
    problems = catalogue_problems(chapter)
    assert not problems, f"tests/bugs/{chapter}.py:\n" + "\n".join(problems)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_grader_fails_every_catalogued_bug(graded, chapter):
    bugs = {bug.id: bug for bug in load_catalogue(chapter)}
    caught = {bug_id for bug_id, tests in graded[chapter].items() if tests}
    print(f"{chapter}: {len(caught)} of {len(bugs)} catalogued bugs caught")
    missed = [f"{bug_id}: {bugs[bug_id].why}" for bug_id in graded[chapter] if bug_id not in caught]
    assert not missed, (
        f"exercises/test_{chapter}.py passes {len(missed)} of {len(bugs)} catalogued bugs; "
        "add a test that fails on each of them:\n" + "\n".join(missed)
    )
