"""Stub generation and the in-notebook check: what a learner sees, and that it never raises."""

import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ganedu import grading
from ganedu.errors import GaneduError
from tests.real_faults import small_disk

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
    assert by_name["test_hang_returns"].status == "timed out"
    assert by_name["test_hang_returns"].message == "the test ran past its 2 s time limit"
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


# ------------------------------------------------------------------ isolation of chapters

PATCHER = textwrap.dedent(
    """\
    import math

    import torch
    import torch.testing

    torch.allclose = lambda *args, **kwargs: True
    math.isclose = lambda *args, **kwargs: True
    torch.testing.assert_close = lambda *args, **kwargs: None
    torch.set_default_dtype(torch.float64)
    torch.set_grad_enabled(False)


    def double(x):
        return x + x
    """
)

PATCHER_AUTOGRADER = textwrap.dedent(
    """\
    from conftest import exercise_fixture

    ex = exercise_fixture("ex97_patcher")


    def test_double_doubles(ex):
        assert ex.double(3) == 6
    """
)

VICTIM = "import torch\n\n\ndef double(x):\n    return x + 1\n\n\ndef ones():\n    return torch.ones(2)\n"

VICTIM_AUTOGRADER = textwrap.dedent(
    """\
    import math

    import torch
    from conftest import exercise_fixture

    ex = exercise_fixture("ex98_victim")


    def test_allclose_sees_a_wrong_answer(ex):
        assert torch.allclose(ex.double(torch.tensor(3.0)), torch.tensor(6.0))


    def test_isclose_sees_a_wrong_answer(ex):
        assert math.isclose(ex.double(3.0), 6.0)


    def test_assert_close_sees_a_wrong_answer(ex):
        torch.testing.assert_close(ex.double(torch.tensor(3.0)), torch.tensor(6.0))


    def test_default_dtype_is_float32(ex):
        assert ex.ones().dtype == torch.float32


    def test_gradients_are_on(ex):
        assert torch.is_grad_enabled()
    """
)

FAULTS = textwrap.dedent(
    """\
    import os
    import time

    import torch


    def double(x):
        return x + x


    def crash():
        os._exit(0)


    def allocate(gib, hold_s=0):
        memory = torch.ones(int(gib * 2**30), dtype=torch.uint8)
        time.sleep(hold_s)
        return memory


    def spin():
        while True:
            pass
    """
)

FAULTS_AUTOGRADER = textwrap.dedent(
    """\
    import pytest
    from conftest import exercise_fixture

    ex = exercise_fixture("ex99_faults")


    def test_before_the_faults(ex):
        assert ex.double(2) == 4


    def test_crash(ex):
        ex.crash()


    def test_allocate_64_gib(ex):
        ex.allocate(64)


    @pytest.mark.timeout(1)
    def test_spin(ex):
        ex.spin()


    def test_after_the_faults(ex):
        assert ex.double(3) == 6
    """
)


@pytest.fixture
def faulty_repo(tmp_path):
    """Three chapters: one whose file patches libraries and global state when imported, one that
    those patches would turn from failing to passing, and one whose tests crash, hog memory and hang."""
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    shutil.copy(ROOT / "exercises" / "conftest.py", tmp_path / "exercises" / "conftest.py")
    chapters = {
        "ex97_patcher": (PATCHER, PATCHER_AUTOGRADER),
        "ex98_victim": (VICTIM, VICTIM_AUTOGRADER),
        "ex99_faults": (FAULTS, FAULTS_AUTOGRADER),
    }
    for name, (learner, autograder) in chapters.items():
        (tmp_path / "exercises" / f"{name}.py").write_text(learner)
        (tmp_path / "exercises" / f"test_{name}.py").write_text(autograder)
    return tmp_path


