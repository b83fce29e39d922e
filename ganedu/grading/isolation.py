"""Every chapter graded in a process of its own; the reporting process never imports a learner file.

``pytest exercises/`` collects the autograders as usual, then, instead of running the tests, this
plugin runs each test file (one chapter) in a child process (:func:`ganedu.grading.journal.run_chapter`),
two at a time, and passes each result on to pytest as the child journals it: the terminal,
``--junitxml``, the exit status and :func:`ganedu.grading.check` see ordinary test reports.

When a child dies before its tests have all reported (``os._exit``, a signal, a time limit it did
not honour, too much memory), the test that was running is reported as failed with the reason,
and the rest of its chapter runs again in a new child without it. Every collected test ends
with a report: a grading run that lost a result can never look like a success.

A child's journal and output come through pipes, not files, and only the events of the child
itself count (not those of a copy made by ``os.fork``). Each child is a session of its own with
a scratch folder as its ``TMPDIR``: when it ends, every process it started is killed and its
scratch folder deleted, so a learner's file that forked, or filled the disk, leaves nothing for
the next chapter. Chapters graded at the same time share the disk while both run.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import multiprocessing.forkserver
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ganedu.grading.journal import CRASH, MEMORY, TIMEOUT, memory_message, run_chapter, time_limit

PARALLEL_CHAPTERS = 2
GRACE_S = 10.0  # past its time limit, a test that pytest-timeout could not interrupt is killed
START_LIMIT_S = 120.0  # a child that runs no test for this long (collection hung) is killed
EXIT_LIMIT_S = 5.0  # a child still alive this long after its last report (a learner's thread?) is killed
POLL_S = 0.05
LOG_TAIL_BYTES = 1 << 16  # how much of a child's output is kept, for the reason it died


def _plugins() -> list[str]:
    """The only pytest plugins a chapter's process loads (others, such as nbval, cost seconds to
    import): those of them this pytest session loaded. Asked when grading starts, not when this
    module is imported, which may be before pytest has loaded any plugin."""
    return [name for name in ("pytest_timeout",) if name in sys.modules]


def configure(
    config: pytest.Config, chapter_args: list[str], memory_limit: int | None, cap_data: bool
) -> None:
    """Grade each test file of this pytest run in its own process (call from ``pytest_configure``).

    Args:
        config: the pytest configuration of the reporting process.
        chapter_args: options every chapter's pytest gets (``["--device=cpu", "--solutions"]``).
        memory_limit: bytes one chapter may use; a child over it is stopped.
        cap_data: also cap the child's data segment at ``memory_limit`` (Linux ``RLIMIT_DATA``), so
            an allocation too large fails inside the test instead; off for CUDA, whose driver maps
            large private regions.
    """
    plugin = IsolatedChapters(config, chapter_args, memory_limit, cap_data, _context(config))
    config.pluginmanager.register(plugin, "ganedu-isolation")


def _context(config: pytest.Config):
    """How children start. Linux forks each one from a server that has already imported torch,
    pytest and ganedu (1 s or more each time otherwise); the server starts now, while this process
    collects. Elsewhere a fresh interpreter starts, as fork is unsafe on macOS and absent on Windows."""
    if not sys.platform.startswith("linux"):
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    ganedu = sorted(name for name in sys.modules if name.split(".")[0] == "ganedu")
    context.set_forkserver_preload(["torch", "pytest", *_plugins(), *ganedu, "ganedu.grading.journal"])
    if not config.option.collectonly:
        multiprocessing.forkserver.ensure_running()
    return context


@dataclass
class ChapterRun:
    """One test file graded in child processes until every one of its tests has a report."""

    path: Path
    items: dict[str, pytest.Item]
    workdir: Path
    plugin: IsolatedChapters
    finished: set[str] = field(default_factory=set)
    relay: list[tuple] = field(default_factory=list)  # ("start" | "finish", item) | ("report", item, report)
    done: bool = False
    attempt: int = 0
    process: multiprocessing.process.BaseProcess | None = None
    running: str | None = None
    phases: list[str] = field(default_factory=list)
    since: float = 0.0
    journal_buffer: bytes = b""
    log_tail: bytes = b""
    saw_finish: bool = False
    finished_before: int = 0
    stopped: str = ""
    killed_for: tuple[str, str] | None = None

    def start(self) -> None:
        """Start a child for the tests of this chapter that have no report yet."""
        self.attempt += 1
        self.scratch = self.workdir / f"{self.path.stem}.{self.attempt}"
        self.scratch.mkdir()
        remaining = [nodeid for nodeid in self.items if nodeid not in self.finished]
        plugin = self.plugin
        self.journal, journal_end = plugin.context.Pipe(duplex=False)
        self.log, log_end = plugin.context.Pipe(duplex=False)
        self.process = plugin.context.Process(
            target=run_chapter,
            args=(
                [str(self.path), *plugin.pytest_args],
                remaining,
                journal_end,
                log_end,
                str(plugin.config.invocation_params.dir),
                str(self.scratch),
                plugin.memory_limit,
                plugin.cap_data,
            ),
            name=f"grading {self.path.name}",
        )
        self.process.start()
        journal_end.close()
        log_end.close()
        for end in (self.journal, self.log):
            os.set_blocking(end.fileno(), False)
        self.running, self.phases, self.since = None, [], time.monotonic()
        self.journal_buffer, self.log_tail = b"", b""
        self.saw_finish, self.stopped, self.killed_for = False, "", None
        self.finished_before = len(self.finished)

    def poll(self) -> None:
        """Read what the child journaled since the last poll; handle its end or stop it."""
        alive = self.process.is_alive()  # before reading, so no event written before its end is missed
        self._read_pipes()
        if alive:
            self._watch()
            return
        self.process.join()
        self._end_attempt()
        self._child_ended(self.process.exitcode)

    def _read_pipes(self) -> None:
        self.log_tail = (self.log_tail + _read_available(self.log))[-LOG_TAIL_BYTES:]
        *lines, self.journal_buffer = (self.journal_buffer + _read_available(self.journal)).split(b"\n")
        for line in lines:
            event = json.loads(line)
            if event.get("pid") == self.process.pid:  # not a forked copy's
                self._event(event)

    def _end_attempt(self) -> None:
        """Kill what the child left running, read its last words, delete its scratch folder."""
        _kill_session(self.process.pid)
        self._read_pipes()
        self.journal.close()
        self.log.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _event(self, event: dict) -> None:
        kind = event["event"]
        if kind == "start" and event["nodeid"] in self.items:
            self.running, self.phases, self.since = event["nodeid"], [], time.monotonic()
            self.relay.append(("start", self.items[self.running]))
        elif kind == "report":
            config = self.plugin.config
            report = config.hook.pytest_report_from_serializable(config=config, data=event["report"])
            item = self.items.get(report.nodeid)
            if item is None:
                return
            self.phases.append(report.when)
            self.relay.append(("report", item, report))
            if report.when == "teardown":
                self.relay.append(("finish", item))
                self.finished.add(report.nodeid)
                self.running = None
                self.since = time.monotonic()
        elif kind == "stopped":
            self.stopped = event["reason"]
        elif kind == "finish":
            self.saw_finish = True

    def _watch(self) -> None:
        """Stop a child whose test ran far past its time limit, or that uses too much memory."""
        now = time.monotonic()
        limit = time_limit(self.items[self.running]) if self.running else None
        if self.running and limit is not None and now - self.since > limit + GRACE_S:
            self._kill(TIMEOUT, f"the test ran past its {limit:g} s time limit and did not stop")
        elif not self.running and now - self.since > (EXIT_LIMIT_S if self.saw_finish else START_LIMIT_S):
            self._kill(CRASH, f"the chapter's grading process ran no test for {START_LIMIT_S:g} s")
        elif self.plugin.memory_limit and _resident_bytes(self.process.pid) > self.plugin.memory_limit:
            self._kill(MEMORY, memory_message(self.plugin.memory_limit))

    def _kill(self, name: str, message: str) -> None:
        self.killed_for = (name, message)
        self.process.kill()

    def _child_ended(self, exitcode: int) -> None:
        """Report the running test as failed with why its process ended; run the rest again."""
        remaining = [nodeid for nodeid in self.items if nodeid not in self.finished]
        if not remaining:
            self.done = True
            return
        if self.stopped:  # pytest.exit: the same would happen again, so no new process
            running = self.running
            for nodeid in remaining:
                if nodeid != running:
                    self.relay.append(("start", self.items[nodeid]))
                self._fail(self.items[nodeid], self.phases if nodeid == running else [], "", self.stopped)
            self.done = True
            return
        name, message = self.killed_for or (CRASH, _exit_reason(exitcode, self.log_tail))
        if self.running is None and len(self.finished) > self.finished_before:
            self.start()  # it ended between tests (one left it changed, see journal.py): a new one for the rest
            return
        if self.running is not None:
            self._fail(self.items[self.running], self.phases, name, message)
            self.start()
            return
        if not self.saw_finish:
            message = f"the chapter's grading process ended before this test ran: {message}"
        else:
            message = "the chapter's grading process did not run this test (collected differently?)"
        for nodeid in remaining:
            self.relay.append(("start", self.items[nodeid]))
            self._fail(self.items[nodeid], [], CRASH, message)
        self.done = True

    def _fail(self, item: pytest.Item, phases: list[str], name: str, message: str) -> None:
        """A failed report for ``item`` in the first phase without a report, as pytest would make it."""
        phase = next(p for p in ("setup", "call", "teardown") if p not in phases)
        call = pytest.CallInfo.from_call(lambda: pytest.fail(message, pytrace=False), when=phase)
        report = pytest.TestReport.from_item_and_call(item, call)
        report.exception_name, report.exception_message = name, message
        self.relay.append(("report", item, report))
        self.relay.append(("finish", item))
        self.finished.add(item.nodeid)
        self.running = None

    def stop(self) -> None:
        if self.process is not None and not self.done:
            self.process.kill()
            self.process.join()
            self._end_attempt()


def _read_available(pipe) -> bytes:
    """All that can be read from the non-blocking ``pipe`` now."""
    chunks = []
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(pipe.fileno(), 1 << 16):
            chunks.append(chunk)
    return b"".join(chunks)


def _kill_session(pid: int) -> None:
    """Kill every process left in the session of the chapter process ``pid`` (forks of a learner's file)."""
    if hasattr(os, "killpg"):
        with contextlib.suppress(OSError):  # none left, or the child ended before its session began
            os.killpg(pid, signal.SIGKILL)


def _resident_bytes(pid: int) -> int:
    """Anonymous and shared memory the process holds (Linux ``/proc``; 0 elsewhere)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return sum(int(fields.get(key, "0 kB").split()[0]) * 1024 for key in ("RssAnon", "RssShmem"))


def _exit_reason(exitcode: int, log: bytes) -> str:
    """Why a child ended, in words: a signal, or an exit before its tests had reported."""
    if exitcode < 0:
        name = signal.Signals(-exitcode).name
        reason = f"the test's process was killed by {name}"
        if -exitcode == signal.SIGKILL:
            reason += " (most likely by the system, for using too much memory)"
    else:
        reason = f"the test ended its process (exit status {exitcode}) before reporting, e.g. with os._exit"
    text = log.decode(errors="replace")
    last = [line for line in text.splitlines() if "Error" in line or "error" in line]
    return f"{reason}; last output: {last[-1][:200]}" if last else reason


class IsolatedChapters:
    """The pytest plugin of the reporting process: it replaces running the tests in place."""

    def __init__(
        self,
        config: pytest.Config,
        chapter_args: list[str],
        memory_limit: int | None,
        cap_data: bool,
        context,
    ):
        self.config = config
        self.context = context
        self.memory_limit = memory_limit
        self.cap_data = cap_data
        option = config.option
        self.pytest_args = [
            f"--rootdir={config.rootpath}",
            *(["-c", str(config.inipath)] if config.inipath else []),
            "-p",
            "no:cacheprovider",
            *(arg for name in _plugins() for arg in ("-p", name)),
            f"--tb={option.tbstyle}",
            # output is captured in memory, not in a temporary file a full disk could refuse
            f"--capture={'sys' if option.capture == 'fd' else option.capture}",
            *(["-l"] if option.showlocals else []),
            "-q",
            *(["-" + "v" * option.verbose] if option.verbose > 0 else []),
            *chapter_args,
        ]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            raise session.Interrupted(
                f"{session.testsfailed} error{'s' if session.testsfailed != 1 else ''} during collection"
            )
        if session.config.option.collectonly or not session.items:
            return True
        chapters: dict[Path, dict[str, pytest.Item]] = {}
        for item in session.items:
            chapters.setdefault(item.path, {})[item.nodeid] = item
        with tempfile.TemporaryDirectory(prefix="ganedu-grading-") as workdir:
            runs = [ChapterRun(path, items, Path(workdir), self) for path, items in chapters.items()]
            try:
                self._run(session, runs)
            finally:
                for run in runs:
                    run.stop()
        return True

    def _run(self, session: pytest.Session, runs: list[ChapterRun]) -> None:
        """Keep up to two chapters running; pass on the results of the first unfinished one as
        they come (the others wait their turn), so each file's results print together."""
        waiting = list(runs)
        while True:
            active = [run for run in runs if run.process is not None and not run.done]
            while waiting and len(active) < PARALLEL_CHAPTERS:
                waiting[0].start()
                active.append(waiting.pop(0))
            for run in active:
                run.poll()
            shown = next((run for run in runs if run.relay or not run.done), None)
            if shown is None:
                return
            self._pass_on(shown)
            if session.shouldfail:
                raise session.Failed(session.shouldfail)
            if session.shouldstop:
                raise session.Interrupted(session.shouldstop)
            if not shown.relay and not shown.done:
                time.sleep(POLL_S)

    def _pass_on(self, run: ChapterRun) -> None:
        for kind, item, *report in run.relay:
            if kind == "start":
                item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
            elif kind == "report":
                item.ihook.pytest_runtest_logreport(report=report[0])
            else:
                item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        run.relay.clear()
