"""Sample grids as arrays and PNG files, without matplotlib.

``python -m ganedu train`` saves a grid with every checkpoint; writing it with Pillow instead of
``matplotlib.pyplot`` keeps pyplot's import (about 0.7 s on a 2-core laptop) out of the
command's start-up. :mod:`ganedu.viz` re-exports these for notebooks.

Images are either float tensors in [-1, 1] or uint8 tensors in [0, 255], shape (N, C, H, W).
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
from torch import Tensor

from ganedu.files import write_atomically


def to_display(images: Tensor) -> Tensor:
    """Float images in [-1, 1] or uint8 images -> float in [0, 1], on the CPU."""
    images = images.detach().cpu()
    if images.dtype == torch.uint8:
        return images.float() / 255.0
    return ((images.float() + 1.0) / 2.0).clamp(0.0, 1.0)


def image_grid(images: Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile (N, C, H, W) images into one (H', W', C) array in [0, 1] with ``nrow`` images per row."""
    x = to_display(images)
    n, c, h, w = x.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    grid = torch.ones(c, rows * (h + padding) + padding, nrow * (w + padding) + padding)
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top : top + h, left : left + w] = x[i]
    return grid.permute(1, 2, 0).numpy()


def save_grid(images: Tensor, path, nrow: int | None = None) -> None:
    """Write a grid of images to a PNG file (greyscale for one channel, RGB for three), atomically.

    Raises:
        ValueError: an image holds a NaN or an infinity (its grid would be drawn as noise).
        DiskFullError: the disk is full; no partial PNG is left.
    """
    if images.is_floating_point() and not torch.isfinite(images).all():
        raise ValueError("the images hold NaN or infinite values; no grid was written")
    grid = np.rint(image_grid(images, nrow) * 255).astype(np.uint8)  # (H', W', C) in 0..255
    from PIL import Image  # here: Pillow (0.015 s) only once a grid is written, after a run's first step

    png = io.BytesIO()
    Image.fromarray(grid.squeeze(-1) if grid.shape[-1] == 1 else grid).save(png, format="PNG")
    write_atomically(path, png.getvalue())