PROCESS_FAULTS = {
    "ex90_filler": textwrap.dedent(
        """\
        import tempfile


        def fault():
            block = b"x" * 65536
            with tempfile.NamedTemporaryFile(delete=False) as f:  # kept: the disk stays full
                while True:
                    f.write(block)
                    f.flush()
        """
    ),
    "ex91_forker": textwrap.dedent(
        """\
        import os
        import time
        from pathlib import Path


        def fault():
            if os.fork() == 0:  # the copy returns into pytest, where its test fails
                raise RuntimeError("only the forked copy fails")


        def linger():
            pid = os.fork()
            if pid == 0:
                time.sleep(600)
                os._exit(0)
            (Path(__file__).parent / "lingering.pid").write_text(str(pid))
        """
    ),
    "ex92_threads": textwrap.dedent(
        """\
        import threading
        import time
        from pathlib import Path


        def spin():
            while True:
                pass


        def late():
            time.sleep(1)
            (Path(__file__).parent / "late.txt").write_text("a thread outlived its chapter")


        def fault():
            threading.Thread(target=spin).start()
            threading.Thread(target=late, daemon=True).start()
        """
    ),
    "ex93_closer": textwrap.dedent(
        """\
        import os
        import sys


        def fault():
            os.close(1)
            os.close(2)
            sys.stdout.close()
            sys.stderr.close()
        """
    ),
    "ex94_mover": "import os\n\n\ndef fault():\n    os.chdir('/')\n",
}

PROCESS_FAULTS_AUTOGRADER = textwrap.dedent(
    """\
    from pathlib import Path

    import pytest
    from conftest import exercise_fixture

    ex = exercise_fixture("{name}")


    def test_before(ex):
        print("output before the fault")


    def test_fault(ex):
        ex.fault()
        {linger}


    @pytest.mark.timeout(5)
    def test_after(ex):
        print("output after the fault")
        assert Path("exercises/{name}.py").is_file()  # a path relative to where grading started
        assert sum(range(10**6)) == 499999500000
    """
)

BYSTANDER = "def double(x):\n    return x + 1\n"

BYSTANDER_AUTOGRADER = textwrap.dedent(
    """\
    import tempfile
    from pathlib import Path

    import pytest
    from conftest import exercise_fixture

    ex = exercise_fixture("ex95_bystander")


    def test_a_wrong_answer_fails(ex):
        assert ex.double(3) == 6


    @pytest.mark.timeout(5)
    def test_writes_a_megabyte_and_prints(ex, tmp_path):
        print("output of the bystander")
        (tmp_path / "mine").write_bytes(b"y" * 2**20)
        with tempfile.TemporaryFile() as f:
            f.write(b"z" * 2**20)
        assert Path("exercises/ex95_bystander.py").is_file()
    """
)


@pytest.fixture
def process_faults_repo(faulty_repo):
    """Chapters whose learner files fill the disk, fork, leave threads running, close the
    standard output and change the working directory, then a bystander graded after them."""
    exercises = faulty_repo / "exercises"
    for name, learner in PROCESS_FAULTS.items():
        (exercises / f"{name}.py").write_text(learner)
        linger = "ex.linger()" if name == "ex91_forker" else ""
        (exercises / f"test_{name}.py").write_text(PROCESS_FAULTS_AUTOGRADER.format(name=name, linger=linger))
    (exercises / "ex95_bystander.py").write_text(BYSTANDER)
    (exercises / "test_ex95_bystander.py").write_text(BYSTANDER_AUTOGRADER)
    return faulty_repo


