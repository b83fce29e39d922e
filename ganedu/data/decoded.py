"""The decoded cache: a dataset split's arrays kept uncompressed on disk and read by memory map.

Decompressing Fashion-MNIST's 47 MB of training images took 0.19 s of every start of a run on a
2-core CPU, more than the rest of loading it. The first load of a split writes its decoded
arrays to ``decoded-SPLIT.u8`` in the dataset's cache folder (``~/.cache/ganedu/NAME/``); later
loads map that file instead of decompressing the originals.

The originals stay the source of truth: every load still checks them against their pinned
SHA-256 (:mod:`ganedu.data.pinned`, 0.03 s) before the cache is looked at. A cache file is one
line of JSON, then the arrays' bytes. The line records the format, the SHA-256 of each
original the arrays were decoded from, each array's dtype and shape, and the payload's length
and CRC-32. The file is used only when it names exactly the originals just verified and its
payload has that length and CRC-32 (checked on every read, 7 ms for Fashion-MNIST); a file
that is stale (other originals), truncated or corrupt is decoded again and replaced
atomically. Where the folder cannot be written (read-only, full), the split is decoded in
memory as before, without a word: the cache only saves time.
"""

from __future__ import annotations

import json
import mmap
import zlib
from pathlib import Path

import numpy as np

from ganedu.data.lookup import cache_dir
from ganedu.errors import GaneduError
from ganedu.files import atomic_write

FORMAT = "ganedu-decoded-1"


def cache_path(name: str, split: str) -> Path:
    """Where the decoded arrays of ``name``'s ``split`` are kept."""
    return cache_dir() / name / f"decoded-{split}.u8"


def read(name: str, split: str, originals: tuple[str, ...]) -> tuple[np.ndarray, ...] | None:
    """The arrays cached for ``split`` of ``name`` if decoded from ``originals`` (their SHA-256) and intact.

    Returns:
        The arrays, read-only views of the mapped file, in the order they were written; ``None``
        when there is no such file or it is stale, truncated or corrupt.
    """
    try:
        with open(cache_path(name, split), "rb") as f:
            header = json.loads(f.readline(4096))
            offset = f.tell()
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    if (
        not isinstance(header, dict)
        or header.get("format") != FORMAT
        or header.get("originals") != list(originals)
    ):
        return None
    try:
        payload = memoryview(mapped)[offset:]
        intact = len(payload) == header["length"] and zlib.crc32(payload) == header["crc32"]
        payload.release()
        if not intact:
            return None
        arrays, start = [], offset
        for dtype, shape in header["arrays"]:
            count = int(np.prod(shape))
            arrays.append(np.frombuffer(mapped, dtype=dtype, count=count, offset=start).reshape(shape))
            start += count * np.dtype(dtype).itemsize
        return tuple(arrays)
    except (KeyError, TypeError, ValueError):
        return None


def write(name: str, split: str, originals: tuple[str, ...], arrays: tuple[np.ndarray, ...]) -> bool:
    """Keep ``arrays``, decoded from ``originals`` (their SHA-256), for :func:`read`; atomically.

    Returns:
        Whether the file was written: ``False`` where the folder is read-only or full.
    """
    arrays = tuple(np.ascontiguousarray(a) for a in arrays)
    crc = 0
    for a in arrays:
        crc = zlib.crc32(memoryview(a).cast("B"), crc)
    header = {
        "format": FORMAT,
        "originals": list(originals),
        "arrays": [(a.dtype.str, list(a.shape)) for a in arrays],
        "length": sum(a.nbytes for a in arrays),
        "crc32": crc,
    }
    try:
        with atomic_write(cache_path(name, split)) as f:
            f.write(json.dumps(header).encode() + b"\n")
            for a in arrays:
                f.write(memoryview(a).cast("B"))
    except (OSError, GaneduError):  # read-only or full (DiskFullError): decode in memory next time too
        return False
    return True
