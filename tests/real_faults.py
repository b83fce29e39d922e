"""Faults made for real, for the tests that check ganedu survives them.

- :func:`small_disk`: a tmpfs of a few megabytes (``mount -t tmpfs``, as root), so a write meets
  the kernel's own ENOSPC; :func:`fill` takes its last free page.
- :func:`unprivileged`: the prefix that runs a command without the powers that let root write
  anywhere (``setpriv`` drops CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER from the
  bounding set), so a folder's permissions are enforced for real. Not a switch to another user:
  this Python lives under ``/root``, which other users cannot enter.
- :func:`offline`: the prefix that runs a command in a network namespace of its own, which has
  no network (``unshare --net``, as root), so a download fails as it does offline.
- :func:`ganedu_cli`: ``python -m ganedu ...`` in a process of its own, which can be killed.

Each skips the test, with the reason, where this machine cannot make the fault.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DROP_ROOT_POWERS = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


@contextlib.contextmanager
def small_disk(folder: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of ``megabytes`` mounted on ``folder`` (created), unmounted afterwards."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"this machine does not allow mounting a tmpfs: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def resize(disk: Path, megabytes: int) -> None:
    """Grow or shrink the tmpfs on ``disk`` (as a user frees space)."""
    subprocess.run(["mount", "-o", f"remount,size={megabytes}m", str(disk)], check=True)


def fill(disk: Path) -> Path:
    """Write a file on ``disk`` until the kernel says ENOSPC; returns it (delete it to free the space)."""
    filler = disk / "filler"
    block = b"\0" * (1 << 16)
    with open(filler, "wb", buffering=0) as f:
        with contextlib.suppress(OSError):
            while True:
                f.write(block)
    with open(filler, "ab", buffering=0) as f:  # the last partial page too
        with contextlib.suppress(OSError):
            while f.write(b"\0"):
                pass
    return filler


def unprivileged() -> list[str]:
    """The command prefix under which folder permissions hold for this process (see the module)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("as root, enforcing permissions needs setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
    return DROP_ROOT_POWERS


def offline() -> list[str]:
    """The command prefix under which a process has no network (see the module)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a process without network needs root and unshare(1) (util-linux)")
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"this machine does not allow a network namespace: {probe.stderr.strip()}")
    return ["unshare", "--net", "--"]


def ganedu_cli(*args, prefix: list[str] = (), **kwargs) -> subprocess.Popen:
    """Start ``python -m ganedu ARGS`` in a process of its own (stdout and stderr captured)."""
    return subprocess.Popen(
        [*prefix, sys.executable, "-m", "ganedu", *map(str, args)],
        cwd=kwargs.pop("cwd", ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    """Wait for ``process``; its exit status and its one ``ganedu: error:`` line ("" if none).

    Fails the test on a traceback or on more than one error line.
    """
    _, err = process.communicate(timeout=timeout)
    assert "Traceback" not in err, err
    lines = [line[line.index("ganedu: error:") :] for line in err.splitlines() if "ganedu: error:" in line]
    assert len(lines) <= 1, err
    return process.returncode, lines[0] if lines else ""


def run_cli(*args, prefix: list[str] = (), timeout: float = 120) -> tuple[int, str]:
    """``python -m ganedu ARGS`` to its end: exit status and its error line."""
    return finish(ganedu_cli(*args, prefix=prefix), timeout)


def wait_for(condition, timeout: float = 60, every: float = 0.001, what: str = ""):
    """Poll ``condition()`` until it is true and return what it returned; fail the test after
    ``timeout`` seconds, naming ``what`` (else the condition's docstring) it waited for."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:g} s waiting for {what or condition.__doc__ or condition}")
        time.sleep(every)
    return found
