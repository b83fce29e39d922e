"""Grading a class (``python -m ganedu grading collect``): a synthetic class graded end to end.

The class has one student per way a submission goes right or wrong: the solution (a git clone),
the stub, three single bugs from ``tests/bugs/ex01_gan_basics.py``, a hang, ``os._exit``, a
2 GiB allocation, a syntax error, a missing file, a notebook in place of the .py, a zip whose
file sits in nested folders, and four malicious ones (reading the other students' folders and
the solutions, writing outside its own folder, reaching the network, patching pytest). It is
graded once, for chapter 1 only (about 10 s of CPU a student), by the real command line with
the real sandbox, and every row of the gradebook is checked. The course graded is a copy of this
repository's chapter 1 in a temporary folder, so what a malicious file writes can be checked.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from ganedu.grading.collect import _checked
from ganedu.grading.policy import check_exercise
from ganedu.grading.sandbox import find_sandbox, run_sandboxed
from ganedu.grading.submissions import discover
from tests.real_faults import ROOT, finish, ganedu_cli, wait_for

CHAPTER = "ex01_gan_basics"
TESTS = 24  # tests in exercises/test_ex01_gan_basics.py
POINTS = 28  # their points (four are worth 2)
STUDENT_TIMEOUT_S = 30  # a student's whole grading takes about 7 s here (12 s two at a time)
NOISE = "return torch.randn(batch_size, nz, device=device, generator=generator)"
SECRET = "token-of-alice-7f3a"  # in the solution student's file only

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed")


def _bugs() -> dict[str, tuple[str, str]]:
    spec = importlib.util.spec_from_file_location("bugs_ex01", ROOT / "tests" / "bugs" / f"{CHAPTER}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {bug_id: (old, new) for bug_id, old, new, _ in module.BUGS}


def _course(folder: Path) -> Path:
    """A course repository holding chapter 1 only: its solution, stub and autograder."""
    for sub in ("exercises", "solutions"):
        (folder / sub).mkdir(parents=True)
    for name in ("exercises/conftest.py", f"exercises/test_{CHAPTER}.py", f"exercises/{CHAPTER}.py"):
        shutil.copyfile(ROOT / name, folder / name)
    shutil.copyfile(ROOT / "solutions" / f"{CHAPTER}.py", folder / "solutions" / f"{CHAPTER}.py")
    return folder


def _put(folder: Path, text: str, name: str = f"exercises/{CHAPTER}.py") -> None:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def _class(tmp: Path, port: int) -> tuple[Path, Path, Path]:
    """The course, the submissions (GitHub Classroom names: ``gan-hw-<student>``) and GRADES/."""
    course, subs, grades = _course(tmp / "course"), tmp / "submissions", tmp / "grades"
    solution = (course / "solutions" / f"{CHAPTER}.py").read_text()
    stub = (course / "exercises" / f"{CHAPTER}.py").read_text()
    bugs = _bugs()
    student = {name: subs / f"gan-hw-{name}" for name in ("alice", "stub", "hang", "exits", "greedy")}

    _put(student["alice"], solution + f"# {SECRET}\n")
    _put(student["alice"], "a decoy\n", f".git/{CHAPTER}.py")  # a clone: .git is not looked in
    subprocess.run(["git", "init", "-q", str(student["alice"])], check=True)
    _put(student["stub"], stub)
    for bug in ("noise_uniform", "d_loss_sign_swapped", "g_loss_saturating"):
        old, new = bugs[bug]
        _put(subs / f"gan-hw-bug-{bug.replace('_', '-')}", solution.replace(old, new))
    _put(student["hang"], solution + "\nwhile True:\n    pass\n")
    _put(student["exits"], solution.replace(NOISE, f"os._exit(3)\n    {NOISE}") + "\nimport os\n")
    _put(student["greedy"], solution.replace(NOISE, f"torch.ones(2**29)  # 2 GiB\n    {NOISE}"))
    _put(subs / "gan-hw-typo", solution.replace("def sample_noise(", "def sample_noise(("))
    _put(subs / "gan-hw-absent", "my exercises are on my laptop\n", "README.md")
    _put(subs / "gan-hw-notebook", "{}", f"exercises/{CHAPTER}.ipynb")
    with zipfile.ZipFile(subs / "gan-hw-zed.zip", "w") as archive:
        archive.writestr(f"zed/gan-course-main/exercises/{CHAPTER}.py", solution)
        archive.writestr("zed/notes.txt", "hello")

    # the malicious: each would lose its noise tests if what it tries worked, or its reward were counted
    stolen = [
        student["alice"] / "exercises" / f"{CHAPTER}.py",  # another student's file
        course / "solutions" / f"{CHAPTER}.py",
        grades / ".work" / "results" / "alice.json",
        grades / ".work" / "alice" / "exercises" / f"{CHAPTER}.py",
    ]
    _put(
        subs / "gan-hw-reader",
        solution.replace(NOISE, f"assert not _SEEN, _SEEN\n    {NOISE}")
        + f"\n_SEEN = []\nfor _p in {[str(p) for p in stolen]!r}:\n"
        "    try:\n        _SEEN.append(open(_p).read()[-60:])\n    except OSError:\n        pass\n",
    )
    targets = [
        course / "exercises" / f"test_{CHAPTER}.py",  # the instructor's autograder
        student["alice"] / "exercises" / f"{CHAPTER}.py",
        grades / "gradebook.csv",
        grades / ".work" / "results" / "alice.json",
        grades / ".work" / "writer" / "exercises" / f"test_{CHAPTER}.py",  # its own autograder
    ]
    _put(
        subs / "gan-hw-writer",
        solution.replace(NOISE, f"assert _FULL == 3, 'a disk without a limit'\n    {NOISE}")
        + f"\nfor _p in {[str(p) for p in targets]!r}:\n"
        "    try:\n        open(_p, 'a').write('\\ndef test_forged():\\n    pass\\n')\n"
        "    except OSError:\n        pass\n"
        # and fill the disk (1 GiB) in its scratch folder, its home and /root: each is capped
        "import os\nimport tempfile\n\n_FULL = 0\n"
        "for _d in (tempfile.gettempdir(), os.path.expanduser('~'), '/root'):\n"
        "    _p = os.path.join(_d, 'filler')\n    try:\n        with open(_p, 'wb') as _f:\n"
        "            for _ in range(1024):\n                _f.write(bytes(2**20))\n"
        "    except OSError:\n        _FULL += 1\n    finally:\n        if os.path.exists(_p):\n"
        "            os.remove(_p)\n",
    )
    _put(
        subs / "gan-hw-caller",
        solution.replace(NOISE, f"assert not _REACHED\n    {NOISE}")
        + "\nimport socket\n\n_REACHED = False\ntry:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'leak')\n"
        "    _REACHED = True\nexcept OSError:\n    pass\n",
    )
    _put(
        subs / "gan-hw-forger",
        solution + "\nfrom _pytest.reports import TestReport\n\n"
        "TestReport.outcome = property(lambda self: 'passed', lambda self, value: None)\n",
    )
    return course, subs, grades


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The synthetic class graded once by the real command line: (rows by student, the run)."""
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed: the class is graded in a sandbox")
    tmp = tmp_path_factory.mktemp("class")
    listener = socket.create_server(("127.0.0.1", 0))
    connections = []
    threading.Thread(target=lambda: connections.append(listener.accept()), daemon=True).start()
    course, subs, grades = _class(tmp, listener.getsockname()[1])
    before = {p: p.read_bytes() for p in [*course.rglob("*.py"), *subs.rglob("*.py")]}
    process = ganedu_cli(
        "grading", "collect", subs, "--out", grades, "--chapters", CHAPTER, "--root", course,
        "--jobs", 2, "--timeout", STUDENT_TIMEOUT_S,
    )  # fmt: skip
    out = process.stdout.read()
    code, error = finish(process, timeout=600)
    listener.close()
    assert code == 0, (error, out)
    rows = {r["student"]: r for r in csv.DictReader((grades / "gradebook.csv").open())}
    summary = {r["student"]: r for r in csv.DictReader((grades / "summary.csv").open())}
    changed = [str(p) for p, data in before.items() if p.read_bytes() != data]
    return rows, summary, grades, out, changed, connections


