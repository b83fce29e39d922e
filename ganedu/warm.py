"""The warm process: PyTorch imported once, each command forked from it ready to work.

``import torch`` is most of a short command: about 1.0 s of ``sample -n 64``'s 1.2 s on a 2-core
AMD EPYC with AVX512-BF16, about 2 s of 2.2 s on one with AVX2 only (``benchmarks/README.md``). So after a
command that needs PyTorch (``train``, ``sample``, ``eval``, ``doctor``: ``WARM_COMMANDS`` in
:mod:`ganedu.__main__`) ends, the command line
starts one background process that imports PyTorch and ganedu, then waits on a Unix socket. The
next such command connects and hands over its arguments, working folder, environment, umask and
its stdin, stdout and stderr themselves (``SCM_RIGHTS``); the warm process forks a child that runs
the command there as a fresh process would: the same files, output and exit status. Ctrl-C,
``kill`` and a closed terminal reach the child, and a client killed outright takes its child
with it.

A warm process serves only what it was started for, so nothing it holds is ever stale:

- its socket's name is a hash of the user, the Python, ``sys.path`` and each of its folders' times
  (``pip install`` changes them), every file of the ganedu package (an edit starts a new one),
  and the environment without the variables a terminal changes by itself (``PWD``, ...);
- the socket lies in ``$XDG_CACHE_HOME/ganedu/warm`` (``~/.cache/ganedu/warm``), a folder only
  its owner can enter, and a connection from another user is refused;
- it never runs PyTorch itself (no thread pool, no CUDA) and ends after ``GANEDU_WARM_MINUTES``
  (default 10) without a command.

Not served warm: ``options`` and ``--help`` (they import no PyTorch), ``grading`` and
``instructor`` (their own processes), runs under ``torchrun``, a Python started with ``-X``, ``-W``
or a tracer, and platforms other than Linux. ``GANEDU_WARM=0`` turns it off (the test suite
does); ``python -m ganedu warm stop`` ends every warm process of the user now.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

from ganedu.files import cache_dir

IDLE_MINUTES = 10.0
REQUEST_S = 10.0  # how long a connection may take to send its request
# set by a terminal or a login, not by the user: two terminals of one user share a warm process
VOLATILE = {
    "PWD", "OLDPWD", "SHLVL", "_", "COLUMNS", "LINES", "TERM_SESSION_ID", "WINDOWID", "SSH_CLIENT",
    "SSH_CONNECTION", "SSH_TTY", "SSH_AUTH_SOCK", "GPG_TTY", "TMUX_PANE", "GANEDU_WARM_MINUTES",
}  # fmt: skip
# what a forked command imports in a fresh process, imported once by the warm process
PRELOAD = (
    "torch", "numpy", "ganedu.__main__", "ganedu.models", "ganedu.train", "ganedu.callbacks",
    "ganedu.rundir", "ganedu.distributed", "ganedu.data", "ganedu.metrics", "ganedu.doctor",
)  # fmt: skip
_lock = None  # the warm process's lock file, open while it lives
MESSAGE = struct.Struct("!ci")  # b"P" child pid, b"S" a signal to pass on, b"X" exit status
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def folder() -> Path:
    """``$XDG_CACHE_HOME/ganedu/warm``, created private (mode 700), or ``None`` when it is not private."""
    path = cache_dir() / "warm"
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return None
    private = st.st_uid == os.getuid() and not st.st_mode & 0o077 and os.path.isdir(path)
    return path if private and not os.path.islink(path) else None


def key() -> str:
    """16 hex digits naming the warm process that may serve this process's commands."""
    package = Path(__file__).resolve().parent
    stamps = []
    for root, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".so")):
                st = os.stat(os.path.join(root, name))
                stamps.append(
                    (os.path.relpath(os.path.join(root, name), package), st.st_mtime_ns, st.st_size)
                )
    folders = []
    for entry in sys.path[1:]:  # sys.path[0] is the working folder under `python -m`: it is handed over
        try:
            folders.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            folders.append((entry, None))
    environment = sorted((k, v) for k, v in os.environ.items() if k not in VOLATILE)
    state = [os.getuid(), sys.executable, sys.version, str(package), stamps, folders, environment]
    return hashlib.sha256(json.dumps(state).encode()).hexdigest()[:16]


