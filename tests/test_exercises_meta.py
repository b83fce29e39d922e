"""The autograder grades what it should: every solution passes, every untouched stub fails.

The exercises are graded twice, each direction in its own Python process (both at once):
``solutions/`` must pass every test, the committed stubs in ``exercises/`` must fail every
test with ``NotImplementedError``, not with an import error or another crash, which would
mean a test fails for a reason other than the missing answer.
"""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ganedu import grading

ROOT = Path(__file__).resolve().parents[1]
NAMES = grading.exercise_names(ROOT)


@pytest.fixture(scope="module")
def graded() -> dict[str, dict[str, grading.TestResult]]:
    """``{"solutions" | "stubs": {nodeid: result}}``, both directions graded at the same time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {
            direction: pool.submit(grading.run_autograder, solutions=direction == "solutions", root=ROOT)
            for direction in ("solutions", "stubs")
        }
        return {direction: {r.nodeid: r for r in run.result()} for direction, run in runs.items()}


def test_there_are_exercises_to_grade():
    assert NAMES, "no solutions/exNN_<topic>.py found"


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_has_an_autograder_with_tests(graded, name):
    assert (ROOT / "exercises" / f"test_{name}.py").is_file(), f"exercises/test_{name}.py is missing"
    for direction, results in graded.items():
        ours = [n for n in results if n.startswith(f"exercises/test_{name}.py::")]
        assert ours, f"no test of exercises/test_{name}.py was collected when grading the {direction}"


def test_both_directions_grade_the_same_tests(graded):
    solutions, stubs = set(graded["solutions"]), set(graded["stubs"])
    assert solutions == stubs, (
        f"only with --solutions: {sorted(solutions - stubs)}; only without: {sorted(stubs - solutions)}"
    )


def test_solutions_pass_every_test(graded):
    bad = [
        f"{r.nodeid}: {r.outcome} {r.exception}: {r.message}"
        for r in graded["solutions"].values()
        if r.outcome != "passed"
    ]
    assert not bad, "the reference solutions must pass every test:\n" + "\n".join(bad)


def test_untouched_stubs_fail_every_test_with_not_implemented_error(graded):
    bad = [
        f"{r.nodeid}: {r.outcome} {r.exception}: {r.message}"
        for r in graded["stubs"].values()
        if r.outcome not in ("failed", "error") or r.exception != "NotImplementedError"
    ]
    assert not bad, (
        "every test must fail on an untouched stub with NotImplementedError (call an exercise function "
        "before anything else can fail):\n" + "\n".join(bad)
    )


def test_committed_stubs_are_what_the_generator_makes():
    stale = [
        str(path.relative_to(ROOT))
        for path, text in grading.expected_stubs(ROOT).items()
        if not path.is_file() or path.read_text() != text
    ]
    assert not stale, (
        f"stubs out of date with their solutions: {stale}; run `python -m ganedu.grading make-stubs`"
    )


def test_no_stub_exists_without_its_solution():
    stubs = {p.stem for p in (ROOT / "exercises").glob("ex[0-9][0-9]_*.py")}
    assert stubs <= set(NAMES), f"stubs without a solution: {sorted(stubs - set(NAMES))}"
