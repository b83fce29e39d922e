"""The IDX file format of MNIST and Fashion-MNIST: gzip-compressed arrays of unsigned bytes."""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from ganedu.errors import DataError

_IDX_UBYTE = 0x08


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read a gzip-compressed IDX file of unsigned bytes (the MNIST format) into a uint8 array.

    The header is two zero bytes, the type code 0x08 (unsigned byte), the number of
    dimensions, then each dimension as a big-endian 32-bit integer; the data follows.

    Args:
        path: the ``.gz`` file.
        ndim: the number of dimensions expected (3 for images, 1 for labels).

    Returns:
        A uint8 array of the shape the header gives.
    """
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(
            f"{path} is not a readable gzip file ({error}); delete it and fetch it again"
        ) from error
    header = 4 + 4 * ndim
    if len(raw) < header or raw[0:2] != b"\0\0" or raw[2] != _IDX_UBYTE or raw[3] != ndim:
        raise DataError(
            f"{path} is not an IDX file of {ndim}-dimensional unsigned bytes "
            f"(header {raw[:4].hex() or 'empty'}, expected 000008{ndim:02x}); delete it and fetch it again"
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) - header != math.prod(shape):
        raise DataError(
            f"{path} is truncated or padded: its header says {'x'.join(map(str, shape))} = "
            f"{math.prod(shape)} bytes of data, the file holds {len(raw) - header}; delete it and fetch it again"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def read_idx_split(folder: Path, files: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Read one split from its ``(images file, labels file)`` in ``folder``.

    Returns:
        ``(images uint8 (N, 1, H, W), labels uint8 (N,))``.
    """
    images_file, labels_file = files
    images = read_idx(folder / images_file, ndim=3)
    labels = read_idx(folder / labels_file, ndim=1)
    if len(images) != len(labels):
        raise DataError(
            f"{folder}: {images_file} holds {len(images)} images but {labels_file} holds {len(labels)} labels"
        )
    return images[:, None], labels
