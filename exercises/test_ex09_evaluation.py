"""Autograder for chapter 9 (exercises/ex09_evaluation.py)."""

import numpy as np
import pytest
from conftest import exercise_fixture

from ganedu import metrics

ex = exercise_fixture("ex09_evaluation")

# Points per test (each case of a parametrised test earns them); every other test earns 1.
POINTS = {
    "test_frechet_distance_matches_ganedu_on_random_statistics": 2,
    "test_precision_recall_match_ganedu": 2,
}


def features(n, d, seed, shift=0.0, scale=1.0):
    return np.random.default_rng(seed).normal(shift, scale, size=(n, d))


# ---------------------------------------------------------- frechet_distance_from_stats


def test_frechet_distance_with_equal_covariances_is_the_squared_mean_gap(ex):
    sigma = np.cov(features(50, 4, 0), rowvar=False)
    mu1, mu2 = np.zeros(4), np.array([1.0, 2.0, 0.0, -2.0])
    got = ex.frechet_distance_from_stats(mu1, sigma, mu2, sigma)
    assert got == pytest.approx(9.0, abs=1e-6), (
        f"with equal covariances the trace term vanishes and d² = ‖μ1 − μ2‖² = 9, got {got}"
    )


def test_frechet_distance_of_1d_gaussians_is_closed_form(ex):
    got = ex.frechet_distance_from_stats(
        np.array([1.0]), np.array([[4.0]]), np.array([3.0]), np.array([[1.0]])
    )
    assert got == pytest.approx((1 - 3) ** 2 + (2 - 1) ** 2, abs=1e-9), (
        f"for N(1, 2²) and N(3, 1²), d² = (μ1−μ2)² + (σ1−σ2)² = 5, got {got} "
        "(check the −2·tr((Σ1Σ2)^½) term: the square root of the *product*)"
    )


def test_frechet_distance_matches_ganedu_on_random_statistics(ex):
    mu1, s1 = metrics.feature_statistics(features(200, 6, 1))
    mu2, s2 = metrics.feature_statistics(features(200, 6, 2, shift=0.3, scale=1.5))
    got = ex.frechet_distance_from_stats(mu1, s1, mu2, s2)
    expected = metrics.frechet_distance_from_stats(mu1, s1, mu2, s2)
    assert isinstance(got, float), f"expected a Python float, got {type(got).__name__}"
    assert got == pytest.approx(expected, rel=1e-6), f"expected {expected:.6f}, got {got:.6f}"


# ------------------------------------------------------------------ feature_statistics


def test_feature_statistics_use_the_unbiased_covariance(ex):
    x = features(10, 3, 3)
    mu, sigma = ex.feature_statistics(x)
    assert np.allclose(mu, x.mean(0)), f"expected the column means {x.mean(0)}, got {mu}"
    unbiased, biased = np.cov(x, rowvar=False), np.cov(x, rowvar=False, bias=True)
    assert sigma.shape == (3, 3), f"expected a (D, D) = (3, 3) covariance, got shape {sigma.shape}"
    assert not np.allclose(sigma, biased), "this is the 1/N covariance: divide by N − 1"
    assert np.allclose(sigma, unbiased), "expected the covariance of the columns (rows are samples), 1/(N−1)"


def test_frechet_distance_of_a_set_with_itself_is_zero(ex):
    mu, sigma = ex.feature_statistics(features(300, 5, 4))
    got = ex.frechet_distance_from_stats(mu, sigma, mu, sigma)
    assert abs(got) < 1e-6, f"FD(X, X) must be 0 up to rounding, got {got}"


# --------------------------------------------------------------------- inception_score


def test_inception_score_of_confident_even_predictions_is_the_number_of_classes(ex):
    probs = np.eye(10)[np.arange(1000) % 10]
    got = ex.inception_score(probs)
    assert got == pytest.approx(10.0, rel=1e-6), (
        f"one-hot predictions spread over 10 classes give IS = 10, got {got}"
    )


def test_inception_score_of_identical_predictions_is_one(ex):
    probs = np.tile(np.array([0.7, 0.2, 0.1]), (50, 1))
    got = ex.inception_score(probs)
    assert got == pytest.approx(1.0, abs=1e-6), (
        f"when every p(y|x) equals p(y) the KL is 0 and IS = exp(0) = 1, got {got}"
    )


