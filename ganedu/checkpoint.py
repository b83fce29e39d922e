"""Checkpoints: written atomically, loaded as data only.

A checkpoint is a dict of tensors, numbers and strings. :func:`save_checkpoint` writes it with
:func:`ganedu.files.atomic_write` (a temporary file in the same directory, flushed to disk and
renamed over the target): a crash mid-write leaves the previous checkpoint intact, never a
half-written one.
:func:`load_checkpoint` uses ``torch.load(weights_only=True)``, so a file whose unpickling
would run code is refused instead of executed.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch

from ganedu.errors import CheckpointError
from ganedu.files import atomic_write


def save_checkpoint(path: str | os.PathLike, obj: dict) -> Path:
    """Write ``obj`` to ``path`` atomically (temporary file + fsync + rename). Returns the path."""
    path = Path(path)
    with atomic_write(path) as f:
        torch.save(obj, f)
    return path


def load_checkpoint(path: str | os.PathLike, map_location="cpu") -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` with ``weights_only=True``.

    Raises:
        CheckpointError: the file is missing, corrupt, or would need to run code to load.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"no checkpoint at {path}: train first, or point at a run directory that has ckpt.pt"
        )
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"refused to load {path}: it asks to run code or build objects a checkpoint never holds "
            f"({str(e).splitlines()[0][:120]}); only load checkpoints you trust, written by ganedu"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated ({type(e).__name__}); "
            "delete it and resume from an earlier copy or train again"
        ) from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(obj).__name__}, not a ganedu checkpoint dict")
    return obj