def _row(graded, student):
    rows, summary, *_ = graded
    return rows[student], summary[student]


@needs_bwrap
def test_every_student_has_one_row_named_without_the_classroom_prefix(graded):
    rows, summary, _, out, *_ = graded
    expected = {
        "alice", "stub", "bug-noise-uniform", "bug-d-loss-sign-swapped", "bug-g-loss-saturating",
        "hang", "exits", "greedy", "typo", "absent", "notebook", "zed", "reader", "writer", "caller",
        "forger",
    }  # fmt: skip
    assert set(rows) == expected and set(summary) == expected
    assert "sandbox: bubblewrap" in out and "warning" not in out
    for row in rows.values():
        assert (
            row["chapter"] == CHAPTER
            and row["max_points"] == str(POINTS)
            and row["tests_total"] == str(TESTS)
        )


@needs_bwrap
@pytest.mark.parametrize("student", ["alice", "zed"])
def test_a_solution_earns_full_marks_from_a_clone_or_a_nested_zip(graded, student):
    row, summary = _row(graded, student)
    assert (row["points"], row["tests_passed"], row["failing"]) == (str(POINTS), str(TESTS), "")
    assert summary["problem"] == ""


@needs_bwrap
def test_a_stub_earns_nothing_and_says_not_yet_implemented(graded):
    row, _ = _row(graded, "stub")
    assert (row["points"], row["tests_passed"]) == ("0", "0")
    assert row["failing"].count("not yet implemented") == TESTS


