"""Files that must be exactly right: pinned SHA-256 checks and atomic writes.

Datasets, the Inception weights, the shipped classifiers and generators are each pinned by
SHA-256: :func:`check_pinned` refuses a file whose digest is not the pinned one, with a
message that says what to do. Checkpoints, downloads and cached features are written with
:func:`atomic_write`: the bytes go to a temporary file in the same folder, are flushed to
disk, and only then renamed over the target, so a crash mid-write leaves the previous file
intact, never a half-written one.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ganedu.errors import DataError, GaneduError

_DIGESTS: dict[tuple[str, int, int], str] = {}


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


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open ``path`` for writing bytes such that it is replaced whole or not at all.

    Yields a binary file that is a temporary file in the same folder (created if missing),
    with the permissions a plain ``open(path, "wb")`` would give. When the ``with`` block ends
    normally the file is flushed, ``fsync``-ed and renamed over ``path`` (``os.replace``,
    atomic on one file system). When it raises, the temporary file is deleted and ``path`` is
    left as it was.

        with atomic_write(run / "ckpt.pt") as f:
            torch.save(state, f)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    f = open(tmp, "xb")  # "x": never truncates another file of that name
    try:
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
