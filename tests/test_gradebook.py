"""The gradebook: points beside the graders, the CSVs, the learner's feedback, Gradescope's results."""

import csv
import json
import os
from pathlib import Path

import pytest

from ganedu.errors import DiskFullError, GaneduError
from ganedu.grading import Report, TestResult
from ganedu.grading.gradebook import GRADEBOOK_COLUMNS, Submission, gradescope_results, write_outputs
from ganedu.grading.points import DEFAULT_POINTS, PointsError, graded_functions, points_of, read_points
from tests.real_faults import fill, small_disk

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADERS = sorted((ROOT / "exercises").glob("test_ex*.py"))

ONE = "exercises/test_ex01_gan_basics.py::test_noise_is_standard_normal"
STEP = "exercises/test_ex01_gan_basics.py::test_train_step_drives_ganedus_ring_networks"
CASE = "exercises/test_ex05_wgan_gp.py::test_train_step_updates_the_critic_like_the_reference[1]"


@pytest.fixture
def course(tmp_path):
    """A course with two autograders: one with POINTS (a parametrised test among them), one without."""
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "test_ex01_a.py").write_text(
        'POINTS = {"test_b": 2, "test_c": 0.5}\n\n'
        "def test_a(ex):\n    pass\n\n"
        "@pytest.mark.parametrize('k', [0, 1])\ndef test_b(ex, k):\n    pass\n\n"
        "def test_c(ex):\n    pass\n"
    )
    (tmp_path / "exercises" / "test_ex02_b.py").write_text(
        "def test_x(ex):\n    pass\n\ndef test_y(ex):\n    pass\n"
    )
    return tmp_path


def results_a(*outcomes):
    ids = ["test_a", "test_b[0]", "test_b[1]", "test_c"]
    return [
        TestResult(
            f"exercises/test_ex01_a.py::{i}",
            o,
            *(("AssertionError", f"{i} is wrong") if o == "failed" else ()),
        )
        for i, o in zip(ids, outcomes, strict=True)
    ]


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------ points


@pytest.mark.parametrize("path", AUTOGRADERS, ids=[p.stem for p in AUTOGRADERS])
def test_every_points_key_names_a_test_function_of_its_autograder(path):
    points = read_points(path)
    unknown = sorted(set(points) - set(graded_functions(path)))
    assert not unknown, f"{path.name}: POINTS names no test function {unknown}; rename the key with its test"


def test_points_default_to_one_and_a_declared_test_earns_its_points_in_every_case():
    assert DEFAULT_POINTS == 1
    assert points_of(ONE, ROOT) == 1
    assert (
        points_of(STEP, ROOT)
        == 2
        == read_points(ROOT / "exercises/test_ex01_gan_basics.py")[STEP.split("::")[1]]
    )
    assert points_of(CASE, ROOT) == 2
    assert points_of("exercises/test_ex01_gan_basics.py", ROOT) == 1  # a module that failed to collect
    assert points_of("exercises/test_ex99_gone.py::test_x", ROOT) == 1


def test_points_are_read_without_running_the_autograder(tmp_path):
    path = tmp_path / "test_ex01_a.py"
    path.write_text('raise SystemExit("imported")\nPOINTS = {"test_a": 3}\n\ndef test_a():\n    pass\n')
    assert read_points(path) == {"test_a": 3.0}


@pytest.mark.parametrize(
    "declaration",
    [
        'POINTS = {"test_a": -1}',
        'POINTS = {"test_a": "two"}',
        "POINTS = dict(test_a=2)",
        'POINTS = {"test_a": True}',
    ],
)
def test_points_that_are_not_a_literal_of_names_to_non_negative_numbers_are_refused(tmp_path, declaration):
    path = tmp_path / "test_ex01_a.py"
    path.write_text(declaration + "\n")
    with pytest.raises(PointsError, match="POINTS"):
        read_points(path)


# ------------------------------------------------------------------ the gradebook CSV


def test_gradebook_has_one_row_per_student_and_chapter_sorted_with_every_column(course, tmp_path):
    subs = [
        Submission(
            "zoe",
            results_a("passed", "passed", "failed", "passed")
            + [
                TestResult("exercises/test_ex02_b.py::test_x", "passed"),
                TestResult(
                    "exercises/test_ex02_b.py::test_y",
                    "failed",
                    "NotImplementedError",
                    "test_y: not implemented",
                ),
            ],
            seconds=12.34,
        ),
        Submission("adam", results_a("failed", "passed", "passed", "failed")),
    ]
    written = write_outputs(subs, tmp_path / "grades", course)
    rows = read_csv(written["gradebook"])
    assert tuple(rows[0]) == GRADEBOOK_COLUMNS
    assert [(r["student"], r["chapter"]) for r in rows] == [
        ("adam", "ex01_a"),
        ("adam", "ex02_b"),
        ("zoe", "ex01_a"),
        ("zoe", "ex02_b"),
    ]
    adam_a, adam_b, zoe_a, zoe_b = rows
    assert zoe_a == {
        "student": "zoe",
        "chapter": "ex01_a",
        "points": "3.5",  # test_a 1 + test_b[0] 2 + test_c 0.5
        "max_points": "5.5",
        "tests_passed": "3",
        "tests_total": "4",
        "failing": "test_b[1]: AssertionError: test_b[1] is wrong",
    }
    assert zoe_b == {
        "student": "zoe",
        "chapter": "ex02_b",
        "points": "1",
        "max_points": "2",
        "tests_passed": "1",
        "tests_total": "2",
        "failing": "test_y: not yet implemented",
    }
    assert adam_a["points"] == "4" and adam_a["failing"] == (
        "test_a: AssertionError: test_a is wrong; test_c: AssertionError: test_c is wrong"
    )
    assert adam_b["max_points"] == "2" and adam_b["points"] == "0"  # chapter maxima are shared by all
    summary = read_csv(written["summary"])
    assert summary[1] == {
        "student": "zoe",
        "points": "4.5",
        "max_points": "7.5",
        "tests_passed": "4",
        "tests_total": "6",
        "problem": "",
        "seconds": "12.3",
    }


