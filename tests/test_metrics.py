"""Numerics of the metrics, against closed forms, brute force and reference packages; the classifiers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from ganedu.data import load_dataset
from ganedu.errors import CheckpointError, GaneduError
from ganedu.metrics import (
    ClassifierFeatures,
    density_coverage,
    evaluate,
    feature_statistics,
    frechet_distance,
    frechet_distance_from_stats,
    inception_score,
    kernel_inception_distance,
    precision_recall,
)
from ganedu.metrics import classifier as classifier_module
from ganedu.metrics import prdc as prdc_module
from ganedu.metrics.classifier import CLASSIFIERS, recorded_accuracy


def gaussian(n: int, d: int, seed: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(shift, scale, size=(n, d))


def random_spd(d: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


# --------------------------------------------------------------------------- Fréchet distance


def test_frechet_distance_of_a_set_with_itself_is_zero():
    x = gaussian(500, 32, seed=0)
    assert abs(frechet_distance(x, x)) < 1e-8


def test_frechet_distance_with_equal_covariances_is_the_squared_mean_difference():
    x = gaussian(400, 16, seed=1)
    shift = np.random.default_rng(2).normal(size=16)
    assert frechet_distance(x, x + shift) == pytest.approx(shift @ shift, rel=1e-8)
    sigma = random_spd(8, seed=3)
    mu1, mu2 = np.zeros(8), np.arange(8.0)
    assert frechet_distance_from_stats(mu1, sigma, mu2, sigma) == pytest.approx(mu2 @ mu2, rel=1e-8)


def test_frechet_distance_of_diagonal_gaussians_matches_the_closed_form():
    # For diagonal covariances: d² = ‖μ₁ − μ₂‖² + Σₖ (σ₁ₖ − σ₂ₖ)².
    s1, s2 = np.array([1.0, 2.0, 0.5, 3.0]), np.array([0.5, 2.5, 1.5, 1.0])
    mu1, mu2 = np.array([0.0, 1.0, -1.0, 2.0]), np.array([1.0, 1.0, 0.0, 0.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((s1 - s2) ** 2)
    got = frechet_distance_from_stats(mu1, np.diag(s1**2), mu2, np.diag(s2**2))
    assert got == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_is_finite_when_there_are_fewer_samples_than_dimensions():
    value = frechet_distance(gaussian(20, 64, seed=4), gaussian(20, 64, seed=5, shift=0.5))
    assert np.isfinite(value) and value > 0


def test_frechet_distance_matches_pytorch_fid():
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    a, b = gaussian(300, 24, seed=6), gaussian(250, 24, seed=7, shift=0.3, scale=1.5)
    reference = fid_score.calculate_frechet_distance(
        a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    )
    assert frechet_distance(a, b) == pytest.approx(float(reference), rel=1e-9)


def test_frechet_distance_takes_torch_or_numpy_and_computes_in_float64():
    a, b = gaussian(100, 8, seed=8), gaussian(100, 8, seed=9, shift=1.0)
    from_torch = frechet_distance(torch.from_numpy(a).float(), torch.from_numpy(b).float())
    assert from_torch == pytest.approx(
        frechet_distance(a.astype(np.float32), b.astype(np.float32)), rel=1e-12
    )
    mu, sigma = feature_statistics(torch.from_numpy(a).float())
    assert mu.dtype == np.float64 and sigma.dtype == np.float64


def test_feature_statistics_use_the_unbiased_covariance():
    _, sigma = feature_statistics(np.array([[0.0], [2.0]]))
    assert sigma.item() == pytest.approx(2.0)  # divides by N − 1 = 1, not N = 2


def test_frechet_distance_raises_when_the_square_root_is_really_complex():
    # sqrtm(diag(1, −1)) = diag(1, i): not rounding noise but broken statistics.
    with pytest.raises(ValueError, match="imaginary component"):
        frechet_distance_from_stats(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))


def test_frechet_distance_retries_with_a_diagonal_offset_when_the_product_is_singular(monkeypatch):
    """sqrtm fails by a stand-in on its first call: which matrices make scipy's sqrtm return a
    non-finite root depends on the scipy version and the BLAS, so no input fails it everywhere."""
    calls = []
    real_sqrtm = scipy.linalg.sqrtm

    def sqrtm(matrix):
        calls.append(matrix)
        return np.full_like(matrix, np.inf) if len(calls) == 1 else real_sqrtm(matrix)

    monkeypatch.setattr(scipy.linalg, "sqrtm", sqrtm)  # imported where the distance is computed
    sigma = np.diag([1.0, 4.0])
    value = frechet_distance_from_stats(np.zeros(2), sigma, np.zeros(2), sigma, eps=1e-3)
    assert len(calls) == 2
    np.testing.assert_allclose(calls[1], (sigma + 1e-3 * np.eye(2)) @ (sigma + 1e-3 * np.eye(2)))
    # As in pytorch-fid the offset enters the square root only: Tr((Σ+εI)²)^½ = Tr Σ + 2ε here.
    assert value == pytest.approx(-2 * 1e-3 * 2, rel=1e-9)


# --------------------------------------------------------------------------- KID


def brute_force_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]

    def k(u, v):
        return (sum(ui * vi for ui, vi in zip(u, v, strict=True)) / d + 1) ** 3

    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_equals_a_brute_force_double_loop():
    x, y = gaussian(7, 3, seed=10), gaussian(7, 3, seed=11, shift=0.7)
    # subset_size >= N: every subset is the whole set, reordered, and MMD² ignores the order.
    mean, std = kernel_inception_distance(x, y, num_subsets=3, subset_size=50)
    assert mean == pytest.approx(brute_force_mmd2(x, y), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_kid_caps_the_subset_size_at_the_smaller_set():
    x, y = gaussian(30, 4, seed=12), gaussian(12, 4, seed=13, shift=1.0)
    assert kernel_inception_distance(x, y, subset_size=1000) == kernel_inception_distance(
        x, y, subset_size=12
    )


def test_kid_is_unbiased_near_zero_for_one_distribution_and_positive_for_two():
    same, _ = kernel_inception_distance(gaussian(400, 8, seed=14), gaussian(400, 8, seed=15), subset_size=200)
    shifted, _ = kernel_inception_distance(
        gaussian(400, 8, seed=14), gaussian(400, 8, seed=16, shift=0.5), subset_size=200
    )
    assert abs(same) < 0.01 < shifted


def test_kid_is_reproducible_for_a_seed():
    x, y = gaussian(60, 4, seed=17), gaussian(60, 4, seed=18, shift=0.2)
    assert kernel_inception_distance(x, y, subset_size=20, seed=3) == kernel_inception_distance(
        x, y, subset_size=20, seed=3
    )


# --------------------------------------------------------------------------- Inception Score


def test_inception_score_is_the_number_of_classes_for_one_hot_predictions_spread_evenly():
    classes, splits = 7, 10
    probs = np.eye(classes)[np.arange(classes * splits * 3) % classes]
    mean, std = inception_score(probs, splits=splits)
    assert mean == pytest.approx(classes, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_is_one_for_identical_predictions():
    probs = np.tile([0.2, 0.5, 0.3], (50, 1))
    mean, std = inception_score(probs, splits=5)
    assert mean == pytest.approx(1.0, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_matches_a_hand_computation():
    probs = np.array([[0.5, 0.5], [1.0, 0.0]])
    marginal = np.array([0.75, 0.25])
    kl = [0.5 * np.log(0.5 / marginal[0]) + 0.5 * np.log(0.5 / marginal[1]), np.log(1.0 / marginal[0])]
    assert inception_score(torch.tensor(probs), splits=1)[0] == pytest.approx(np.exp(np.mean(kl)), rel=1e-12)


# --------------------------------------------------------------------------- precision/recall, density/coverage


def test_kth_neighbour_radius_excludes_the_point_itself():
    points = torch.tensor([[0.0], [1.0], [3.0], [6.0]], dtype=torch.float64)
    np.testing.assert_allclose(prdc_module.kth_neighbour_radii(points, k=1), [1.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(prdc_module.kth_neighbour_radii(points, k=2), [3.0, 2.0, 3.0, 5.0])


def test_precision_recall_density_coverage_match_the_prdc_package(capsys):
    prdc = pytest.importorskip("prdc")
    real, fake = gaussian(300, 8, seed=19), gaussian(250, 8, seed=20, shift=0.4, scale=0.8)
    at3 = prdc.compute_prdc(real, fake, nearest_k=3)
    at5 = prdc.compute_prdc(real, fake, nearest_k=5)
    assert precision_recall(real, fake, k=3) == pytest.approx((at3["precision"], at3["recall"]), abs=1e-12)
    assert density_coverage(real, fake, k=5) == pytest.approx((at5["density"], at5["coverage"]), abs=1e-12)


def test_precision_recall_do_not_depend_on_the_block_size(monkeypatch):
    real, fake = gaussian(90, 5, seed=21), gaussian(70, 5, seed=22, shift=0.3)
    whole = precision_recall(real, fake), density_coverage(real, fake)
    monkeypatch.setattr(prdc_module, "BLOCK_ROWS", 7)
    assert (precision_recall(real, fake), density_coverage(real, fake)) == whole


def test_precision_and_recall_are_one_for_identical_sets_and_zero_for_disjoint_ones():
    x = gaussian(100, 4, seed=23)
    assert precision_recall(x, x) == (1.0, 1.0)
    assert density_coverage(x, x)[1] == 1.0
    assert precision_recall(x, x + 100.0) == (0.0, 0.0)
    assert density_coverage(x, x + 100.0) == (0.0, 0.0)


# --------------------------------------------------------------------------- classifiers


@pytest.fixture(scope="module")
def test_split():
    images, labels = load_dataset("fashion-mnist", "test")
    return images[:2000], labels[:2000]


@pytest.mark.parametrize("which", ["primary", "independent"])
def test_classifier_recorded_test_accuracy_is_at_least_90_percent(which):
    record = recorded_accuracy("fashion-mnist", which)
    assert record["test_accuracy"] >= 0.90
    assert record["sha256"] == CLASSIFIERS[("fashion-mnist", which)].sha256


@pytest.mark.parametrize("which", ["primary", "independent"])
def test_classifier_accuracy_on_the_first_2000_test_images_is_at_least_90_percent(which, test_split):
    images, labels = test_split
    predicted = ClassifierFeatures("fashion-mnist", device="cpu", which=which).predict(images)
    assert predicted.dtype == torch.int64
    assert (predicted == labels).double().mean().item() >= 0.90


@pytest.mark.parametrize("which", ["primary", "independent"])
def test_classifier_weights_are_small_and_pinned(which):
    spec = CLASSIFIERS[("fashion-mnist", which)]
    assert spec.weights_path.stat().st_size < 2 * 1024 * 1024
    assert len(spec.sha256) == 64


def test_the_independent_classifier_is_another_architecture_with_another_seed():
    primary, independent = (
        CLASSIFIERS[("fashion-mnist", "primary")],
        CLASSIFIERS[("fashion-mnist", "independent")],
    )
    assert primary.architecture is not independent.architecture and primary.seed != independent.seed


def test_classifier_gives_features_and_probabilities_of_the_right_shape(test_split):
    classifier = ClassifierFeatures(device="cpu")
    images = test_split[0][:16]
    features, probs = classifier(images), classifier.probs(images)
    assert features.shape == (16, classifier.feature_dim) == (16, 128) and features.dtype == torch.float32
    assert probs.shape == (16, 10)
    torch.testing.assert_close(probs.sum(1), torch.ones(16))


def test_classifier_uses_the_centre_of_32x32_images(test_split):
    classifier = ClassifierFeatures(device="cpu")
    images = test_split[0][:8]
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2), value=255)
    torch.testing.assert_close(classifier(padded), classifier(images))


def test_classifier_refuses_float_images():
    with pytest.raises(ValueError, match="uint8"):
        ClassifierFeatures(device="cpu").features(torch.zeros(2, 1, 28, 28))


def test_classifier_with_a_tampered_weights_file_is_refused(monkeypatch):
    spec = CLASSIFIERS[("fashion-mnist", "primary")]
    monkeypatch.setitem(
        classifier_module.CLASSIFIERS,
        ("fashion-mnist", "primary"),
        type(spec)(**{**vars(spec), "sha256": "0" * 64}),
    )
    with pytest.raises(CheckpointError, match="SHA-256"):
        ClassifierFeatures(device="cpu")


def test_there_is_no_classifier_for_other_datasets():
    with pytest.raises(GaneduError, match="--features inception"):
        ClassifierFeatures("cifar10")


# --------------------------------------------------------------------------- evaluate


@pytest.fixture
def stats_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "ganedu" / "stats"


def test_evaluate_classifier_fid_of_the_real_images_themselves_is_zero_and_cached(test_split, stats_cache):
    result = evaluate(test_split[0][:300], metric="fid", features="classifier", device="cpu")
    assert result["name"] == "FID (Fashion-MNIST classifier features)"
    assert result["n"] == 300 and result["split"] == "test"
    assert abs(result["value"]) < 1e-6
    assert [p.name.split("-")[:4] for p in stats_cache.iterdir()] == [
        ["fashion", "mnist", "test", "classifier"]
    ]


def test_evaluate_reuses_the_cached_real_features(test_split, stats_cache, monkeypatch):
    seen = []
    features = ClassifierFeatures.features

    def counting(self, images, batch_size=1000):
        seen.append(len(images))
        return features(self, images, batch_size)

    monkeypatch.setattr(ClassifierFeatures, "features", counting)
    evaluate(test_split[0][:100], metric="fid", device="cpu")
    evaluate(test_split[0][:100], metric="kid", device="cpu")
    assert seen == [100, 100, 100]  # reals, fakes; then fakes only


def test_evaluate_compares_at_equal_n_and_crops_padded_samples(test_split, stats_cache):
    train = load_dataset("fashion-mnist", "train")[0][:200]
    padded = torch.nn.functional.pad(train, (2, 2, 2, 2))
    a = evaluate(padded, metric="fid", n=150, device="cpu")
    b = evaluate(train, metric="fid", n=150, device="cpu")
    assert a["n"] == b["n"] == 150 and a["value"] == pytest.approx(b["value"]) and a["value"] > 0


def test_evaluate_gives_kid_is_and_precision_recall(test_split, stats_cache):
    images = test_split[0][:200]
    kid = evaluate(images, metric="kid", device="cpu")
    assert kid["name"].startswith("KID (Fashion-MNIST classifier") and {"value", "std"} <= kid.keys()
    score = evaluate(images, metric="is", device="cpu")
    assert score["name"] == "IS (Fashion-MNIST classifier probabilities)" and 5 < score["value"] <= 10
    pr = evaluate(images, metric="pr", device="cpu")
    assert pr["precision"] == pr["recall"] == pr["coverage"] == 1.0


def test_evaluate_refuses_the_inception_score_with_inception_features():
    with pytest.raises(GaneduError, match="--features classifier"):
        evaluate(torch.zeros(10, 1, 28, 28, dtype=torch.uint8), metric="is", features="inception")
