"""CIFAR-10's python batches, read straight out of the archive without running code."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

from ganedu.errors import DataError


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays, lists and dicts and refuses everything else.

    CIFAR-10's batches are pickles; plain ``pickle.load`` would call whatever a file names.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_cifar10_split(folder: Path, files: tuple[str, ...], split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read CIFAR-10's python batches for ``split`` straight out of the (verified) archive.

    Each batch stores an image as a row of 1024 red, 1024 green, 1024 blue bytes.

    Returns:
        ``(images uint8 (N, 3, 32, 32), labels int64 (N,))``: 50,000 for ``"train"`` (five
        batches), 10,000 for ``"test"``.
    """
    batches = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    archive = folder / files[0]
    images, labels = [], []
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for batch in batches:
                member = tar.extractfile(f"cifar-10-batches-py/{batch}")
                content = _NumpyOnlyUnpickler(io.BytesIO(member.read()), encoding="bytes").load()
                images.append(np.asarray(content[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                labels.append(np.asarray(content[b"labels"], dtype=np.int64))
    except (
        OSError,
        EOFError,
        KeyError,
        AttributeError,
        ValueError,
        tarfile.TarError,
        pickle.UnpicklingError,
    ) as error:
        raise DataError(
            f"{archive} could not be read as CIFAR-10 ({error}); delete it and fetch it again"
        ) from error
    return np.concatenate(images), np.concatenate(labels)
