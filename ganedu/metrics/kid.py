"""Kernel Inception Distance: an unbiased MMD² between two feature sets.

Bińkowski et al. 2018, "Demystifying MMD GANs". With the cubic polynomial kernel

    k(x, y) = (xᵀy / d + 1)³        (d = feature dimension)

and subsets X = {xᵢ}, Y = {yⱼ} of m samples each, the unbiased estimate is

    MMD²ᵤ = 1/(m(m−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(m(m−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/m² Σ_{i,j} k(xᵢ, yⱼ)

averaged over random subsets. Unlike FID it has no bias in N (its expected value is the
true MMD²), so it can be negative for two samples of the same distribution.
"""

from __future__ import annotations

import numpy as np

from ganedu.metrics.frechet import as_float64


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``k(x, y) = (xᵀy / d + 1)³`` for every pair of rows: (m, d), (n, d) -> (m, n)."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased MMD² of the module docstring between two equally sized sets (m, d)."""
    m = len(x)
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2 * k_xy.mean())


def kernel_inception_distance(
    a, b, num_subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """KID between two feature sets: mean and standard deviation of MMD²ᵤ over random subsets.

    Each subset draws ``m = min(subset_size, N_a, N_b)`` rows of ``a`` and of ``b`` without
    replacement (as torch-fidelity and clean-fid do), from a NumPy generator seeded by ``seed``.

    Args:
        a, b: features ``(N_a, D)``, ``(N_b, D)``, NumPy arrays or torch tensors.
        num_subsets: how many subsets to average.
        subset_size: the subset size m before capping at the smaller N.
        seed: seed of the subset draws.

    Returns:
        ``(mean, std)`` of MMD²ᵤ over the subsets (float64 arithmetic).
    """
    a, b = as_float64(a), as_float64(b)
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples in each set, got {len(a)} and {len(b)}")
    rng = np.random.default_rng(seed)
    values = [
        mmd2_unbiased(a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)])
        for _ in range(num_subsets)
    ]
    return float(np.mean(values)), float(np.std(values))
