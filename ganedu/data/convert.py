"""Pixels and network values: uint8 images in [0, 255] to float in [-1, 1] and back."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def to_float(images: torch.Tensor, pad_to: int | None = None) -> torch.Tensor:
    """uint8 images -> float in [-1, 1]: ``x / 127.5 - 1``, so 0 (black) -> -1 and 255 -> 1.

    Args:
        images: uint8 ``(B, C, H, W)``.
        pad_to: when given, pad H and W equally on both sides to ``pad_to`` with -1 (black),
            e.g. 28 -> 32 for the DCGAN's power-of-two sizes.

    Returns:
        float32 ``(B, C, pad_to or H, pad_to or W)``.
    """
    x = images.float() / 127.5 - 1
    if pad_to is not None:
        before_h, before_w = (pad_to - x.shape[-2]) // 2, (pad_to - x.shape[-1]) // 2
        after_h, after_w = pad_to - x.shape[-2] - before_h, pad_to - x.shape[-1] - before_w
        x = F.pad(x, (before_w, after_w, before_h, after_h), value=-1.0)
    return x


def to_uint8(images: torch.Tensor, crop_to: int | None = None) -> torch.Tensor:
    """Float images in [-1, 1] -> uint8: ``round((x + 1) * 127.5)`` clamped to [0, 255].

    The inverse of :func:`to_float`. ``crop_to`` removes the padding again (32 -> 28 keeps the
    centre 28x28).

    Returns:
        uint8 ``(B, C, crop_to or H, crop_to or W)`` on the device of ``images``.

    Raises:
        ValueError: an image holds a NaN or an infinity, which has no uint8 value (the cast would
            silently make one up).
    """
    x = images.detach()
    if not torch.isfinite(x).all():
        raise ValueError("the generator's images hold NaN or infinite values, which have no uint8 value")
    if crop_to is not None:
        top, left = (x.shape[-2] - crop_to) // 2, (x.shape[-1] - crop_to) // 2
        x = x[..., top : top + crop_to, left : left + crop_to]
    return ((x.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
