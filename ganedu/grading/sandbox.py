"""One student's grading run in a sandbox: bubblewrap on Linux, plainly (and said so) elsewhere.

The sandbox (``bwrap``, Debian package ``bubblewrap``) sees the machine read-only, with no
network, its own process ids, no capabilities, a capped scratch disk on ``/tmp``, and empty
folders in place of the submissions, the gradebook's folder, the instructor's ``solutions/`` and
home: the student's own work folder is the one folder of the class it sees, read-only. The
results come out through a pipe given to the sandbox (``/dev/fd/N``), never through a file, so
a submission can neither write its results where the grader reads them nor fill the disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCRATCH_BYTES = 512 * 2**20  # the sandbox's /tmp: grading's own scratch files are small
HIDDEN_BYTES = 64 * 2**10  # an emptied folder: no disk to fill there
RESULTS_CAP = 32 * 2**20  # more results than this from one student is not the grader writing
OUTPUT_TAIL = 4000  # characters of the grading run's output kept to explain a failure
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class Sandbox:
    """How grading runs are wrapped: :meth:`command` goes before the grading's own command line
    (nothing when there is no sandbox), ``name`` says which, ``warning`` why there is none.

    ``hidden`` folders are replaced by empty ones, except the ``needed`` folders inside them
    (Python, ganedu), which are shown again, read-only.
    """

    hidden: list[Path]
    needed: list[Path]
    bwrap: str | None
    name: str
    warning: str = ""

    def command(self, workdir: Path) -> list[str]:
        """The bwrap arguments that run a command in ``workdir`` inside the sandbox."""
        if self.bwrap is None:
            return []
        args = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        args += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
        args += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        args += ["--size", str(SCRATCH_BYTES), "--tmpfs", "/tmp", "--dir", "/tmp/home"]
        # /tmp is emptied too: Python or the course may live there (a clone in /tmp), so what is
        # needed inside it or inside a hidden folder is shown again, and what is hidden inside
        # a folder shown again is emptied once more (deeper mounts go last)
        hide = [(p, "--tmpfs") for p in self.hidden]
        emptied = [Path("/tmp"), *self.hidden]
        show = [(p, "--ro-bind") for p in self.needed if any(p.is_relative_to(h) and p != h for h in emptied)]
        for path, how in sorted(hide + show, key=lambda op: len(op[0].parts)):  # outer folders first
            if how == "--tmpfs":  # 64 KiB: room for the folders that hold what is shown again
                args += ["--size", str(HIDDEN_BYTES), how, str(path)]
            else:
                args += [how, str(path), str(path)]
        return [*args, "--ro-bind", str(workdir), str(workdir), "--chdir", str(workdir), "--"]


def python_folders() -> list[Path]:
    """The folders this Python and ganedu are read from (a sandbox must show them)."""
    import ganedu

    folders = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parents[1]]
    folders += [Path(p) for p in [*sys.path, *os.environ.get("PYTHONPATH", "").split(os.pathsep)] if p]
    folders.append(Path(ganedu.__file__).parents[1])
    folders = {p.resolve() for p in folders if p.is_dir()}
    return sorted(p for p in folders if not any(q != p and p.is_relative_to(q) for q in folders))


def find_sandbox(hidden: list[Path], use: bool = True) -> Sandbox:
    """A :class:`Sandbox` that hides ``hidden`` (folders), tried once for real.

    Without ``bwrap``, or where it is refused (no user namespaces, macOS), grading runs
    without a sandbox and ``warning`` says so in one line.
    """
    needed = python_folders()
    hidden = [p.resolve() for p in hidden if p.is_dir()]
    hidden = [h for h in hidden if h not in needed]
    if not use:
        return Sandbox(hidden, needed, None, "none", "grading without a sandbox (--no-sandbox was given)")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Sandbox(
            hidden,
            needed,
            None,
            "none",
            "bubblewrap (bwrap) is not installed, so submissions are graded WITHOUT a sandbox: they can "
            "read other students' files and reach the network; install it (apt-get install bubblewrap)",
        )
    sandbox = Sandbox(hidden, needed, bwrap, "bwrap")
    trial = subprocess.run(
        [*sandbox.command(Path.cwd().resolve()), sys.executable, "-c", "import ganedu; print('ok')"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if trial.returncode != 0 or trial.stdout.strip() != "ok":
        why = (trial.stderr.strip().splitlines() or [f"exit status {trial.returncode}"])[-1]
        return Sandbox(
            hidden,
            needed,
            None,
            "none",
            f"bubblewrap (bwrap) refused to start a sandbox ({why}), so submissions are graded WITHOUT "
            "one: they can read other students' files and reach the network",
        )
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.split()
    sandbox.name = " ".join(version) or "bwrap"
    return sandbox


@dataclass
class Outcome:
    """What one sandboxed run left: ``results`` (the bytes it wrote to the results pipe; ``None``
    when it wrote more than any grading run writes), ``output`` (the tail of its output),
    ``returncode``, and ``timed_out``."""

    results: bytes | None
    output: str
    returncode: int | None
    timed_out: bool
    seconds: float


def run_sandboxed(sandbox: Sandbox, workdir: Path, grading: list[str], timeout: float) -> Outcome:
    """Run ``grading`` (a command line whose ``{results}`` is the path to write results to) in
    ``workdir`` in the sandbox; stop it, and everything it started, after ``timeout`` seconds."""
    read_end, write_end = os.pipe()
    command = [*sandbox.command(workdir), *(a.replace("{results}", f"/dev/fd/{write_end}") for a in grading)]
    env = {name: os.environ[name] for name in KEPT_ENV if name in os.environ}
    env.update(TMPDIR="/tmp", HOME="/tmp/home", PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    if sandbox.bwrap is None:
        env.update(TMPDIR=str(workdir / "tmp"), HOME=str(workdir / "tmp"))
        (workdir / "tmp").mkdir(exist_ok=True)
    start = time.monotonic()
    try:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
            start_new_session=True,  # without a sandbox, the whole group is stopped at the time limit
        )
    finally:
        os.close(write_end)
    results = _Reader(os.fdopen(read_end, "rb", buffering=0), RESULTS_CAP)
    output = _Reader(process.stdout, OUTPUT_TAIL * 4, tail=True)
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop(process)
    results.join(timeout=30)  # a process left outside a sandbox may hold the pipe open
    output.join(timeout=5)
    text = output.data.decode(errors="replace")[-OUTPUT_TAIL:]
    data = None if results.is_alive() or results.overflow else results.data
    return Outcome(data, text, process.returncode, timed_out, time.monotonic() - start)


def _stop(process: subprocess.Popen) -> None:
    """Kill the run: with bwrap, its pid namespace dies with it; without, its process group."""
    try:
        os.killpg(process.pid, 9)
    except ProcessLookupError:
        pass
    process.wait()


class _Reader(threading.Thread):
    """Reads a pipe to its end in the background, keeping its first (``tail``: last) ``cap`` bytes;
    ``overflow`` says whether there was more."""

    def __init__(self, pipe, cap: int, tail: bool = False):
        super().__init__(daemon=True)
        self.pipe, self.cap, self.tail = pipe, cap, tail
        self.data, self.overflow = b"", False
        self.start()

    def run(self) -> None:
        with self.pipe:
            while chunk := self.pipe.read(1 << 16):
                if self.tail:
                    self.data = (self.data + chunk)[-self.cap :]
                elif len(self.data) < self.cap:
                    self.data += chunk
                else:
                    self.overflow = True
        self.overflow = self.overflow or len(self.data) > self.cap
