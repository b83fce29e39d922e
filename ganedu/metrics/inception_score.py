"""The Inception Score from class probabilities.

Salimans et al. 2016, "Improved Techniques for Training GANs":

    IS = exp( E_x [ KL( p(y|x) ‖ p(y) ) ] ),   p(y) = E_x [ p(y|x) ]

computed on ``splits`` equal parts of the samples, reported as mean and standard deviation
over the parts. It ranges from 1 (every sample gets the same prediction) to C, the number of
classes (confident predictions spread evenly over all classes). It never looks at real
data, so it cannot see a model that copies its training set. In ganedu the probabilities
come from the project's Fashion-MNIST classifier, not from Inception: name the result so.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from ganedu.metrics.frechet import as_float64


def inception_score(probs, splits: int = 10) -> tuple[float, float]:
    """Inception Score of class probabilities.

    ``IS = exp(mean_i Σ_c p(c|xᵢ) (log p(c|xᵢ) − log p(c)))`` per split, with ``0 log 0 = 0``.

    Args:
        probs: ``(N, C)`` rows of class probabilities (each sums to 1), NumPy or torch.
        splits: number of parts (``numpy.array_split``: the first parts get one more sample
            when N is not a multiple).

    Returns:
        ``(mean, std)`` of the per-split scores.
    """
    p = as_float64(probs)
    if len(p) < splits:
        raise ValueError(f"{len(p)} samples cannot be cut into {splits} splits")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = (xlogy(part, part) - xlogy(part, marginal)).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))