def test_inception_score_matches_ganedu_on_random_probabilities(ex):
    logits = features(400, 5, 5, scale=2.0)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    expected, _ = metrics.inception_score(probs, splits=1)
    got = ex.inception_score(probs)
    assert got == pytest.approx(expected, rel=1e-6), (
        f"expected {expected:.6f}, got {got:.6f} (KL(p(y|x) ‖ p(y)))"
    )


# ---------------------------------------------------------------- KID: kernel and MMD²


def test_polynomial_kernel_is_cubic_in_the_scaled_dot_product(ex):
    x, y = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [0.0, 0.0]])
    got = ex.polynomial_kernel(x, y)
    expected = np.array([[(11 / 2 + 1) ** 3, 1.0]])
    assert got.shape == (1, 2), f"expected an (N, M) = (1, 2) matrix, got shape {got.shape}"
    assert np.allclose(got, expected), f"k(x, y) = (x·y / D + 1)³ with D = 2: expected {expected}, got {got}"


def brute_force_mmd2(x, y):
    k = lambda a, b: (a @ b / len(a) + 1) ** 3  # noqa: E731
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_mmd2_equals_the_brute_force_double_loop(ex):
    x, y = features(12, 3, 6), features(9, 3, 7, shift=0.5)
    got, expected = ex.mmd2_unbiased(x, y), brute_force_mmd2(x, y)
    assert got == pytest.approx(expected, rel=1e-9), (
        f"expected {expected:.6f} from the double loop over i ≠ j, got {got:.6f} "
        "(leave the diagonal k(x_i, x_i) out and divide by m(m−1))"
    )


def test_mmd2_is_unbiased_near_zero_for_one_distribution(ex):
    values = [ex.mmd2_unbiased(features(40, 4, s), features(40, 4, 100 + s)) for s in range(20)]
    assert abs(np.mean(values)) < 0.15, (
        f"for two samples of one distribution the unbiased MMD² averages to 0, got a mean of {np.mean(values):.4f} "
        "(a clearly positive mean is the biased estimator: the diagonal is included)"
    )


def test_mmd2_matches_ganedu_kid_on_one_full_subset(ex):
    x, y = features(30, 4, 8), features(30, 4, 9, scale=1.3)
    expected, _ = metrics.kernel_inception_distance(x, y, num_subsets=1, subset_size=30)
    got = ex.mmd2_unbiased(x, y)
    assert got == pytest.approx(expected, rel=1e-6), f"expected {expected:.6f}, got {got:.6f}"


# --------------------------------------------------------------- precision and recall


def test_knn_radii_skip_the_point_itself(ex):
    x = np.array([[0.0], [1.0], [3.0], [7.0]])
    got = ex.knn_radii(x, 1)
    assert np.allclose(got, [1.0, 1.0, 2.0, 4.0]), (
        f"the 1st neighbour of each point other than itself is at [1, 1, 2, 4], got {got} "
        "(all zeros means the point was counted as its own neighbour)"
    )


def test_precision_and_recall_separate_quality_from_coverage(ex):
    real = features(300, 2, 10)
    collapsed = real[0] + 0.01 * features(30, 2, 13)  # good samples, all at one real point
    precision, recall = ex.precision_recall(real, collapsed, k=3)
    assert precision > 0.9, (
        f"samples on the real data are of high quality: expected precision > 0.9, got {precision}"
    )
    assert recall < 0.5, f"a collapsed model covers little of the data: expected recall < 0.5, got {recall}"


def test_precision_recall_match_ganedu(ex):
    real, fake = features(150, 3, 11), features(120, 3, 12, shift=0.7)
    expected = metrics.precision_recall(real, fake, k=3)
    got = ex.precision_recall(real, fake, k=3)
    assert got == pytest.approx(expected, abs=1e-9), f"expected (precision, recall) = {expected}, got {got}"


def test_a_sample_on_the_boundary_of_a_ball_counts_as_inside(ex):
    real = np.array([[0.0], [1.0], [3.0], [7.0]])  # 1st-neighbour radii 1, 1, 2, 4
    fake = np.array([[-1.0], [20.0]])  # -1 sits exactly on the ball of 0 (distance 1 = radius 1)
    precision, _ = ex.precision_recall(real, fake, k=1)
    assert precision == pytest.approx(0.5), (
        f"the fake at -1 lies on the boundary of real 0's ball (‖y - x‖ = r = 1) and counts, the one at 20 does not: "
        f"expected precision 0.5, got {precision} (the test is ‖y - x‖ ≤ r, not <)"
    )
