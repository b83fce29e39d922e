"""The chapters' quick score: FD in classifier features and the classes an independent judge sees."""

import numpy as np
import pytest
import torch

from ganedu.data import load_dataset
from ganedu.metrics import SampleScore, SampleScorer


@pytest.fixture
def scorer(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return SampleScorer(n=400, device="cpu")


def test_real_test_images_score_near_zero_fd_with_every_class_present(scorer):
    images, labels = load_dataset("fashion-mnist", "test")
    score = scorer(images[:400])
    assert abs(score.fd) < 1e-6
    assert score.n == 400 and score.counts.sum() == 400
    assert score.classes_present == 10
    assert (score.predicted == labels[:400].numpy()).mean() > 0.85


def test_one_class_of_samples_is_one_class_present_and_a_large_fd(scorer):
    images, labels = load_dataset("fashion-mnist", "train")
    trousers = images[labels == 1][:300]
    score = scorer(trousers.numpy())  # NumPy, as gan.export gives it
    assert score.classes_present == 1 and score.counts.argmax() == 1
    assert score.fd > 10 * abs(scorer(images[:300]).fd)
    assert str(score).endswith("1/10 classes")


def test_padded_32x32_samples_score_like_their_28x28_centre(scorer):
    images = load_dataset("fashion-mnist", "train")[0][:200]
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    assert scorer(padded).fd == pytest.approx(scorer(images).fd)


def test_classes_present_counts_classes_with_at_least_the_minimum_share():
    predicted = np.array([0] * 97 + [1, 1] + [2])
    assert SampleScore(0.0, predicted, num_classes=10, min_share=0.02).classes_present == 2
    assert SampleScore(0.0, predicted, num_classes=10, min_share=0.01).classes_present == 3


def test_float_samples_are_refused_with_a_pointer_to_export(scorer):
    with pytest.raises(ValueError, match="export"):
        scorer(torch.zeros(4, 1, 28, 28))
