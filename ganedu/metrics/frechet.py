"""The Fréchet distance between two sets of features (FID when the features are Inception's).

Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium": fit a Gaussian to each set of features and compare the two Gaussians with

    d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)

The numerics follow pytorch-fid's ``calculate_frechet_distance``: float64 statistics, the
N−1 covariance, ``scipy.linalg.sqrtm`` for the matrix square root, a retry with ε·I added to
both covariances when the product is singular, and an error when the square root has a
real imaginary part rather than rounding noise.

The estimate is biased upwards at small N (Chong & Forsyth 2020): compare FIDs only at the
same N and with the same features.
"""

from __future__ import annotations

import numpy as np
import torch


def as_float64(features) -> np.ndarray:
    """Features (N, D) as a float64 NumPy array, from NumPy or a torch tensor on any device."""
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().double().numpy()
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"features must be a 2-D array (N, D), got shape {features.shape}")
    return features


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of features, in float64.

    Args:
        features: ``(N, D)`` NumPy array or torch tensor, N >= 2.

    Returns:
        ``(mu, sigma)``: ``mu`` (D,), ``sigma`` (D, D) the unbiased covariance
        ``Σ = 1/(N−1) Σᵢ (xᵢ − μ)(xᵢ − μ)ᵀ``.
    """
    x = as_float64(features)
    if len(x) < 2:
        raise ValueError(f"a covariance needs at least 2 samples, got {len(x)}")
    return x.mean(axis=0), np.cov(x, rowvar=False, ddof=1)


def frechet_distance_from_stats(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``d² = ‖μ₁ − μ₂‖² + Tr(Σ₁) + Tr(Σ₂) − 2 Tr((Σ₁ Σ₂)^½)``

    Args:
        mu1, mu2: means, shape (D,).
        sigma1, sigma2: covariances, shape (D, D).
        eps: the diagonal offset ε·I added to both covariances when ``sqrtm(Σ₁Σ₂)`` is not
            finite (a singular product). As in pytorch-fid it enters the square-root term
            only, which lowers the result by about 2·ε·D.

    Returns:
        The squared distance d² as a Python float (what papers call FID).

    Raises:
        ValueError: shapes differ, or the square root's diagonal has an imaginary part larger
            than 1e-3 (the statistics are broken, not merely rounded).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = (
        np.atleast_2d(np.asarray(sigma1, np.float64)),
        np.atleast_2d(np.asarray(sigma2, np.float64)),
    )
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(
            f"statistics do not match: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}"
        )
    diff = mu1 - mu2
    import scipy.linalg  # here, not at the top: 0.22 s that `doctor` and the other metrics never need

    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(mu1)) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(
                f"the matrix square root has an imaginary component of {np.max(np.abs(covmean.imag)):.3g}; "
                "the covariances are not valid (too few samples, NaN or constant features?)"
            )
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def frechet_distance(a, b, eps: float = 1e-6) -> float:
    """Fréchet distance between the Gaussians fitted to two feature sets.

    ``d² = ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½)`` with float64 means and N−1 covariances.
    Finite also when N < D (the covariances are then singular; see ``eps``).

    Args:
        a, b: features ``(N_a, D)`` and ``(N_b, D)``, NumPy arrays or torch tensors.
        eps: diagonal offset for a singular product, see :func:`frechet_distance_from_stats`.

    Returns:
        d² as a Python float.
    """
    return frechet_distance_from_stats(*feature_statistics(a), *feature_statistics(b), eps=eps)
