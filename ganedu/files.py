"""Files that must be exactly right: pinned SHA-256 checks and atomic writes.

Datasets, the Inception weights, the shipped classifiers and generators are each pinned by
SHA-256: :func:`check_pinned` refuses a file whose digest is not the pinned one, with a
message that says what to do. Checkpoints, downloads and cached features are written with
:func:`atomic_write`: the bytes go to a temporary file in the same folder, are flushed to
disk, and only then renamed over the target, so a crash mid-write leaves the previous file
intact, never a half-written one. A full disk is a :class:`ganedu.errors.DiskFullError`
naming the file, with the temporary file removed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ganedu.errors import DataError, DiskFullError, GaneduError

_DIGESTS: dict[tuple[str, int, int], str] = {}


def cache_dir() -> Path:
    """ganedu's cache folder: ``$XDG_CACHE_HOME/ganedu`` if that is set, else ``~/.cache/ganedu``.

    Datasets and weights are downloaded into it; it is here, in a module that imports no
    PyTorch, so that the command line finds it before PyTorch is imported (:mod:`ganedu.warm`).
    """
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "ganedu"


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file as 64 hex digits, read in 1 MiB chunks.

    Remembered per process while the file keeps its size and modification time, so a
    dataset checked once is not hashed again on every load.
    """
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def check_pinned(
    path: str | os.PathLike,
    pinned: str | Iterable[str],
    remedy: str,
    what: str = "the expected file",
    error: type[GaneduError] = DataError,
    label: str | None = None,
) -> None:
    """Raise ``error`` unless the SHA-256 of ``path`` is ``pinned`` (or one of them).

    The message names the file (``label`` when given, else the path), the digest found, the
    digests accepted and ``remedy``: ``"{label} is corrupt or not {what}: its SHA-256 is
    {actual}, expected {pinned}; {remedy}"``.

    Args:
        path: the file to check.
        pinned: the accepted digest, or several when more than one copy is good.
        remedy: what the user should do, e.g. ``"delete it and run `python -m ganedu data fetch mnist`"``.
        what: what the file should be, e.g. ``"the TF-2015 Inception file"``.
        error: the :class:`GaneduError` subclass to raise.
        label: how to name the file in the message, when its path would mislead (a temporary copy).
    """
    accepted = (pinned,) if isinstance(pinned, str) else tuple(pinned)
    actual = sha256_file(path)
    if actual not in accepted:
        raise error(
            f"{label or path} is corrupt or not {what}: its SHA-256 is {actual}, "
            f"expected {' or '.join(accepted)}; {remedy}"
        )


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` is the operating system saying the disk (or the user's quota) is full."""
    return isinstance(error, OSError) and error.errno in DISK_FULL


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open ``path`` for writing bytes such that it is replaced whole or not at all.

    Yields a binary file that is a temporary file in the same folder (created if missing),
    with the permissions a plain ``open(path, "wb")`` would give. When the ``with`` block ends
    normally the file is flushed, ``fsync``-ed and renamed over ``path`` (``os.replace``,
    atomic on one file system). When it raises, the temporary file is deleted and ``path`` is
    left as it was.

        with atomic_write(run / "ckpt.pt") as f:
            f.write(data)

    Write bytes made in memory (:func:`write_atomically`) rather than let a serialiser write
    into the file: ``torch.save``'s zip writer reports a full disk as a ``RuntimeError`` about
    positions, not as the ``ENOSPC`` it met.

    Raises:
        DiskFullError: the disk or quota filled up; nothing at ``path`` changed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        f = open(tmp, "xb")  # "x": never truncates another file of that name
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if is_disk_full(e):
            raise DiskFullError(
                f"the disk is full: could not write {path} ({e.strerror}); what was there before is intact"
            ) from None
        raise


def write_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """Replace ``path`` by ``data`` whole or not at all (:func:`atomic_write`). Returns the path."""
    with atomic_write(path) as f:
        f.write(data)
    return Path(path)


def append_line(path: str | os.PathLike, line: str) -> None:
    """Append ``line`` and a newline to ``path`` (created if missing) whole or not at all.

    Raises:
        DiskFullError: the disk filled up mid-line; the part that was written is cut off again
            (shortening a file needs no space), so the file still ends with its last whole line.
    """
    data = f"{line}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        size = os.fstat(fd).st_size
        written = 0
        try:
            while written < len(data):
                written += os.write(fd, data[written:])
        except OSError as e:
            if not is_disk_full(e):
                raise
            os.ftruncate(fd, size)
            raise DiskFullError(
                f"the disk is full: could not add a line to {path} ({e.strerror}); every line written "
                "before is intact"
            ) from None
    finally:
        os.close(fd)
