"""The run directory of ``python -m ganedu train``: who may write to it, and what it holds.

A run directory holds ``config.json``, ``ckpt.pt``, ``log.jsonl`` and ``samples_<step>.png``.
:func:`open_run` takes an exclusive lock on it for as long as training lasts (a second run
into the same folder is refused instead of interleaving its files), refuses a folder that
holds other files, and tidies what an interrupted run left behind: temporary files of a
write that never finished, and log lines past the checkpoint a resumed run continues from.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path

from ganedu.errors import GaneduError

LOCK = ".lock"
_LOCK_TEXT = re.compile(r"(pid \d+)?")  # what RunLock writes; a .lock with anything else is not ours


class RunDirectoryError(GaneduError):
    """A run directory that is in use, unusable, or not a run."""


def written_by_ganedu(config: Path) -> bool:
    """Whether ``config`` is a run config ganedu wrote: JSON naming a known model and the
    ganedu version that wrote it (:meth:`ganedu.models.RunConfig.save`)."""
    from ganedu.models.catalog import CATALOG

    try:
        values = json.loads(config.read_text())
    except (OSError, ValueError):  # missing, unreadable, not JSON, not text
        return False
    return (
        isinstance(values, dict)
        and values.get("model") in CATALOG
        and isinstance(values.get("ganedu_version"), str)
        and bool(values["ganedu_version"])
    )


def is_run(folder: Path) -> bool:
    """True when ``folder`` holds a ganedu run: a ``config.json`` that ganedu wrote."""
    return written_by_ganedu(folder / "config.json")


def _ours_or_nothing(path: Path) -> bool:
    """A ``.lock`` that RunLock left (an interrupted start), which a new run may take over."""
    try:
        return path.is_file() and _LOCK_TEXT.fullmatch(path.read_text().strip()) is not None
    except (OSError, UnicodeDecodeError):
        return False


def check_new_run_folder(folder: Path) -> None:
    """Refuse a ``--out`` that is a file, is not writable, or holds files that are not a ganedu run.

    A folder is a run only when its ``config.json`` says so (:func:`is_run`); any other file in a
    folder that is not one (a ``config.json``, ``log.jsonl`` or ``ckpt.pt`` of the user's own
    among them) makes it refused, and nothing in it is touched.
    """
    if folder.exists() and not folder.is_dir():
        raise RunDirectoryError(f"--out {folder} is a file, not a folder; choose a folder for the run")
    if folder.is_dir() and not is_run(folder):
        others = sorted(p.name for p in folder.iterdir() if not (p.name == LOCK and _ours_or_nothing(p)))
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            why = "; its config.json was not written by ganedu" if "config.json" in others else ""
            raise RunDirectoryError(
                f"--out {folder} already holds files that are not a ganedu run ({shown}{why}); nothing "
                "in it was touched: choose a new or empty folder, e.g. --out runs/NAME"
            )
    parent = folder if folder.is_dir() else next((p for p in folder.parents if p.exists()), Path("."))
    if not os.access(parent, os.W_OK):
        raise RunDirectoryError(f"cannot write to {parent}: choose an --out in a folder you can write to")


class RunLock:
    """An exclusive ``flock`` on ``folder/.lock`` for as long as a run trains (released by the OS on any exit)."""

    def __init__(self, folder: Path):
        self.path = folder / LOCK
        self.file = None

    def __enter__(self) -> RunLock:
        self.file = open(self.path, "a+")  # noqa: SIM115  (held open for the lock's lifetime)
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise RunDirectoryError(
                f"{self.path.parent} is in use by another training run ({holder}); wait for it to "
                "finish or choose another --out"
            ) from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(f"pid {os.getpid()}")
        self.file.flush()
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


def remove_stale_temporary_files(folder: Path) -> list[Path]:
    """Delete ``.NAME.*.tmp`` files a killed write left behind (only called under the run's lock)."""
    stale = sorted(folder.glob(".*.tmp"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def truncate_log(log: Path, step: int) -> int:
    """Drop the lines of ``log.jsonl`` past ``step`` (logged after the checkpoint a run resumes from).

    Returns the number of lines dropped.
    """
    if not log.is_file():
        return 0
    kept, dropped = [], 0
    for line in log.read_text().splitlines():
        try:
            past = json.loads(line).get("step", 0) > step
        except (ValueError, AttributeError):
            past = True  # a line cut off by a crash
        if past:
            dropped += 1
        else:
            kept.append(line)
    if dropped:
        log.write_text("".join(f"{line}\n" for line in kept))
    return dropped