@needs_bwrap
@pytest.mark.parametrize(
    ("student", "failing_test"),
    [
        ("bug-noise-uniform", "test_noise_is_standard_normal"),
        ("bug-d-loss-sign-swapped", "test_discriminator_loss_matches_hand_computation"),
        ("bug-g-loss-saturating", "test_generator_loss_is_minus_log_d_of_fake"),
    ],
)
def test_a_single_bug_loses_the_tests_that_catch_it_only(graded, student, failing_test):
    row, summary = _row(graded, student)
    assert 0 < int(row["points"]) < POINTS and 0 < int(row["tests_passed"]) < TESTS
    assert f"{failing_test}:" in row["failing"] and summary["problem"] == ""


@needs_bwrap
def test_a_hang_is_stopped_at_the_students_time_limit_and_the_batch_goes_on(graded):
    row, summary = _row(graded, "hang")
    assert (row["points"], row["tests_passed"]) == ("0", "0")
    assert row["failing"].count("timed out") == TESTS
    assert f"past the {STUDENT_TIMEOUT_S} s a student may take" in summary["problem"]
    assert STUDENT_TIMEOUT_S <= float(summary["seconds"]) < STUDENT_TIMEOUT_S + 30


@needs_bwrap
@pytest.mark.parametrize(
    ("student", "status", "reason"),
    [
        ("exits", "crashed", "(exit status 3) before reporting, e.g. with os._exit"),
        ("greedy", "out of memory", "1.5 GiB"),
    ],
)
def test_os_exit_or_2_gib_fails_only_the_tests_that_call_it(graded, student, status, reason):
    row, summary = _row(graded, student)
    failing = dict(part.split(": ", 1) for part in row["failing"].split("; "))
    assert failing["test_noise_is_standard_normal"].startswith(status)
    assert reason in failing["test_noise_is_standard_normal"]
    assert all(v.startswith(status) for v in failing.values())
    assert 0 < int(row["tests_passed"]) < TESTS and summary["problem"] == ""


@needs_bwrap
@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("typo", f"{CHAPTER}.py has a syntax error, line "),
        ("absent", f"missing exercises/{CHAPTER}.py"),
        (
            "notebook",
            f"exercises/{CHAPTER}.ipynb is a notebook; the exercise is graded from exercises/{CHAPTER}.py",
        ),
        ("forger", f"{CHAPTER}.py line "),
    ],
)
def test_a_file_that_cannot_be_graded_gets_zero_and_the_reason(graded, student, reason):
    row, summary = _row(graded, student)
    assert (row["points"], row["tests_passed"]) == ("0", "0")
    assert row["failing"].count(reason) == TESTS and reason in summary["problem"]
    assert float(summary["seconds"]) < 1  # nothing of it ran


@needs_bwrap
def test_a_pytest_patch_is_refused_by_the_policy_naming_the_line(graded):
    _, summary = _row(graded, "forger")
    assert "uses import _pytest.reports (the test machinery)" in summary["problem"]


