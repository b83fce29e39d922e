"""Stub generation and the in-notebook check: what a learner sees, and that it never raises."""

import shutil
import textwrap
from pathlib import Path

import pytest

from ganedu import grading

ROOT = Path(__file__).resolve().parents[1]

SOLUTION = textwrap.dedent(
    '''\
    """A tiny exercise."""

    import math


    def double(x: float) -> float:
        """Return 2x."""
        # BEGIN SOLUTION
        y = x + x
        return y
        # END SOLUTION


    class Box:
        def area(
            self, w: float, h: float
        ) -> float:
            """w times h."""
            # BEGIN SOLUTION
            return w * h
            # END SOLUTION


    def hang() -> None:
        """Return at once."""
        # BEGIN SOLUTION
        return None
        # END SOLUTION
    '''
)

AUTOGRADER = textwrap.dedent(
    """\
    import pytest
    from conftest import exercise_fixture

    ex = exercise_fixture("ex99_tiny")


    def test_double_doubles(ex):
        got = ex.double(3)
        assert got == 6, f"expected 6, got {got}"


    def test_area_multiplies(ex):
        assert ex.Box().area(2, 5) == 10


    @pytest.mark.timeout(2)
    def test_hang_returns(ex):
        ex.hang()
    """
)


def test_stub_replaces_each_solution_block_by_a_raise_naming_its_function():
    stub = grading.make_stub(SOLUTION)
    assert "x + x" not in stub and "w * h" not in stub and "SOLUTION" not in stub
    assert '        raise NotImplementedError("double: ' not in stub  # same indentation as the body
    assert '    raise NotImplementedError("double: not implemented yet, see its docstring")\n' in stub
    assert '        raise NotImplementedError("Box.area: not implemented yet, see its docstring")\n' in stub
    assert '"""Return 2x."""' in stub and "import math" in stub
    compile(stub, "stub.py", "exec")


def test_stub_header_names_its_source_and_how_to_grade_it():
    stub = grading.make_stub(SOLUTION, "ex99_tiny")
    assert stub.startswith("# Generated from solutions/ex99_tiny.py")
    assert "ganedu.grading.check('ex99_tiny')" in stub


@pytest.mark.parametrize(
    "source, problem",
    [
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "without an"),
        ("def f():\n    return 1\n    # END SOLUTION\n", "without a"),
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "outside a function"),
        (
            "def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n",
            "inside another",
        ),
        (
            "def f():\n    if True:\n        # BEGIN SOLUTION\n        pass\n    # END SOLUTION\n",
            "not indented",
        ),
        ("def f(:\n    pass\n", "not valid Python"),
    ],
)
def test_stub_generation_rejects_broken_markers(source, problem):
    with pytest.raises(grading.StubError, match=problem):
        grading.make_stub(source)


@pytest.fixture
def tiny_repo(tmp_path):
    """A repository with one exercise, its autograder and the real conftest."""
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    (tmp_path / "solutions" / "ex99_tiny.py").write_text(SOLUTION)
    (tmp_path / "exercises" / "test_ex99_tiny.py").write_text(AUTOGRADER)
    shutil.copy(ROOT / "exercises" / "conftest.py", tmp_path / "exercises" / "conftest.py")
    assert grading.write_stubs(tmp_path) == [tmp_path / "exercises" / "ex99_tiny.py"]
    assert grading.write_stubs(tmp_path) == []  # nothing left to write
    return tmp_path


def test_check_shows_stubs_as_not_yet_implemented_and_wrong_answers_with_their_message(tiny_repo):
    report = grading.check("ex99_tiny", root=tiny_repo)
    assert [r.status for r in report.results] == ["not yet implemented"] * 3
    assert report.summary() == "ex99_tiny: 0/3 tests passed"

    learner = tiny_repo / "exercises" / "ex99_tiny.py"
    text = learner.read_text()
    text = text.replace(
        'raise NotImplementedError("double: not implemented yet, see its docstring")', "return x + 1"
    )
    text = text.replace(
        'raise NotImplementedError("Box.area: not implemented yet, see its docstring")', "return w * h"
    )
    text = text.replace(
        'raise NotImplementedError("hang: not implemented yet, see its docstring")', "while True: pass"
    )
    learner.write_text(text)
    report = grading.check("ex99_tiny", root=tiny_repo)
    by_name = {r.name: r for r in report.results}
    assert by_name["test_double_doubles"].status == "failed"
    assert by_name["test_double_doubles"].exception == "AssertionError"
    assert by_name["test_double_doubles"].message.startswith("expected 6, got 4")
    assert by_name["test_area_multiplies"].status == "passed"
    assert by_name["test_hang_returns"].status == "failed"
    assert "Timeout" in by_name["test_hang_returns"].message
    assert "expected 6, got 4" in report._repr_html_() and "expected 6, got 4" in repr(report)


def test_check_reports_a_learner_file_that_does_not_import_instead_of_raising(tiny_repo):
    (tiny_repo / "exercises" / "ex99_tiny.py").write_text("def double(x):\n    return x +\n")
    report = grading.check("ex99_tiny", root=tiny_repo)
    assert report.results and all(r.status == "error" for r in report.results)
    assert all(r.exception == "SyntaxError" for r in report.results)


def test_check_of_an_unknown_exercise_says_which_exist(tiny_repo):
    report = grading.check("ex42_nothing", root=tiny_repo)
    assert not report.results
    assert "ex99_tiny" in report.summary() and "test_ex42_nothing.py" in report.summary()


def test_repository_root_is_found_from_a_subfolder(tiny_repo):
    (tiny_repo / "course").mkdir()
    assert grading.repository_root(tiny_repo / "course") == tiny_repo
