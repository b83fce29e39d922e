"""Inside a chapter's own grading process: run its tests and write down each result at once.

Every test file in ``exercises/`` is graded in a process of its own (started by
:mod:`ganedu.grading.isolation`), so whatever a learner's file does to the libraries or to
global state (patching ``torch.allclose``, a float64 default dtype, the random state, even
``os._exit``) reaches only its own chapter. That process writes one JSON line per event into a
pipe to the grading process, at once; whatever ends the process, the journal says which tests
reported and which one was running. Nothing of it needs a disk, so a learner's file that fills
the disk cannot lose a result. Each line names the process that wrote it::

    {"event": "start", "nodeid": "exercises/test_ex01_gan_basics.py::test_x", "pid": 4711}
    {"event": "report", "report": {...}, "pid": 4711}   # setup, call, teardown: pytest's own serialisation
    {"event": "stopped", "reason": "Exit: ...", "pid": 4711}   # pytest.exit or Ctrl-C ended it early
    {"event": "finish", "pid": 4711}

A failed report carries ``exception_name`` and ``exception_message`` (its first line). Three
names are the grader's own: :data:`TIMEOUT` (past the time limit), :data:`MEMORY` (more
memory than a chapter may use) and :data:`CRASH` (the process died before the test reported).

What a test leaves behind is undone before the next one: the working directory is restored;
a test that leaves a thread of its own running or closes the standard output or error ends
the process after its report, and the rest of the chapter runs in a new one; a copy of the
process made by ``os.fork`` that returns into pytest ends at its first event.
"""

from __future__ import annotations

import gc
import json
import os
import re
import sys
import tempfile
import threading

import pytest

from ganedu.grading.autograder import CRASH, MEMORY, TIMEOUT, _first_line

__all__ = ["CRASH", "MEMORY", "TIMEOUT", "JournalWriter", "run_chapter"]

GIB = 2**30
_OUT_OF_MEMORY = re.compile(r"out of memory|can't allocate memory|not enough memory", re.IGNORECASE)

_in_chapter_process = False


def in_chapter_process() -> bool:
    """True inside a process started by :func:`run_chapter` (where the tests run in place)."""
    return _in_chapter_process