@needs_bwrap
@pytest.mark.parametrize("student", ["reader", "writer", "caller"])
def test_a_malicious_submission_earns_what_its_code_earns_and_reaches_nothing(graded, student):
    """Each would fail its noise tests had it read another student's file, the solutions or the
    gradebook's folder, written outside its own folder, or reached the network."""
    rows, summary, grades, _, changed, connections = graded
    assert (rows[student]["points"], rows[student]["failing"]) == (str(POINTS), ""), rows[student]
    assert changed == [] and connections == []
    everything = b"".join(p.read_bytes() for p in grades.rglob("*") if p.is_file() and ".work" not in p.parts)
    assert SECRET.encode() not in everything


def test_the_policy_passes_every_solution_and_stub():
    for folder in ("solutions", "exercises"):
        for path in sorted((ROOT / folder).glob("ex[0-9][0-9]_*.py")):
            assert check_exercise(path.read_bytes(), path.name) == "", path


@pytest.mark.parametrize(
    "source",
    [
        "import pytest",
        "from _pytest import runner",
        "import ganedu.grading.journal",
        "from ganedu import grading",
        "import sys\nsys.modules['torch'] = None",
        "import sys\nframe = sys._getframe(1)",
        "x = eval('1')",
        "import os\nos.system('true')",
        "from os import execv",
        "import subprocess",
        "def f(g):\n    return g.__globals__",
        "import importlib",
    ],
)
def test_the_policy_refuses_ways_into_the_grader(source):
    assert "which an exercise may not use" in check_exercise(source.encode(), "ex.py")


def test_the_policy_allows_what_exercises_use():
    source = "import torch\nfor m in net.modules():\n    pass\nf = torch.compile(g)\nimport os\nos._exit(1)\n"
    assert check_exercise(source.encode(), "ex.py") == ""


def test_reported_results_count_only_the_instructors_tests_once_each():
    expected = ["t.py::a", "t.py::b"]
    report = [{"nodeid": "t.py::a", "outcome": "passed", "exception": "", "message": ""}]
    forged = {"nodeid": "t.py::forged", "outcome": "passed", "exception": "", "message": ""}
    results, problem = _checked(json.dumps([*report, forged]).encode(), expected)
    assert problem == "" and [(r.nodeid, r.outcome) for r in results] == [
        ("t.py::a", "passed"),
        ("t.py::b", "failed"),
    ]
    assert results[1].message == "the test did not report a result"
    assert "twice" in _checked(json.dumps(report * 2).encode(), expected)[1]
    assert _checked(b"not json", expected)[1] == "the grading did not report its results"
    assert _checked(json.dumps([{**report[0], "outcome": "won"}]).encode(), expected)[1]


def test_zip_entries_are_read_without_extracting_and_links_refused(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    with zipfile.ZipFile(subs / "evil.zip", "w") as archive:
        archive.writestr(f"../../{CHAPTER}.py", "x = 1\n")
        link = zipfile.ZipInfo(f"a/{CHAPTER}.py")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    (subs / "broken.zip").write_bytes(b"PK not a zip")
    (subs / "linked").mkdir()
    (subs / "linked" / f"{CHAPTER}.py").symlink_to(ROOT / "solutions" / f"{CHAPTER}.py")
    found = {s.student: s for s in discover(subs, [CHAPTER])}
    assert "2 files named" in found["evil"].problems[CHAPTER]
    assert "is not a zip file that can be read" in found["broken"].problem
    assert "is a link, not the file itself" in found["linked"].problems[CHAPTER]
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "broken.zip",
        "evil.zip",
        f"{CHAPTER}.py",
        "linked",
        "subs",
    ]


