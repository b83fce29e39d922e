"""ganedu.metrics.memorisation: a copying generator is flagged, fresh images are not, whatever FD says."""

import pytest
import torch

from ganedu.data import load_dataset
from ganedu.metrics import ClassifierFeatures, frechet_distance, memorisation, nearest_neighbours


@pytest.fixture(scope="module")
def sets():
    train, _ = load_dataset("fashion-mnist", "train")
    test, _ = load_dataset("fashion-mnist", "test")
    train = train[:1000]
    copies = train[torch.randint(1000, (400,), generator=torch.Generator().manual_seed(0))]
    return train, copies, test[:400]


@pytest.fixture(scope="module")
def classifier():
    return ClassifierFeatures("fashion-mnist", device="cpu")


def test_a_copying_generator_is_flagged_although_its_fd_beats_held_out_images(sets, classifier):
    train, copies, test = (classifier(x) for x in sets)
    fd_copies, fd_test = frechet_distance(copies, train), frechet_distance(test, train)
    assert fd_copies < fd_test, "the copies' FD should be the better one: that is the trap"
    copied, fresh = memorisation(copies, train), memorisation(test, train)
    assert copied.flagged and copied.copy_fraction == 1.0 and copied.median_ratio < 0.01
    assert not fresh.flagged, f"held-out images flagged: copy fraction {fresh.copy_fraction}"
    assert 0.7 < fresh.median_ratio < 1.3, f"held-out images should sit at ratio ~1, got {fresh.median_ratio}"


def test_pixels_work_as_features_too(sets):
    train, copies, test = sets
    assert memorisation(copies, train).flagged
    assert not memorisation(test, train).flagged


def test_nearest_neighbour_of_a_set_in_itself_excludes_the_point():
    x = torch.tensor([[0.0], [1.0], [3.0]])
    d, i = nearest_neighbours(x, x, exclude_self=True)
    assert d.tolist() == [1.0, 1.0, 2.0] and i.tolist() == [1, 0, 1]
    d, _ = nearest_neighbours(x, x)
    assert d.tolist() == [0.0, 0.0, 0.0]


def test_nearest_neighbours_finds_the_copied_index():
    train = torch.randn(50, 8, generator=torch.Generator().manual_seed(1))
    d, i = nearest_neighbours(train[[7, 3, 41]], train)
    assert i.tolist() == [7, 3, 41] and d.abs().max() < 1e-12