def wanted(argv: list[str]) -> bool:
    """Whether ``python -m ganedu ARGV``, a command that imports PyTorch, may run in (and start) a warm process.

    Which commands import PyTorch is :data:`ganedu.__main__.WARM_COMMANDS`'s to say.
    """
    flags = sys.flags
    return bool(
        not {"-h", "--help"} & set(argv)
        and os.environ.get("GANEDU_WARM", "1") != "0"
        and sys.platform == "linux"
        and not {"LOCAL_RANK", "WORLD_SIZE"} & set(os.environ)  # torchrun
        and not (sys._xoptions or sys.warnoptions or flags.dev_mode or flags.verbose or flags.inspect)
        and not flags.optimize
        and sys.gettrace() is None
        and sys.getprofile() is None
        and all(_open(fd) for fd in (0, 1, 2))
    )


def _open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _socket_path(name: str) -> str | None:
    where = folder()
    path = None if where is None else str(where / f"{name}.sock")
    return path if path is not None and len(path.encode()) < 100 else None  # sun_path holds 108 bytes


# --- the client: `python -m ganedu ARGS` -------------------------------------------------------------


def served(argv: list[str], name: str) -> int | None:
    """Run ``argv`` in the warm process ``name`` (:func:`key`); its exit status, or ``None`` when none
    could take it.

    ``None`` means nothing of the command ran: the caller runs it itself.
    """
    path = _socket_path(name)
    if path is None:
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        request = json.dumps(
            {
                "argv": [sys.argv[0], *argv],
                "cwd": os.getcwd(),
                "env": dict(os.environ),
                "path": sys.path,
                "umask": _umask(),
            }  # fmt: skip
        ).encode()
        socket.send_fds(conn, [struct.pack("!Q", len(request))], [0, 1, 2])
        conn.sendall(request)
        kind, _ = _receive(conn)
    except OSError:
        conn.close()
        return None
    if kind != b"P":  # the warm process ended before it forked: nothing ran
        conn.close()
        return None
    return _wait(conn)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _receive(conn: socket.socket) -> tuple[bytes | None, int]:
    data = b""
    while len(data) < MESSAGE.size:
        chunk = conn.recv(MESSAGE.size - len(data))
        if not chunk:
            return None, 0
        data += chunk
    return MESSAGE.unpack(data)


def _wait(conn: socket.socket) -> int:
    """Pass this process's signals on to the child until it reports its exit status."""

    def forward(signum, frame):
        try:
            conn.sendall(MESSAGE.pack(b"S", signum))
        except OSError:
            pass

    before = {signum: signal.signal(signum, forward) for signum in FORWARDED}
    kind, status = _receive(conn)
    for signum, handler in before.items():
        signal.signal(signum, handler)
    conn.close()
    if kind != b"X":
        print("ganedu: error: the command's process ended without an exit status (killed?)", file=sys.stderr)
        return 1
    return status


def start(name: str) -> None:
    """Start the warm process ``name`` (:func:`key`) in the background for the commands after this one;
    it gives way if one of that name is already running."""
    if _socket_path(name) is None:
        return
    subprocess.Popen(
        [sys.executable, "-m", "ganedu.warm", "serve", name],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
        start_new_session=True,  # not in the terminal's process group: Ctrl-C does not reach it
        close_fds=True,
    )


# --- the warm process ----------------------------------------------------------------------------------


def serve(name: str, minutes: float) -> int:
    """Import PyTorch and ganedu, then fork a child for each connection until ``minutes`` pass idle."""
    import importlib

    where = folder()
    if where is None:
        return 1
    global _lock
    lock = _lock = open(where / f"{name}.lock", "a+")  # held while this process lives: one per name
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    for module in PRELOAD:
        importlib.import_module(module)
    path = str(where / f"{name}.sock")
    if os.path.exists(path):
        os.unlink(path)  # left by a warm process that was killed; the lock says none lives
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    listener.settimeout(minutes * 60)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))  # `warm stop`: the socket removed
    bound = os.stat(path).st_ino
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                return 0
            with conn:
                conn.settimeout(REQUEST_S)  # a client that connects and says nothing holds no one up
                _fork(conn, listener)
    finally:
        if os.path.exists(path) and os.stat(path).st_ino == bound:
            os.unlink(path)