def test_a_submission_that_could_not_be_graded_gets_zero_rows_with_the_problem_as_the_reason(
    course, tmp_path
):
    subs = [
        Submission("ann", results_a(*["passed"] * 4)),
        Submission("bo", [], "the zip could not be opened"),
    ]
    written = write_outputs(subs, tmp_path / "g", course)
    bo = [r for r in read_csv(written["gradebook"]) if r["student"] == "bo"]
    assert [(r["chapter"], r["points"], r["max_points"], r["failing"]) for r in bo] == [
        ("ex01_a", "0", "5.5", "the zip could not be opened")  # the chapters graded for anyone
    ]
    assert read_csv(written["summary"])[1]["problem"] == "the zip could not be opened"
    alone = write_outputs([Submission("bo", [], "the zip could not be opened")], tmp_path / "h", course)
    rows = read_csv(alone["gradebook"])  # nobody graded: every autograder, each function once
    assert [(r["chapter"], r["points"], r["max_points"]) for r in rows] == [
        ("ex01_a", "0", "3.5"),
        ("ex02_b", "0", "2"),
    ]


def test_feedback_holds_exactly_the_table_a_learner_sees_for_each_chapter(course, tmp_path):
    results = results_a("passed", "failed", "passed", "passed")
    written = write_outputs([Submission("kim", results)], tmp_path / "g", course)
    feedback = written["feedback/kim"].read_text()
    assert feedback.startswith("kim: 3.5 of 5.5 points\n")
    assert repr(Report("ex01_a", results)) + "\n  points: 3.5 of 5.5" in feedback


def test_ids_that_cannot_be_file_names_or_come_twice_are_refused_before_anything_is_written(course, tmp_path):
    for subs in ([Submission("../x")], [Submission(".hidden")], [Submission("a"), Submission("a")]):
        with pytest.raises(GaneduError):
            write_outputs(subs, tmp_path / "g", course)
    assert not (tmp_path / "g").exists()


def test_a_full_disk_leaves_the_previous_gradebook_whole(course, tmp_path):
    with small_disk(tmp_path / "disk", 1) as disk:
        write_outputs([Submission("a", results_a(*["passed"] * 4))], disk, course)
        before = (disk / "gradebook.csv").read_bytes()
        filler = fill(disk)
        with pytest.raises(DiskFullError):
            write_outputs([Submission("a", results_a(*["failed"] * 4))], disk, course)
        assert (disk / "gradebook.csv").read_bytes() == before
        assert not [p for p in disk.rglob(".*.tmp")], "a temporary file was left behind"
        filler.unlink()


# ------------------------------------------------------------------ Gradescope


def test_gradescope_results_follow_its_schema_field_by_field(course):
    sub = Submission("kim", results_a("passed", "failed", "passed", "passed"), seconds=41.6)
    got = gradescope_results(sub, course)
    assert set(got) == {"score", "execution_time", "output", "stdout_visibility", "tests"}
    assert got["score"] == 3.5 and got["execution_time"] == 42
    assert got["output"].splitlines()[0] == "ex01_a: 3/4 tests passed"
    assert len(got["tests"]) == 4  # one per graded case
    first, failed = got["tests"][0], got["tests"][1]
    assert first == {
        "name": "ex01_a: test_a",
        "number": "1.1",
        "score": 1,
        "max_score": 1,
        "status": "passed",
        "output": "",
        "visibility": "visible",
    }
    assert failed == {
        "name": "ex01_a: test_b[0]",
        "number": "1.2",
        "score": 0,
        "max_score": 2,
        "status": "failed",
        "output": "AssertionError: test_b[0] is wrong",
        "visibility": "visible",
    }
    assert {t["status"] for t in got["tests"]} <= {"passed", "failed"}
    assert sum(t["max_score"] for t in got["tests"]) == 5.5
    json.dumps(got)  # plain JSON


def test_gradescope_lists_every_test_of_an_ungraded_submission_at_zero_with_the_problem(course):
    got = gradescope_results(Submission("kim", [], "nothing was uploaded"), course)
    assert got["score"] == 0 and got["output"].startswith("could not grade everything: nothing was uploaded")
    assert [(t["name"], t["max_score"], t["output"]) for t in got["tests"]] == [
        ("ex01_a: test_a", 1, "nothing was uploaded"),
        ("ex01_a: test_b", 2, "nothing was uploaded"),
        ("ex01_a: test_c", 0.5, "nothing was uploaded"),
        ("ex02_b: test_x", 1, "nothing was uploaded"),
        ("ex02_b: test_y", 1, "nothing was uploaded"),
    ]


def test_gradescope_files_are_written_per_student(course, tmp_path):
    written = write_outputs([Submission("kim", results_a(*["passed"] * 4))], tmp_path / "g", course)
    path = written["gradescope/kim"]
    assert path == tmp_path / "g" / "gradescope" / "kim" / "results.json"
    assert json.loads(path.read_text())["score"] == 5.5
    assert not [p for p in (tmp_path / "g").rglob("*") if p.name.startswith(".")]
    assert os.access(path, os.R_OK)
