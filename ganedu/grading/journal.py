"""Inside a chapter's own grading process: run its tests and write down each result at once.

Every test file in ``exercises/`` is graded in a process of its own (started by
:mod:`ganedu.grading.isolation`), so whatever a learner's file does to the libraries or to
global state (patching ``torch.allclose``, a float64 default dtype, the random state, even
``os._exit``) reaches only its own chapter. That process appends one JSON line per event to a
journal, flushed at once; whatever ends the process, the journal says which tests reported and
which one was running::

    {"event": "start", "nodeid": "exercises/test_ex01_gan_basics.py::test_x"}
    {"event": "report", "report": {...}}    # setup, call, teardown: pytest's own serialisation
    {"event": "stopped", "reason": "Exit: ..."}   # pytest.exit or Ctrl-C ended the session early
    {"event": "finish"}

A failed report carries ``exception_name`` and ``exception_message`` (its first line). Three
names are the grader's own: :data:`TIMEOUT` (past the time limit), :data:`MEMORY` (more
memory than a chapter may use) and :data:`CRASH` (the process died before the test reported).
"""

from __future__ import annotations

import gc
import json
import os
import re
import sys
from pathlib import Path

import pytest

from ganedu.grading.autograder import CRASH, MEMORY, TIMEOUT

__all__ = ["CRASH", "MEMORY", "TIMEOUT", "JournalWriter", "run_chapter"]

GIB = 2**30
_OUT_OF_MEMORY = re.compile(r"out of memory|can't allocate memory|not enough memory", re.IGNORECASE)

_journal_path: str | None = None


def in_chapter_process() -> bool:
    """True inside a process started by :func:`run_chapter` (where the tests run in place)."""
    return _journal_path is not None


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


def run_chapter(args: list[str], journal: str, log: str, cwd: str, memory_limit: int | None, cap_data: bool):
    """A chapter's grading process: ``pytest <args>`` with its output in ``log``, its events in
    ``journal``, and, when ``cap_data``, at most ``memory_limit`` bytes of data (Linux)."""
    global _journal_path
    _journal_path = journal
    gc.freeze()  # what the fork server imported is never collected here: no copy of its pages
    os.chdir(cwd)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the plugins it needs are named in ``args``
    with open(log, "ab") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    if memory_limit and cap_data and sys.platform.startswith("linux"):
        import resource  # Unix only

        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        limit = memory_limit if hard == resource.RLIM_INFINITY else min(memory_limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    code = pytest.main(args, plugins=[JournalWriter(journal, memory_limit)])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))  # without waiting for threads or exit handlers a learner's code left behind


def memory_message(memory_limit: int | None) -> str:
    """What a learner reads when a test needed more memory than grading allows."""
    limit = f"the {memory_limit / GIB:.1f} GiB" if memory_limit else "the memory"
    return f"the test needed more than {limit} a chapter may use while it is graded"


class JournalWriter:
    """The pytest plugin of a chapter's process: runs only the tests asked for (listed, one
    node id a line, in ``<journal>.select``) and writes each event to the journal as it happens."""

    def __init__(self, journal: str, memory_limit: int | None) -> None:
        self.journal = open(journal, "a", encoding="utf-8")  # noqa: SIM115 (open for the whole run)
        self.selected = set(Path(journal + ".select").read_text(encoding="utf-8").splitlines())
        self.memory_limit = memory_limit
        self.config: pytest.Config | None = None

    def _write(self, **event) -> None:
        self.journal.write(json.dumps(event) + "\n")
        self.journal.flush()

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
        self._write(event="start", nodeid=nodeid)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
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

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo) -> None:
        """``pytest.exit(...)`` (``--device cuda`` without a GPU) or Ctrl-C: no other test will run."""
        message = getattr(excinfo.value, "msg", "") or str(excinfo.value)
        self._write(event="stopped", reason=f"{excinfo.typename}: {message}".rstrip(": "))

    def pytest_sessionfinish(self) -> None:
        self._write(event="finish")
        self.journal.close()


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else ""
