"""Toy 2D mixtures of Gaussians (8 on a ring, 5x5 on a grid): the fastest way to see mode collapse."""

from __future__ import annotations

import math

import torch

# Standard deviation of each Gaussian: 0.02 on the ring as in the unrolled-GAN paper
# (Metz et al. 2017, 8 modes on a circle of radius 2); 0.05 on the 5x5 grid.
TOY_STD = {"ring": 0.02, "grid": 0.05}


def toy_centers(kind: str) -> torch.Tensor:
    """Centres of the toy mixture ``kind``: float32 ``(K, 2)``.

    ``"ring"``: K = 8 points ``2 (cos 2πk/8, sin 2πk/8)``. ``"grid"``: K = 25 points
    ``(i, j)`` for i, j in {-4, -2, 0, 2, 4}.
    """
    if kind == "ring":
        angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
        return (2 * torch.stack([angles.cos(), angles.sin()], dim=1)).float()
    if kind == "grid":
        axis = torch.arange(-4.0, 5.0, 2.0)
        return torch.cartesian_prod(axis, axis)
    raise ValueError(f"unknown toy mixture {kind!r}; kinds: {', '.join(TOY_STD)}")


def toy_mixture(
    kind: str, n: int, seed: int = 0, device: torch.device | str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``n`` points from an equal-weight mixture of Gaussians around :func:`toy_centers`.

    ``x = μ_k + σ ε`` with ``k ~ Uniform{0..K-1}``, ``ε ~ N(0, I₂)`` and ``σ = TOY_STD[kind]``.
    Drawn on the CPU from a generator seeded with ``seed``, so the points are the same on every
    device, then moved to ``device``.

    Returns:
        ``(points float32 (n, 2), mode_index int64 (n,))``: ``mode_index[i]`` is the ``k`` of point i.
    """
    centers = toy_centers(kind)
    generator = torch.Generator().manual_seed(seed)
    mode_index = torch.randint(len(centers), (n,), generator=generator)
    points = centers[mode_index] + TOY_STD[kind] * torch.randn(n, 2, generator=generator)
    return points.to(device), mode_index.to(device)
