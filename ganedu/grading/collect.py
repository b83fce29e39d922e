"""Grading a whole class: ``python -m ganedu grading collect SUBMISSIONS/ --out GRADES/``.

Each student (:mod:`ganedu.grading.submissions`) is graded like a learner's own run, each chapter
in a process of its own with its time and memory limits (:mod:`ganedu.grading.isolation`), in
a folder laid out as a course (``GRADES/.work/<student>/``) that holds the instructor's
``exercises/conftest.py`` and autograders and only the student's exercise files, inside a
sandbox (:mod:`ganedu.grading.sandbox`). A few students are graded at a time. Whatever a
submission does (hang, crash, fill the memory or the disk, fail to parse, miss a file) ends in
its own rows with a reason, never in the others'.

The results a sandbox reports are checked outside it: only the instructor's collected tests
count (one missing is failed, one reported twice makes the report invalid), and points come from
the instructor's autograders (:mod:`ganedu.grading.points`). A file that uses what no exercise
needs and could forge its grading in its own process is refused by :mod:`ganedu.grading.policy`.

Each student's results are saved as ``GRADES/.work/results/<student>.json`` with a fingerprint of
their files and the graders, and the outputs (:func:`ganedu.grading.gradebook.write_outputs`)
rewritten after every student: a stopped batch leaves a valid gradebook of what finished, and a
rerun grades only the students not yet graded or whose files (or the graders) changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from ganedu.errors import GaneduError
from ganedu.files import write_atomically
from ganedu.grading.autograder import CRASH, TIMEOUT, TestResult
from ganedu.grading.gradebook import Submission, chapter_of, write_outputs
from ganedu.grading.isolation import PARALLEL_CHAPTERS
from ganedu.grading.journal import GIB
from ganedu.grading.policy import check_exercise
from ganedu.grading.sandbox import Sandbox, find_sandbox, run_sandboxed
from ganedu.grading.stubs import exercise_names, repository_root
from ganedu.grading.submissions import StudentFiles, discover

# Every chapter's reference solution passes with 1.0 GiB (0.5 GiB is too little: the chapter's
# process starts with torch loaded); 1.5 GiB leaves room, and stops a 2 GiB allocation.
DEFAULT_MEMORY_GIB = 1.5
DEFAULT_TIMEOUT_S = 1200.0  # a student's whole grading; every chapter's tests take under 1 min
OUTCOMES = {"passed", "failed", "error", "skipped"}
MESSAGE_CHARS = 500


class CollectError(GaneduError):
    """The class cannot be graded as asked (a folder missing, an unknown chapter)."""


@dataclass
class Options:
    """How a class is graded: ``chapters`` by name, ``jobs`` students at a time, ``memory_gib``
    per chapter, ``timeout`` seconds per student, ``regrade`` everyone, ``sandbox`` or not."""

    chapters: list[str]
    jobs: int
    memory_gib: float = DEFAULT_MEMORY_GIB
    timeout: float = DEFAULT_TIMEOUT_S
    regrade: bool = False
    sandbox: bool = True
    device: str = "cpu"


def default_jobs(memory_gib: float) -> int:
    """Students graded at a time: each grades two chapters at once, so half the usable cores,
    and as many as twice the chapter memory limit fits in the memory available now."""
    from ganedu.threads import usable_cores  # imports PyTorch: only when collect runs

    cores = len(usable_cores())
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
        available = max(available, _meminfo_available())
    except (ValueError, OSError):
        available = 0
    by_memory = int(available // (PARALLEL_CHAPTERS * memory_gib * GIB)) if available else cores
    return max(1, min(cores // PARALLEL_CHAPTERS, by_memory))


def _meminfo_available() -> int:
    """MemAvailable (free memory plus what the page cache would give back), Linux only."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def instructor_tests(root: Path, chapters: list[str]) -> dict[str, list[str]]:
    """Each chapter's test node ids, collected from the instructor's autograders (with the
    solutions, outside any sandbox): the only tests a submission's results may report."""
    files = [f"exercises/test_{name}.py" for name in chapters]
    env = {k: v for k, v in os.environ.items() if k != "GANEDU_MUTANTS"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--solutions",
            *files,
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    tests: dict[str, list[str]] = {name: [] for name in chapters}
    for line in proc.stdout.splitlines():
        name = chapter_of(line)
        if "::" in line and name in tests:
            tests[name].append(line.strip())
    empty = [name for name, ids in tests.items() if not ids]
    if proc.returncode != 0 or empty:
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        raise CollectError(
            f"the instructor's autograders of {', '.join(empty) or 'the chapters'} collected no tests "
            f"(pytest exit {proc.returncode}: {tail}); run `python -m ganedu grading grade --solutions` to see why"
        )
    return tests


def _instructor_tests_once(
    root: Path, chapters: list[str], graders: str, saved: Path
) -> dict[str, list[str]]:
    """:func:`instructor_tests`, kept in ``saved`` and read from there while the graders are the same."""
    try:
        data = json.loads(saved.read_text())
        if data["graders"] == graders:
            return data["tests"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    tests = instructor_tests(root, chapters)
    write_atomically(saved, json.dumps({"graders": graders, "tests": tests}).encode())
    return tests


def graders_fingerprint(root: Path, chapters: list[str], options: Options) -> str:
    """A hash of what decides a grade besides the submission: the graders, the memory limit and
    the device (the time limit only matters to a student who ran out of it: see :meth:`_Grader.saved`)."""
    digest = hashlib.sha256(f"{options.memory_gib} {options.device}".encode())
    for path in [
        root / "exercises" / "conftest.py",
        *(root / "exercises" / f"test_{n}.py" for n in chapters),
    ]:
        digest.update(f"\0{path.name}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def collect(
    submissions: Path,
    out: Path,
    options: Options,
    root: Path | None = None,
    progress: Callable[[str], None] = print,
) -> list[Submission]:
    """Grade every student in ``submissions``; write the gradebook and the rest under ``out``.

    Args:
        submissions: the folder holding one entry (folder, zip, clone) per student.
        out: where the outputs go (:func:`~ganedu.grading.gradebook.write_outputs`), with
            ``.work/`` (each student's graded folder and saved results) and ``collect.json``.
        options: the chapters, limits and students at a time (:class:`Options`).
        root: the instructor's course repository (default: :func:`repository_root`).
        progress: called with each line to show (a line per student).

    Returns:
        One :class:`~ganedu.grading.gradebook.Submission` per student, sorted by student id.

    Raises:
        CollectError: a folder is missing, one holds the other, or a chapter has no autograder.
    """
    root = (root or repository_root()).resolve()
    submissions, out = submissions.resolve(), out.resolve()
    _check_folders(submissions, out)
    known = exercise_names(root)
    unknown = [n for n in options.chapters if n not in known]
    if unknown:
        raise CollectError(f"no exercise {', '.join(unknown)} in {root} (exercises: {', '.join(known)})")
    chapters = options.chapters or known
    graders = graders_fingerprint(root, chapters, options)
    tests = _instructor_tests_once(root, chapters, graders, out / ".work" / "tests.json")
    students = discover(submissions, chapters)
    sandbox = find_sandbox([submissions, out, root / "solutions", Path.home()], use=options.sandbox)
    if sandbox.warning:
        progress(f"warning: {sandbox.warning}")
    grader = _Grader(root, out, tests, options, sandbox)
    done: dict[str, Submission] = {}
    pending = []
    for student in students:
        # graded in a sandbox or not: a class graded without one is graded again once there is one
        how = f"{graders} {sandbox.bwrap is not None} {student.fingerprint()}"
        fingerprint = hashlib.sha256(how.encode()).hexdigest()
        saved = None if options.regrade else grader.saved(student.student, fingerprint)
        if saved is not None:
            done[student.student] = saved
        else:
            pending.append((student, fingerprint))
    progress(
        f"{len(students)} submissions, {len(done)} graded before and unchanged; grading {len(pending)}, "
        f"{options.jobs} at a time ({', '.join(chapters)}; sandbox: {sandbox.name})"
    )
    grader.write(done)
    pool = ThreadPoolExecutor(max_workers=options.jobs)
    try:
        futures = [pool.submit(grader.grade, s, fp) for s, fp in pending]
        for count, future in enumerate(as_completed(futures), start=1):
            graded = future.result()
            done[graded.student] = graded
            grader.write(done)
            progress(f"[{count}/{len(pending)}] {_summary(graded, tests)}")
    finally:  # Ctrl-C: no new student starts; the sandboxes running end with this process
        pool.shutdown(wait=False, cancel_futures=True)
    return sorted(done.values(), key=lambda s: s.student)


def _check_folders(submissions: Path, out: Path) -> None:
    if not submissions.is_dir():
        raise CollectError(f"{submissions} is not a folder; give the folder holding one entry per student")
    if out.is_relative_to(submissions) or submissions.is_relative_to(out):
        raise CollectError(
            f"--out {out} and the submissions {submissions} must be separate folders, neither in the other"
        )


def _summary(s: Submission, tests: dict[str, list[str]]) -> str:
    passed = sum(r.outcome == "passed" for r in s.results)
    total = sum(len(ids) for ids in tests.values())
    line = f"{s.student}: {passed}/{total} tests passed ({s.seconds:.1f} s)"
    return f"{line}; {s.problem}" if s.problem else line


class _Grader:
    """Grades one student at a time (from several threads) and keeps their saved results."""

    def __init__(
        self, root: Path, out: Path, tests: dict[str, list[str]], options: Options, sandbox: Sandbox
    ):
        self.root, self.out, self.tests, self.options, self.sandbox = root, out, tests, options, sandbox
        self.work = out / ".work"
        self.saved_dir = self.work / "results"

    @property
    def _timeout_message(self) -> str:
        return f"the grading ran past the {self.options.timeout:g} s a student may take and was stopped"

    def saved(self, student: str, fingerprint: str) -> Submission | None:
        """The student's saved grading when it was made from the same files and graders."""
        path = self.saved_dir / f"{student}.json"
        try:
            data = json.loads(path.read_text())
            if data["fingerprint"] != fingerprint:
                return None
            if data["timed_out"] and data["timeout"] < self.options.timeout:
                return None  # stopped at a shorter limit than this run's
            results = [TestResult(**r) for r in data["results"]]
            return Submission(data["student"], results, data["problem"], data["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, done: dict[str, Submission]) -> None:
        """The gradebook and the rest (:func:`write_outputs`), and ``collect.json``: how they were
        graded (the sandbox, the limits, the chapters)."""
        write_outputs(list(done.values()), self.out, self.root)
        how = {
            "sandbox": self.sandbox.name,
            "sandbox_warning": self.sandbox.warning,
            "chapters": list(self.tests),
            "memory_limit_gib": self.options.memory_gib,
            "timeout_s": self.options.timeout,
            "students": len(done),
        }
        write_atomically(self.out / "collect.json", (json.dumps(how, indent=1) + "\n").encode())

    def grade(self, student: StudentFiles, fingerprint: str) -> Submission:
        """Grade one student and save the result; returns it."""
        start = time.monotonic()
        results, problems = self._grade(student)
        graded = Submission(student.student, results, "; ".join(problems), time.monotonic() - start)
        record = {
            "fingerprint": fingerprint,
            "student": graded.student,
            "source": student.source.name,
            "sandbox": self.sandbox.name,
            "timeout": self.options.timeout,
            "timed_out": any(r.exception == TIMEOUT and r.message == self._timeout_message for r in results),
            "problem": graded.problem,
            "seconds": graded.seconds,
            "results": [vars(r) for r in graded.results],
        }
        write_atomically(self.saved_dir / f"{student.student}.json", json.dumps(record, indent=1).encode())
        return graded

    def _grade(self, student: StudentFiles) -> tuple[list[TestResult], list[str]]:
        """Every instructor test of every chapter, in order, and the problems met."""
        if student.problem:
            return self._failed(list(self.tests), student.problem), [student.problem]
        problems, runnable = {}, []
        for name in self.tests:
            why = student.problems.get(name) or check_exercise(student.files[name], f"{name}.py")
            if why:
                problems[name] = why
            else:
                runnable.append(name)
        graded: dict[str, list[TestResult]] = {}
        if runnable:
            results, problem = self._run(student, runnable)
            for name in runnable:
                graded[name] = [r for r in results if r.nodeid in set(self.tests[name])]
            if problem:
                problems["grading"] = problem
        results = []
        for name in self.tests:
            results += graded[name] if name in graded else self._failed([name], problems[name])
        return results, [f"{name}: {why}" for name, why in problems.items()]

    def _failed(self, chapters: list[str], why: str, exception: str = "") -> list[TestResult]:
        return [
            TestResult(nodeid, "failed", exception, why) for name in chapters for nodeid in self.tests[name]
        ]

    def _run(self, student: StudentFiles, chapters: list[str]) -> tuple[list[TestResult], str]:
        """Grade ``chapters`` of the student in the sandbox: the checked results, and a problem."""
        workdir = self._workdir(student, chapters)
        grading = [sys.executable, "-m", "ganedu.grading", "pytest", "{results}", "--", "-q"]
        grading += ["-p", "no:cacheprovider", f"--device={self.options.device}"]
        grading += [f"--memory-limit={self.options.memory_gib}"]
        grading += [f"exercises/test_{name}.py" for name in chapters]
        outcome = run_sandboxed(self.sandbox, workdir, grading, self.options.timeout)
        if outcome.timed_out:
            return self._failed(chapters, self._timeout_message, TIMEOUT), self._timeout_message
        results, problem = _checked(outcome.results, [n for c in chapters for n in self.tests[c]])
        if problem:
            tail = " | ".join(outcome.output.strip().splitlines()[-2:])[-300:]
            why = f"{problem} (exit status {outcome.returncode}{'; ' + tail if tail else ''})"
            return self._failed(chapters, why, CRASH), why
        return results, ""

    def _workdir(self, student: StudentFiles, chapters: list[str]) -> Path:
        """``.work/<student>/``: the instructor's conftest and autograders, the student's files."""
        workdir = self.work / student.student
        if workdir.exists():
            shutil.rmtree(workdir)
        exercises = workdir / "exercises"
        exercises.mkdir(parents=True)
        (workdir / "pytest.ini").write_text("[pytest]\n")  # no configuration from folders above
        shutil.copyfile(self.root / "exercises" / "conftest.py", exercises / "conftest.py")
        for name in chapters:
            shutil.copyfile(self.root / "exercises" / f"test_{name}.py", exercises / f"test_{name}.py")
            (exercises / f"{name}.py").write_bytes(student.files[name])
        return workdir


def _checked(data: bytes | None, expected: list[str]) -> tuple[list[TestResult], str]:
    """The results a grading run reported, one per expected test in order, or why they are invalid.

    Only ``expected`` node ids count (others are dropped); one reported twice makes the whole
    report invalid; one not reported is failed as a crash.
    """
    if data is None:
        return [], "the grading reported more results than it can have"
    try:
        raw = json.loads(data)
        reported = [TestResult(**r) for r in raw]
    except (ValueError, TypeError):
        return [], "the grading did not report its results"
    if not all(isinstance(v, str) for r in reported for v in vars(r).values()):
        return [], "the grading's results were malformed"
    if any(r.outcome not in OUTCOMES for r in reported):
        return [], "the grading's results were malformed"
    ids = [r.nodeid for r in reported]
    twice = sorted({n for n in ids if ids.count(n) > 1})
    if twice:
        return [], f"the grading's results name {twice[0]} twice"
    by_id = {r.nodeid: r for r in reported}
    results = []
    for nodeid in expected:
        r = by_id.get(nodeid) or TestResult(nodeid, "failed", CRASH, "the test did not report a result")
        results.append(TestResult(r.nodeid, r.outcome, r.exception[:100], r.message[:MESSAGE_CHARS]))
    return results, ""
