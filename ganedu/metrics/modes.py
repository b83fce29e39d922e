r"""Mode coverage on the 2D toy mixtures (Srivastava et al. 2017, VEEGAN; Metz et al. 2017, unrolled GAN).

A generated point is **high quality** when it lies within ``sigmas`` standard deviations of
the centre it is nearest to: :math:`\min_k \lVert x - \mu_k \rVert \le 3\sigma`. A mode is
**covered** when at least ``min_share`` of all generated points are high-quality points
nearest to it (1% by default). A collapsed generator covers few modes with a high share of
good points; a blurry one covers none with a low share; a good one covers all with most of
its points good.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class ModeCoverage:
    """The result of :func:`mode_coverage`."""

    covered: int
    """modes with at least ``min_share`` of all samples among their high-quality samples"""
    total: int
    """number of modes"""
    high_quality: float
    """share of samples within ``sigmas``·σ of their nearest centre"""
    counts: Tensor
    """(total,) int64: high-quality samples per mode"""

    def __str__(self) -> str:
        return f"{self.covered}/{self.total} modes, {self.high_quality:.0%} high quality"


def mode_coverage(
    points: Tensor, centers: Tensor, std: float, sigmas: float = 3.0, min_share: float = 0.01
) -> ModeCoverage:
    r"""Modes covered and the share of high-quality samples (VEEGAN / unrolled-GAN definition).

    Each point is assigned to its nearest centre :math:`k(x) = \arg\min_k \lVert x - \mu_k \rVert_2`.
    It is high quality when :math:`\lVert x - \mu_{k(x)} \rVert_2 \le` ``sigmas``·``std``. Mode
    :math:`k` is covered when its high-quality points number at least ``min_share``·N, N counting
    *all* points (a blurry generator whose points are mostly far from every centre covers nothing).

    Args:
        points: generated samples, shape (N, 2), N >= 1; any device (computed on the CPU in float32).
        centers: the mixture's centres, shape (K, 2), e.g. :func:`ganedu.data.toy_centers`.
        std: the standard deviation of each mixture component, e.g. ``ganedu.data.TOY_STD[kind]``.
        sigmas: the radius, in standard deviations, within which a point is high quality (3).
        min_share: the share of all N points a mode needs to count as covered (0.01).

    Returns:
        :class:`ModeCoverage` with ``covered``, ``total`` = K, ``high_quality`` in [0, 1] and
        ``counts``, the (K,) int64 high-quality points per mode.

    Raises:
        ValueError: ``points`` not a non-empty (N, 2) tensor, or ``centers`` not (K, 2).
    """
    if points.dim() != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"points must be a non-empty (N, 2) tensor, got {tuple(points.shape)}")
    if centers.dim() != 2 or centers.shape[1] != 2:
        raise ValueError(f"centers must be (K, 2), got {tuple(centers.shape)}")
    distance, nearest = torch.cdist(points.detach().float().cpu(), centers.float().cpu()).min(dim=1)  # (N,)
    good = distance <= sigmas * std
    counts = torch.bincount(nearest[good], minlength=len(centers))  # (K,)
    covered = int((counts >= min_share * len(points)).sum())
    return ModeCoverage(covered, len(centers), good.float().mean().item(), counts)
