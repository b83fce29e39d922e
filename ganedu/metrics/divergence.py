r"""Distances between two 1D densities sampled on an even grid: what chapters 1 and 4 plot.

A GAN with the optimal discriminator minimises the Jensen-Shannon divergence (Goodfellow et
al. 2014); a WGAN estimates the Wasserstein-1 distance (Arjovsky et al. 2017). On densities
``p`` and ``q`` given at points ``x_i`` spaced ``dx`` apart both are one line of NumPy, which
makes the difference visible: JS saturates at log 2 once the supports stop overlapping, W₁
keeps growing with the distance.
"""

from __future__ import annotations

import numpy as np


def _kl(a: np.ndarray, m: np.ndarray, dx: float) -> float:
    """KL(a ‖ m) as a Riemann sum, with 0 log 0 = 0."""
    inside = a > 0
    return float(np.sum(a[inside] * np.log(a[inside] / m[inside])) * dx)


def js_divergence(p, q, dx: float) -> float:
    r"""Jensen-Shannon divergence of two densities on an even grid with spacing ``dx``.

    .. math:: \mathrm{JS}(p, q) = \tfrac12 \mathrm{KL}(p \,\|\, m) + \tfrac12 \mathrm{KL}(q \,\|\, m),
              \quad m = \tfrac12 (p + q),

    with each KL a Riemann sum and :math:`0 \log 0 = 0`. Between 0 (equal densities) and
    :math:`\log 2` (disjoint supports).

    Args:
        p, q: density values at the same grid points, arrays of equal shape (each integrating to 1).
        dx: the grid spacing.
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"p and q must be sampled on the same grid, got shapes {p.shape} and {q.shape}")
    m = (p + q) / 2
    return 0.5 * _kl(p, m, dx) + 0.5 * _kl(q, m, dx)


def wasserstein_1d(p, q, dx: float) -> float:
    r"""Wasserstein-1 distance of two 1D densities on an even grid: the area between their CDFs.

    .. math:: W_1(p, q) = \int \lvert F_p(x) - F_q(x) \rvert \, dx,
              \quad F_p(x) = \int_{-\infty}^{x} p(t)\, dt

    Args:
        p, q: density values at the same grid points, arrays of equal shape (each integrating to 1).
        dx: the grid spacing.
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"p and q must be sampled on the same grid, got shapes {p.shape} and {q.shape}")
    return float(np.sum(np.abs(np.cumsum(p - q) * dx)) * dx)
