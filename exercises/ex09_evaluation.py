# Generated from solutions/ex09_evaluation.py by `python -m ganedu.grading make-stubs`.
# Replace each `raise NotImplementedError(...)` with your code; grade with
# `ganedu.grading.check('ex09_evaluation')` in the notebook or `pytest exercises/test_ex09_evaluation.py`.
r"""Chapter 9 exercises: the maths of the evaluation metrics.

Implement each function below; ``ganedu.grading.check("ex09_evaluation")`` in
``course/09_evaluation.ipynb`` grades them. Features are float64 arrays of shape (N, D):
one row per image, e.g. the Inception network's 2048-d pool features or the classifier's.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

HINTS = {
    "frechet_distance_from_stats": [
        "Three terms: the squared distance of the means, the traces of both covariances, and minus "
        "twice the trace of the matrix square root of their product. The root can come back with a "
        "tiny imaginary part from rounding: keep the real part.",
        "covmean = np.real(linalg.sqrtm(sigma1 @ sigma2)); "
        "diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)",
    ],
    "feature_statistics": [
        "One row per image: the mean over rows, and the covariance of the columns with N - 1 in the "
        "denominator (the unbiased estimate).",
        "x.mean(axis=0), np.cov(x, rowvar=False, ddof=1)",
    ],
    "inception_score": [
        "The marginal p(y) is the mean of the rows; each image contributes KL(p(y|x) || p(y)); the "
        "score is exp of the mean KL. Guard the logs against zeros.",
        "kl = (p * (np.log(p + 1e-12) - np.log(marginal + 1e-12))).sum(axis=1); np.exp(kl.mean())",
    ],
    "polynomial_kernel": [
        "All pairs at once with one matrix product; d is the feature dimension.",
        "(x @ y.T / x.shape[1] + 1.0) ** 3",
    ],
    "mmd2_unbiased": [
        "Unbiased: the within-set averages leave out the diagonal (a point compared with itself), so "
        "they divide by m(m - 1); the cross term keeps every pair.",
        "(k_xx.sum() - np.trace(k_xx)) / (m * (m - 1)) + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1)) "
        "- 2 * k_xy.mean()",
    ],
    "knn_radii": [
        "Sort each row of the pairwise distance matrix: column 0 is the point itself (distance 0).",
        "np.sort(dist, axis=1)[:, k]",
    ],
    "precision_recall": [
        "Precision: the share of fakes inside at least one real point's k-NN ball; recall: the share "
        "of reals inside at least one fake's ball. A point on the ball's edge is inside.",
        "precision = (dist <= r_real[None, :]).any(axis=1).mean() with dist of shape (n fake, m real)",
    ],
}


def frechet_distance_from_stats(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    r"""The Fréchet distance between two Gaussians (Heusel et al. 2017; Dowson & Landau 1982).

    .. math::
        d^2 = \lVert \mu_1 - \mu_2 \rVert^2 + \operatorname{tr}\!\left(\Sigma_1 + \Sigma_2
              - 2\,(\Sigma_1 \Sigma_2)^{1/2}\right)

    Use ``scipy.linalg.sqrtm`` for the matrix square root; rounding can leave a tiny imaginary
    part, so keep its real part (``.real``).

    Args:
        mu1, mu2: means, shape (D,).
        sigma1, sigma2: covariances, shape (D, D).

    Returns:
        The squared distance :math:`d^2` as a Python float (that is what "FID" reports).
    """
    raise NotImplementedError("frechet_distance_from_stats: not implemented yet, see its docstring")


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and **unbiased** covariance of features (N, D), in float64.

    .. math:: \hat\mu = \frac1N \sum_i x_i, \qquad
              \hat\Sigma = \frac{1}{N-1} \sum_i (x_i - \hat\mu)(x_i - \hat\mu)^\top

    Returns:
        ``(mu (D,), sigma (D, D))``.
    """
    raise NotImplementedError("feature_statistics: not implemented yet, see its docstring")


def inception_score(probs: np.ndarray) -> float:
    r"""The Inception Score of class probabilities (Salimans et al. 2016), one split.

    .. math::
        \mathrm{IS} = \exp\Big(\frac1N \sum_i \mathrm{KL}\big(p(y \mid x_i)\,\Vert\, p(y)\big)\Big),
        \qquad p(y) = \frac1N \sum_i p(y \mid x_i)

    It is high when each prediction is confident (low entropy) and the predictions together
    cover the classes evenly. Treat :math:`0 \log 0` as 0 (add a tiny epsilon inside the logs).

    Args:
        probs: (N, C), rows that sum to 1.

    Returns:
        The score as a Python float, between 1 and C.
    """
    raise NotImplementedError("inception_score: not implemented yet, see its docstring")


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""The cubic polynomial kernel of KID (Bińkowski et al. 2018): :math:`k(x, y) = (x^\top y / D + 1)^3`.

    Args:
        x: (N, D); y: (M, D).

    Returns:
        The kernel matrix, shape (N, M).
    """
    raise NotImplementedError("polynomial_kernel: not implemented yet, see its docstring")


def mmd2_unbiased(real: np.ndarray, fake: np.ndarray) -> float:
    r"""The unbiased estimate of the squared MMD with :func:`polynomial_kernel` (one KID subset).

    .. math::
        \widehat{\mathrm{MMD}}^2 = \frac{1}{m(m-1)} \sum_{i \ne j} k(x_i, x_j)
            + \frac{1}{n(n-1)} \sum_{i \ne j} k(y_i, y_j) - \frac{2}{mn} \sum_{i, j} k(x_i, y_j)

    with :math:`x` the m real and :math:`y` the n fake features. The diagonal terms
    :math:`k(x_i, x_i)` are left out of the first two sums: including them gives the biased
    estimator, which is positive even for two samples of one distribution.

    Returns:
        A Python float (it can be slightly negative: the estimate is unbiased).
    """
    raise NotImplementedError("mmd2_unbiased: not implemented yet, see its docstring")


def knn_radii(features: np.ndarray, k: int) -> np.ndarray:
    r"""Distance from each point to its k-th nearest neighbour **other than itself**.

    These radii define the k-NN balls that approximate a distribution's support in
    improved precision and recall (Kynkäänniemi et al. 2019). A point is at distance 0 from
    itself: counting it as its own first neighbour shrinks every ball.

    Args:
        features: (N, D).
        k: which neighbour (k = 3 in the paper).

    Returns:
        (N,) Euclidean distances.
    """
    raise NotImplementedError("knn_radii: not implemented yet, see its docstring")


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    r"""Improved precision and recall (Kynkäänniemi et al. 2019).

    .. math::
        \text{precision} = \frac1n \sum_j \mathbb 1\big[\exists i:\ \lVert y_j - x_i\rVert \le r_k(x_i)\big],
        \qquad
        \text{recall} = \frac1m \sum_i \mathbb 1\big[\exists j:\ \lVert x_i - y_j\rVert \le r_k(y_j)\big]

    Precision: the share of fakes that fall inside the real manifold (quality). Recall: the
    share of reals inside the fake manifold (coverage). Radii come from :func:`knn_radii`.

    Returns:
        ``(precision, recall)`` as Python floats in [0, 1].
    """
    raise NotImplementedError("precision_recall: not implemented yet, see its docstring")