def default_memory_limit() -> int | None:
    """Bytes one chapter may use: 40% of this machine's memory (two chapters run at a time),
    or ``None`` where the size of the memory is unknown."""
    try:
        return int(0.4 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def time_limit(item: pytest.Item) -> float | None:
    """The seconds ``item`` may run: its ``@pytest.mark.timeout(N)``, else the ini ``timeout``."""
    marker = item.get_closest_marker("timeout")
    if marker is not None:
        value = marker.kwargs.get("timeout", marker.args[0] if marker.args else None)
    else:
        try:
            value = item.config.getini("timeout")
        except ValueError:  # pytest-timeout is not installed
            value = None
    return float(value) if value else None


def run_chapter(
    args: list[str],
    selected: list[str],
    journal,
    log,
    cwd: str,
    scratch: str,
    memory_limit: int | None,
    cap_data: bool,
):
    """A chapter's grading process: ``pytest <args>`` on the tests ``selected`` (node ids), in a
    session of its own, its events written to the pipe ``journal`` and its output to the pipe
    ``log`` (write ends of ``multiprocessing`` pipes), its temporary files in ``scratch``, and,
    when ``cap_data``, at most ``memory_limit`` bytes of data (Linux). Never returns."""
    global _in_chapter_process
    _in_chapter_process = True
    gc.freeze()  # what the fork server imported is never collected here: no copy of its pages
    if hasattr(os, "setsid"):
        os.setsid()  # every process a learner's file starts can be ended with the chapter
    os.chdir(cwd)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the plugins it needs are named in ``args``
    os.environ["TMPDIR"] = tempfile.tempdir = scratch  # deleted when the chapter ends
    journal_fd = os.dup(journal.fileno())
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    # pytest writes through descriptors of its own, which a learner's os.close(1) cannot reach
    sys.stdout = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    sys.stderr = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    journal.close()
    log.close()
    if memory_limit and cap_data and sys.platform.startswith("linux"):
        import resource  # Unix only

        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        limit = memory_limit if hard == resource.RLIM_INFINITY else min(memory_limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    code = pytest.main(args, plugins=[JournalWriter(journal_fd, selected, memory_limit)])
    _end(int(code))


def _end(code: int) -> None:
    """End this process without waiting for threads or exit handlers a learner's code left behind."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # closed or replaced by a learner's file
            pass
    os._exit(code)


def memory_message(memory_limit: int | None) -> str:
    """What a learner reads when a test needed more memory than grading allows."""
    limit = f"the {memory_limit / GIB:.1f} GiB" if memory_limit else "the memory"
    return f"the test needed more than {limit} a chapter may use while it is graded"


class JournalWriter:
    """The pytest plugin of a chapter's process: runs only the ``selected`` tests (node ids) and
    writes each event to the journal (the file descriptor ``journal_fd``) as it happens."""

    def __init__(self, journal_fd: int, selected: list[str], memory_limit: int | None) -> None:
        self.journal = os.fdopen(journal_fd, "w", encoding="utf-8")
        self.pid = os.getpid()
        self.cwd = os.getcwd()
        self.selected = set(selected)
        self.memory_limit = memory_limit
        self.config: pytest.Config | None = None
        self.threads: set[threading.Thread] = set()

    def _write(self, **event) -> None:
        self._only_in_own_process()
        self.journal.write(json.dumps({**event, "pid": self.pid}) + "\n")
        self.journal.flush()

    def _only_in_own_process(self) -> None:
        """End a copy of this process (a learner's ``os.fork()``) that came back into pytest."""
        if os.getpid() != self.pid:
            os._exit(0)

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        kept = [item for item in items if item.nodeid in self.selected]
        dropped = [item for item in items if item.nodeid not in self.selected]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.threads = set(threading.enumerate())
        self._write(event="start", nodeid=nodeid)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        self._only_in_own_process()
        if call.excinfo is not None and report.failed:
            error = call.excinfo.value
            name, message = call.excinfo.typename, _first_line(str(error))
            if isinstance(error, pytest.fail.Exception) and message.startswith("Timeout"):
                limit = time_limit(item)
                name, message = TIMEOUT, f"the test ran past its {limit:g} s time limit" if limit else message
            elif isinstance(error, MemoryError) or (
                isinstance(error, RuntimeError) and _OUT_OF_MEMORY.search(str(error))
            ):
                name, message = MEMORY, f"{memory_message(self.memory_limit)} ({message})"
            report.exception_name, report.exception_message = name, message
            if name in (TIMEOUT, MEMORY):
                report.sections.append(("grading", message))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = self.config.hook.pytest_report_to_serializable(config=self.config, report=report)
        self._write(event="report", report=data)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        """Undo what the test changed of the process; end it when that cannot be undone."""
        self._only_in_own_process()
        try:
            moved = os.getcwd() != self.cwd
        except OSError:  # its working directory was deleted
            moved = True
        if moved:
            os.chdir(self.cwd)
        if self._left_behind():
            self.journal.close()
            _end(0)

    def _left_behind(self) -> bool:
        """Whether the last test left a thread of its own running or the output closed."""
        if any(t not in self.threads and not t.daemon for t in threading.enumerate()):
            return True
        for fd in (1, 2):
            try:
                os.fstat(fd)
            except OSError:
                return True
        streams = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
        return any(stream is None or stream.closed for stream in streams)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo) -> None:
        """``pytest.exit(...)`` (``--device cuda`` without a GPU) or Ctrl-C: no other test will run."""
        message = getattr(excinfo.value, "msg", "") or str(excinfo.value)
        self._write(event="stopped", reason=f"{excinfo.typename}: {message}".rstrip(": "))

    def pytest_sessionfinish(self) -> None:
        self._write(event="finish")
        self.journal.close()