def _fork(conn: socket.socket, listener: socket.socket) -> None:
    uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
    if uid != os.getuid():
        return  # another user's process: refused
    fds: list[int] = []
    try:
        head, fds, _, _ = socket.recv_fds(conn, 8, 3)
        if len(fds) != 3 or len(head) != 8:
            raise OSError("malformed request")
        size, request = struct.unpack("!Q", head)[0], b""
        while len(request) < size:
            chunk = conn.recv(size - len(request))
            if not chunk:
                raise OSError("request cut short")
            request += chunk
        request = json.loads(request)
    except (OSError, ValueError):  # a timeout is an OSError too
        for fd in fds:
            os.close(fd)
        return
    pid = os.fork()
    if pid:
        for fd in fds:
            os.close(fd)
        return
    try:
        listener.close()
        _lock.close()  # the lock is the warm process's alone, not its children's
        conn.settimeout(None)  # the command may run for hours
        _become(request, fds)
        conn.sendall(MESSAGE.pack(b"P", os.getpid()))
        threading.Thread(target=_listen, args=(conn,), daemon=True).start()
        status = _run(request["argv"][1:])
        conn.sendall(MESSAGE.pack(b"X", status))
        os._exit(status)
    finally:
        os._exit(1)  # never back into the warm process's loop


def _become(request: dict, fds: list[int]) -> None:
    """Make this forked child the client's process: its stdio, folder, environment, umask, arguments."""
    import random

    import numpy as np

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.umask(request["umask"])
    sys.argv = list(request["argv"])
    sys.path[:] = request["path"]
    if sys.stdout is not None:
        sys.stdout.reconfigure(line_buffering=sys.stdout.isatty())
    random.seed()  # every child would otherwise share the warm process's generators
    np.random.seed()


def _listen(conn: socket.socket) -> None:
    """Raise in this child the signals its client receives; die with the client when it is killed."""
    while True:
        kind, signum = _receive(conn)
        if kind is None:
            os.kill(os.getpid(), signal.SIGKILL)
        elif kind == b"S":
            os.kill(os.getpid(), signum)


def _run(argv: list[str]) -> int:
    """The command's exit status once its work is done, as :func:`ganedu.exiting.exit_quickly` ends it."""
    import traceback

    from ganedu.__main__ import main

    try:
        status = main(argv)
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else (0 if e.code is None else _said(e.code))
    except KeyboardInterrupt:
        status = 130
    except BaseException:
        traceback.print_exc()
        status = 1
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    return status


def _said(message) -> int:
    print(message, file=sys.stderr)
    return 1


# --- `python -m ganedu warm status|stop` -------------------------------------------------------------


def _living() -> list[tuple[Path, int]]:
    """``(lock file, pid)`` of each warm process of this user that is alive.

    Read from the pid each one writes into its lock file, never by taking the lock: a status
    taken while a warm process starts must not make it give up.
    """
    where = folder()
    found = []
    for lock in sorted(where.glob("*.lock")) if where else []:
        pid = lock.read_text().strip()
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                serving = b"ganedu.warm\0serve\0" + lock.stem.encode() in f.read()
        except OSError:
            continue
        if pid.isdigit() and serving:
            found.append((lock, int(pid)))
    return found


def main(argv: list[str]) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m ganedu warm", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    sub.add_parser("status", help="list this user's warm processes")
    sub.add_parser("stop", help="end every warm process of this user now")
    s = sub.add_parser("serve", help=argparse.SUPPRESS)
    s.add_argument("name")
    args = p.parse_args(argv)
    if args.what == "serve":
        return serve(args.name, float(os.environ.get("GANEDU_WARM_MINUTES", IDLE_MINUTES)))
    living = _living()
    if args.what == "stop":
        for _, pid in living:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        print(f"stopped {len(living)} warm process{'es' * (len(living) != 1)}")
        return 0
    ours = _socket_path(key())
    for lock, pid in living:
        serves = " (serves this shell's commands)" if ours and Path(ours).with_suffix(".lock") == lock else ""
        print(f"pid {pid}: {lock.with_suffix('.sock')}{serves}")
    if not living:
        off = " (GANEDU_WARM=0 turns it off here)" if os.environ.get("GANEDU_WARM") == "0" else ""
        print(f"no warm process{off}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