@needs_bwrap
def test_a_killed_batch_leaves_a_gradebook_and_a_rerun_grades_only_what_is_left(tmp_path):
    course, subs, grades = _course(tmp_path / "course"), tmp_path / "subs", tmp_path / "grades"
    solution = (course / "solutions" / f"{CHAPTER}.py").read_text()
    for name in ("ann", "ben"):
        _put(subs / name, solution)
    args = ["grading", "collect", subs, "--out", grades, "--root", course, "--jobs", 1]
    first = ganedu_cli(*args, start_new_session=True)
    gradebook = grades / "gradebook.csv"  # written at the start and after each student

    def first_graded():
        return gradebook.is_file() and "\nann," in gradebook.read_text()

    wait_for(first_graded, timeout=120)
    os.killpg(first.pid, signal.SIGKILL)  # the batch and the grading it had started
    first.communicate()
    rows = list(csv.DictReader((grades / "gradebook.csv").open()))
    assert [(r["student"], r["points"]) for r in rows] == [("ann", str(POINTS))]

    again = ganedu_cli(*args)
    out = again.stdout.read()
    assert finish(again, timeout=300)[0] == 0
    assert "2 submissions, 1 graded before and unchanged; grading 1" in out
    rows = list(csv.DictReader((grades / "gradebook.csv").open()))
    assert [(r["student"], r["points"]) for r in rows] == [("ann", str(POINTS)), ("ben", str(POINTS))]

    _put(subs / "ben", "import pytest\n")  # a changed file is graded again (here, refused at once)
    third = ganedu_cli(*args)
    out = third.stdout.read()
    assert finish(third, timeout=300)[0] == 0
    assert "1 graded before and unchanged; grading 1" in out
    rows = list(csv.DictReader((grades / "gradebook.csv").open()))
    assert [(r["student"], r["points"]) for r in rows] == [("ann", str(POINTS)), ("ben", "0")]


def test_the_submissions_and_the_gradebook_must_be_separate_folders(tmp_path):
    (tmp_path / "subs").mkdir()
    process = ganedu_cli("grading", "collect", tmp_path / "subs", "--out", tmp_path / "subs" / "grades")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err.strip().splitlines() == [
        f"error: --out {tmp_path}/subs/grades and the submissions {tmp_path}/subs must be separate folders, "
        "neither in the other"
    ]


def test_without_bwrap_grading_warns_in_one_line_that_it_has_no_sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on it
    sandbox = find_sandbox([tmp_path])
    assert (sandbox.bwrap, sandbox.name, sandbox.command(tmp_path)) == (None, "none", [])
    assert "not installed" in sandbox.warning and "WITHOUT a sandbox" in sandbox.warning
    assert "\n" not in sandbox.warning


def test_a_bwrap_that_refuses_is_tried_and_reported_not_trusted(tmp_path, monkeypatch):
    """A stand-in ``bwrap`` that fails as bwrap does where user namespaces are off (refusing a
    real one would mean changing the kernel's settings for the whole machine)."""
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    sandbox = find_sandbox([tmp_path])
    assert sandbox.bwrap is None and sandbox.name == "none"
    assert "refused to start a sandbox (bwrap: No permissions to creating new namespace)" in sandbox.warning


@needs_bwrap
def test_the_sandbox_hides_the_class_and_caps_its_disks(tmp_path):
    (tmp_path / "subs" / "bob").mkdir(parents=True)
    (tmp_path / "subs" / "bob" / "secret").write_text("bob's")
    work = tmp_path / "work"
    work.mkdir()
    sandbox = find_sandbox([tmp_path / "subs", Path.home()])
    script = (
        f"ls {tmp_path}/subs; touch {work}/x || echo read-only; "
        "head -c 100000 /dev/zero > ~/f || echo home full; head -c 600000000 /dev/zero > /tmp/f || echo tmp full"
    )
    run = subprocess.run([*sandbox.command(work), "sh", "-c", script], capture_output=True, text=True)
    assert run.stdout.split("\n")[:1] != ["bob"] and "secret" not in run.stdout
    assert "read-only" in run.stdout and "home full" in run.stdout and "tmp full" in run.stdout
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("use_sandbox", [False, pytest.param(True, marks=needs_bwrap)])
def test_results_come_through_the_pipe_and_a_run_past_its_limit_is_stopped_whole(tmp_path, use_sandbox):
    sandbox = find_sandbox([], use=use_sandbox)
    write = [sys.executable, "-c", "open('{results}', 'w').write('[1]'); print('done')"]
    outcome = run_sandboxed(sandbox, tmp_path, write, timeout=60)
    assert (outcome.results, outcome.output.strip(), outcome.timed_out) == (b"[1]", "done", False)
    marker = f"{60 + use_sandbox + os.getpid() % 1000 / 1000:.3f}"  # a sleep no other process runs
    hang = ["sh", "-c", f"sleep {marker} & sleep {marker}"]
    outcome = run_sandboxed(sandbox, tmp_path, hang, timeout=1)
    assert outcome.timed_out and outcome.results == b"" and outcome.seconds < 10
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True).stdout
    assert left == "", "a process of the stopped run is still alive"
