"""Checkpoints: written atomically, loaded as data only.

A checkpoint is a dict of tensors, numbers and strings. :func:`save_checkpoint` writes it with
:func:`ganedu.files.atomic_write` (a temporary file in the same directory, flushed to disk and
renamed over the target): a crash mid-write leaves the previous checkpoint intact, never a
half-written one.
:func:`load_checkpoint` uses ``torch.load(weights_only=True)``, so a file whose unpickling
would run code is refused instead of executed. Every checkpoint carries a SHA-256 of its
content (:func:`content_digest`, under the key ``"checksum"``), verified on load: a flipped bit
in a tensor is reported, never used.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import zipfile
from pathlib import Path

import torch

from ganedu.errors import CheckpointError, DiskFullError
from ganedu.files import write_atomically
from ganedu.rundir import is_run

CHECKSUM = "checksum"


def content_digest(obj) -> str:
    """SHA-256 over a checkpoint's content: every key, number, string and tensor's bytes, in order."""
    digest = hashlib.sha256()

    def walk(x) -> None:
        if isinstance(x, torch.Tensor):
            t = x.detach().cpu().contiguous()
            digest.update(f"tensor{t.dtype}{tuple(t.shape)}".encode())
            digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
        elif isinstance(x, dict):
            digest.update(f"dict{len(x)}".encode())
            for key in x:
                digest.update(repr(key).encode())
                walk(x[key])
        elif isinstance(x, list | tuple):
            digest.update(f"{type(x).__name__}{len(x)}".encode())
            for item in x:
                walk(item)
        else:
            digest.update(repr(x).encode())

    walk(obj)
    return digest.hexdigest()


def checkpoint_bytes(obj: dict) -> bytes:
    """``obj`` and its :func:`content_digest` as the bytes of a ``torch.save`` file, made in memory."""
    buffer = io.BytesIO()
    torch.save({**obj, CHECKSUM: content_digest(obj)}, buffer)
    return buffer.getvalue()


def save_checkpoint(path: str | os.PathLike, obj: dict) -> Path:
    """Write ``obj`` and its :func:`content_digest` to ``path`` atomically. Returns the path.

    The file is made in memory first, so a full disk shows as the ``ENOSPC`` of a plain write
    (``torch.save`` into a file turns it into a ``RuntimeError`` about zip positions).

    Raises:
        DiskFullError: the disk is full (the previous checkpoint at ``path`` is left intact).
    """
    path = Path(path)
    data = checkpoint_bytes(obj)
    try:
        return write_atomically(path, data)
    except DiskFullError:
        raise DiskFullError(
            f"the disk is full: could not write {path} ({len(data) / 2**20:.1f} MB); any checkpoint "
            "there before is intact"
        ) from None


def load_checkpoint(path: str | os.PathLike, map_location="cpu") -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` with ``weights_only=True``.

    Raises:
        CheckpointError: the file is missing, corrupt, or would need to run code to load.
    """
    path = Path(path)
    if not path.is_file():
        if is_run(path.parent):
            raise CheckpointError(
                f"no checkpoint at {path}: the run in {path.parent} stopped before its first "
                "checkpoint was written (see the error its training printed); train it again"
            )
        raise CheckpointError(
            f"no checkpoint at {path}: train first, or point at a run directory that has ckpt.pt"
        )
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"refused to load {path}: it asks to run code or build objects a checkpoint never holds "
            f"({_refused_global(str(e))}); only load checkpoints you trust, written by ganedu"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated ({type(e).__name__}); "
            "delete it and resume from an earlier copy or train again"
        ) from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(obj).__name__}, not a ganedu checkpoint dict")
    expected = obj.pop(
        CHECKSUM, None
    )  # files written before checksums (the shipped models: pinned) have none
    if expected is not None and content_digest(obj) != expected:
        raise CheckpointError(
            f"checkpoint {path} is corrupt: its content does not match the checksum written with it; "
            "delete it and resume from an earlier copy or train again"
        )
    return obj


def _refused_global(message: str) -> str:
    """What the unpickler refused, in a few words (``GLOBAL posix.system``), not torch's whole advice."""
    found = re.search(r"GLOBAL ([\w.]+)", message) or re.search(r"(Unsupported operand \d+)", message)
    if found is None:
        return "an object outside the allowed types"
    return f"it names {found.group(0)}" if found.group(0).startswith("GLOBAL") else found.group(1)
