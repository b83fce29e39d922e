"""ganedu.editing: inversion into W and W+ and class directions, on the shipped StyleGAN at tiny sizes."""

import pytest
import torch

from ganedu import editing
from ganedu.data import load_dataset
from ganedu.data.convert import to_float, to_uint8
from ganedu.errors import GaneduError
from ganedu.metrics import ClassifierFeatures
from ganedu.pretrained import load_pretrained

SNEAKER, ANKLE_BOOT = 7, 9


@pytest.fixture(scope="module")
def generator():
    gan, _ = load_pretrained("stylegan")
    return gan.ema.model if gan.ema is not None else gan.G


@pytest.fixture(scope="module")
def classifier():
    return ClassifierFeatures("fashion-mnist", device="cpu")


@pytest.fixture(scope="module")
def targets():
    images, _ = load_dataset("fashion-mnist", "test")
    return to_float(images[:2], pad_to=32)  # (2, 1, 32, 32)


def test_inversion_lowers_the_loss_and_leaves_the_generator_unchanged(generator, classifier, targets):
    before = [p.detach().clone() for p in generator.parameters()]
    flags = [p.requires_grad for p in generator.parameters()]
    inv = editing.invert(
        generator, targets, "w", steps=15, features=editing.classifier_feature_fn(classifier)
    )
    assert inv.losses[-1] < 0.5 * inv.losses[0], f"loss went {inv.losses[0]:.3f} -> {inv.losses[-1]:.3f}"
    assert inv.ws.shape == (2, generator.num_ws, generator.mapping.w_dim)
    assert torch.equal(inv.ws[:, 0], inv.ws[:, -1]), "in W every layer reads the same w"
    assert all(torch.equal(a, b) for a, b in zip(before, generator.parameters(), strict=True))
    assert flags == [p.requires_grad for p in generator.parameters()]


def test_w_plus_reconstructs_no_worse_than_w_at_equal_steps(generator, targets):
    w = editing.invert(generator, targets, "w", steps=15)
    w_plus = editing.invert(generator, targets, "w+", steps=15)
    assert w_plus.pixel_mse.mean() <= w.pixel_mse.mean() * 1.05, (
        f"W+ pixel MSE {w_plus.pixel_mse.mean():.4f} vs W {w.pixel_mse.mean():.4f}"
    )


def test_inversion_loss_is_pixel_mse_plus_lambda_feature_mse():
    recon, target = torch.zeros(2, 1, 4, 4), torch.ones(2, 1, 4, 4)
    loss = editing.inversion_loss(recon, target, lambda x: x.flatten(1)[:, :3] * 2, lam=0.5)
    assert torch.allclose(loss, torch.full((2,), 1.0 + 0.5 * 4.0))


def test_unknown_space_says_which_are_known(generator, targets):
    with pytest.raises(GaneduError, match="w, w\\+"):
        editing.invert(generator, targets, "z", steps=1)


def test_walking_the_sneaker_to_boot_direction_makes_boots(generator, classifier):
    direction = editing.class_direction(generator, classifier, SNEAKER, ANKLE_BOOT, n=300)
    w, images = editing.sample_ws(generator, 300, seed=1)
    sneakers = w[classifier.predict(to_uint8(images, crop_to=28)) == SNEAKER]
    assert len(sneakers) >= 5
    p_before, p_after = (
        classifier.probs(to_uint8(im, crop_to=28))[:, ANKLE_BOOT].mean()
        for im in editing.walk(generator, sneakers, direction, [0.0, 1.0])
    )
    assert p_after > p_before + 0.2, f"P(ankle boot) went {p_before:.2f} -> {p_after:.2f}"


def test_class_means_are_the_means_of_the_samples_each_class_was_given(generator, classifier):
    means = editing.class_means(generator, classifier, n=200, seed=3)
    w, images = editing.sample_ws(generator, 200, seed=3)
    labels = classifier.predict(to_uint8(images, crop_to=28))
    assert means.shape == (10, w.shape[1])
    for c in range(10):
        if (labels == c).any():
            torch.testing.assert_close(means[c], w[labels == c].mean(0))
        else:
            assert means[c].isnan().all(), f"class {c} had no samples: its row should be NaN"
    direction = editing.class_direction(generator, classifier, SNEAKER, ANKLE_BOOT, n=200, seed=3)
    torch.testing.assert_close(direction, means[ANKLE_BOOT] - means[SNEAKER])


def test_truncated_walk_is_the_centre_plus_psi_times_the_walked_offset(generator):
    w, _ = editing.sample_ws(generator, 3, seed=0)
    direction, center = torch.randn(w.shape[1]) * 0.1, w.mean(0)
    # ψ = 0 puts every image at the centre; ψ = 1 is the plain walk whatever the centre
    at_center = editing.walk(generator, w, direction, [1.0], center=center, psi=0.0)[0]
    torch.testing.assert_close(at_center, editing.render(generator, center[None]).expand_as(at_center))
    plain = editing.walk(generator, w, direction, [0.5, 1.0])
    torch.testing.assert_close(
        editing.walk(generator, w, direction, [0.5, 1.0], center=center, psi=1.0), plain
    )
    half = editing.walk(generator, w, direction, [1.0], center=center, psi=0.5)[0]
    torch.testing.assert_close(half, editing.render(generator, center + 0.5 * (w + direction - center)))
    with pytest.raises(GaneduError, match="center"):
        editing.walk(generator, w, direction, [1.0], psi=0.5)