def _ended(pid: int) -> bool:
    """Whether process ``pid`` is gone (or a zombie nobody has reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def test_a_learner_that_fills_the_disk_forks_leaves_threads_closes_stdout_or_moves_is_graded_alone(
    process_faults_repo, tmp_path, monkeypatch
):
    """Each fault is made for real: the grading's temporary folder is a 3 MB tmpfs that the
    filler writes until the kernel says ENOSPC; the forker calls ``os.fork()``; and so on."""
    with small_disk(tmp_path / "tmp", 3) as disk:
        monkeypatch.setenv("TMPDIR", str(disk))
        names = [*PROCESS_FAULTS, "ex95_bystander"]
        results = grading.run_autograder(names, root=process_faults_repo, timeout=120)
        left_on_disk = list(disk.iterdir())
    outcomes = {r.nodeid.split("/")[-1]: (r.outcome, r.exception) for r in results}
    expected = {}
    for name in PROCESS_FAULTS:
        expected[f"test_{name}.py::test_before"] = ("passed", "")
        expected[f"test_{name}.py::test_fault"] = ("passed", "")
        expected[f"test_{name}.py::test_after"] = ("passed", "")
    expected["test_ex90_filler.py::test_fault"] = ("failed", "OSError")
    expected["test_ex93_closer.py::test_fault"] = ("failed", "ValueError")  # print to a closed file
    expected["test_ex95_bystander.py::test_a_wrong_answer_fails"] = ("failed", "AssertionError")
    expected["test_ex95_bystander.py::test_writes_a_megabyte_and_prints"] = ("passed", "")
    assert outcomes == expected, [r.message for r in results if r.exception == "Crash"]
    filler = next(r for r in results if r.nodeid.endswith("ex90_filler.py::test_fault"))
    assert "No space left on device" in filler.message
    assert left_on_disk == []  # the filler's file went with its chapter
    exercises = process_faults_repo / "exercises"
    assert _ended(int((exercises / "lingering.pid").read_text()))  # the fork that slept was killed
    time.sleep(1.5)
    assert not (exercises / "late.txt").exists()  # the thread ended with its chapter


def pytest_run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_learner_file_that_patches_libraries_cannot_change_another_chapters_grades(faulty_repo):
    results = grading.run_autograder(["ex97_patcher", "ex98_victim"], root=faulty_repo)
    outcomes = {r.name: r.outcome for r in results}
    assert outcomes == {
        "test_double_doubles": "passed",
        "test_allclose_sees_a_wrong_answer": "failed",
        "test_isclose_sees_a_wrong_answer": "failed",
        "test_assert_close_sees_a_wrong_answer": "failed",
        "test_default_dtype_is_float32": "passed",
        "test_gradients_are_on": "passed",
    }


def test_a_crash_a_memory_hog_and_a_hang_fail_alone_and_the_other_tests_report(faulty_repo):
    report = grading.check("ex99_faults", root=faulty_repo)
    by_name = {r.name: r for r in report.results}
    assert {name: r.status for name, r in by_name.items()} == {
        "test_before_the_faults": "passed",
        "test_crash": "crashed",
        "test_allocate_64_gib": "out of memory",
        "test_spin": "timed out",
        "test_after_the_faults": "passed",
    }
    assert "exit status 0" in by_name["test_crash"].message and "os._exit" in by_name["test_crash"].message
    assert "GiB a chapter may use" in by_name["test_allocate_64_gib"].message
    assert by_name["test_spin"].message == "the test ran past its 1 s time limit"
    assert report.summary() == "ex99_faults: 2/5 tests passed"
    table = repr(report)
    for words in ("crashed", "out of memory", "timed out", "os._exit", "GiB", "time limit"):
        assert words in table and words in report._repr_html_()


def test_pytest_reports_a_test_that_ends_its_process_as_failed_and_never_succeeds(faulty_repo):
    run = pytest_run(faulty_repo, "exercises/test_ex99_faults.py", "-k", "not allocate and not spin")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 2 passed" in run.stdout
    assert "FAILED exercises/test_ex99_faults.py::test_crash" in run.stdout and "os._exit" in run.stdout


def test_a_learner_calling_pytest_exit_with_status_0_fails_the_rest_of_its_chapter(faulty_repo):
    exercises = faulty_repo / "exercises"
    (exercises / "ex96_quitter.py").write_text(
        "import pytest\n\n\ndef double(x):\n    pytest.exit('all good', 0)\n"
    )
    autograder = PATCHER_AUTOGRADER.replace("ex97_patcher", "ex96_quitter")
    (exercises / "test_ex96_quitter.py").write_text(autograder + "\n\ntest_again = test_double_doubles\n")
    run = pytest_run(faulty_repo, "exercises/test_ex96_quitter.py", "exercises/test_ex97_patcher.py")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed, 1 error" in run.stdout  # the running test, the patcher's, the next one
    assert "test_ex96_quitter.py::test_again - Failed: Exit: all good" in run.stdout


def test_a_test_over_the_memory_limit_fails_with_the_limit_in_its_message(faulty_repo):
    (faulty_repo / "exercises" / "test_ex99_faults.py").write_text(
        FAULTS_AUTOGRADER.replace("ex.allocate(64)", "ex.allocate(3)")
    )
    run = pytest_run(
        faulty_repo, "exercises/test_ex99_faults.py", "-k", "allocate or after", "--memory-limit=2"
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
    assert "more than the 2.0 GiB a chapter may use" in run.stdout


def test_a_test_over_the_memory_limit_is_stopped_where_no_data_cap_applies(faulty_repo):
    """On a GPU the data segment is not capped; the process's resident memory is watched instead."""
    (faulty_repo / "exercises" / "test_ex99_faults.py").write_text(
        FAULTS_AUTOGRADER.replace("ex.allocate(64)", "ex.allocate(3, hold_s=30)")
    )
    run = pytest_run(
        faulty_repo,
        "exercises/test_ex99_faults.py",
        "-k",
        "allocate or after",
        "--memory-limit=2",
        "--device=meta",
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
    assert "more than the 2.0 GiB a chapter may use" in run.stdout


def test_the_grading_command_line_prints_one_table_per_exercise_and_no_traceback(faulty_repo):
    command = [sys.executable, "-m", "ganedu.grading", "grade", "ex98_victim", "ex42_none"]
    run = subprocess.run(command, cwd=faulty_repo, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith("error: no autograder for ex42_none")
    assert grading.main(["grade", "ex98_victim", "--root", str(faulty_repo)]) == 1


def test_use_hands_back_the_reference_until_the_learners_file_passes_then_the_learners(tiny_repo, capsys):
    ref = grading.use("ex99_tiny", root=tiny_repo)
    assert not ref.is_learners and ref.double(4) == 8  # the reference solution runs
    line = capsys.readouterr().out.strip()
    assert line == ref.implementation
    assert "the reference solutions/ex99_tiny.py" in line and "fails 3 of 3 tests" in line

    learner = tiny_repo / "exercises" / "ex99_tiny.py"
    text = learner.read_text()
    for stub, answer in [
        (
            'raise NotImplementedError("double: not implemented yet, see its docstring")',
            "return 2 * x  # mine",
        ),
        ('raise NotImplementedError("Box.area: not implemented yet, see its docstring")', "return w * h"),
        ('raise NotImplementedError("hang: not implemented yet, see its docstring")', "return None"),
    ]:
        assert stub in text
        text = text.replace(stub, answer)
    learner.write_text(text)
    mine = grading.use("ex99_tiny", root=tiny_repo, quiet=True)
    assert mine.is_learners and "# mine" in Path(mine.__file__).read_text()
    assert mine.implementation == "training with your exercises/ex99_tiny.py (all 3 tests pass)"


def test_hints_are_read_without_running_the_file_and_fold_level_by_level(tmp_path):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "ex98_hinted.py").write_text(
        'raise SystemExit("importing the learner file would stop here")\n'
        'HINTS = {"double": ["Think of addition.", "return x + x"], "half": ["Divide."]}\n'
    )
    shown = grading.hints("ex98_hinted", root=tmp_path)
    assert shown.hints == {"double": ["Think of addition.", "return x + x"], "half": ["Divide."]}
    page = shown._repr_html_()
    assert (
        page.index("hint 1: a nudge") < page.index("Think of addition.") < page.index("hint 2: the key line")
    )
    assert page.count("<details") == 3
    assert "hint 2 (the key line): return x + x" in repr(
        grading.hints("ex98_hinted", "double", root=tmp_path)
    )
    with pytest.raises(GaneduError, match="hints for: double, half"):
        grading.hints("ex98_hinted", "triple", root=tmp_path)


@pytest.mark.parametrize("name", grading.exercise_names(ROOT))
def test_every_chapter_has_hints_for_functions_it_defines(name):
    found = grading.hints(name, root=ROOT).hints
    source = (ROOT / "solutions" / f"{name}.py").read_text()
    assert found, f"solutions/{name}.py has no HINTS"
    for function in found:
        defined = any(f"{kind} {function.split('.')[-1]}" in source for kind in ("def", "class"))
        assert defined, f"hints for {function!r}, which {name} does not define"


def test_repository_root_outside_any_course_folder_is_the_one_holding_this_package(tmp_path):
    root = grading.repository_root(tmp_path)
    assert (root / "exercises" / "conftest.py").is_file() and (root / "ganedu" / "grading").is_dir()
