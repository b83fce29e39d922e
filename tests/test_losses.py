"""The adversarial losses, checked against hand computation on probabilities."""

import math

import pytest
import torch
import torch.nn.functional as F

from ganedu import losses

REAL = torch.tensor([2.0, -1.0, 0.5])
FAKE = torch.tensor([-3.0, 0.0, 1.5])


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_minimax_d_is_binary_cross_entropy_by_hand():
    expected = (
        -sum(math.log(sigmoid(r)) for r in REAL.tolist()) / 3
        - sum(math.log(1 - sigmoid(f)) for f in FAKE.tolist()) / 3
    )
    assert losses.minimax_d(REAL, FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_minimax_g_is_log_one_minus_d_of_fake():
    expected = sum(math.log(1 - sigmoid(f)) for f in FAKE.tolist()) / 3
    assert losses.minimax_g(FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_nonsaturating_g_is_minus_log_d_of_fake():
    expected = -sum(math.log(sigmoid(f)) for f in FAKE.tolist()) / 3
    assert losses.nonsaturating_g(FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_minimax_losses_stay_finite_where_sigmoid_then_bce_breaks():
    real, fake = torch.tensor([200.0]), torch.tensor([200.0])
    assert losses.minimax_d(real, fake).item() == pytest.approx(200.0)
    assert losses.nonsaturating_g(torch.tensor([-200.0])).item() == pytest.approx(200.0)
    # the probability route rounds sigmoid(200) to exactly 1 and clamps log(0) to -100
    assert F.binary_cross_entropy(torch.sigmoid(fake), torch.zeros(1)).item() == pytest.approx(100.0)


def test_nonsaturating_gradient_is_strong_where_minimax_saturates():
    fake = torch.tensor([-8.0], requires_grad=True)  # D confidently rejects the fake
    (g_sat,) = torch.autograd.grad(losses.minimax_g(fake), fake)
    (g_ns,) = torch.autograd.grad(losses.nonsaturating_g(fake), fake)
    assert abs(g_sat.item()) < 1e-3 < 0.99 < abs(g_ns.item())


def test_wasserstein_losses_by_hand():
    assert losses.wasserstein_d(REAL, FAKE).item() == pytest.approx(FAKE.mean() - REAL.mean())
    assert losses.wasserstein_g(FAKE).item() == pytest.approx(-FAKE.mean().item())


def test_hinge_d_by_hand_and_differs_from_wasserstein():
    expected = sum(max(0, 1 - r) for r in REAL.tolist()) / 3 + sum(max(0, 1 + f) for f in FAKE.tolist()) / 3
    assert losses.hinge_d(REAL, FAKE).item() == pytest.approx(expected)
    assert losses.hinge_d(REAL, FAKE).item() != pytest.approx(losses.wasserstein_d(REAL, FAKE).item())
    assert losses.hinge_g(FAKE).item() == pytest.approx(-FAKE.mean().item())


def test_least_squares_by_hand():
    expected_d = (
        0.5 * sum((r - 1) ** 2 for r in REAL.tolist()) / 3 + 0.5 * sum(f**2 for f in FAKE.tolist()) / 3
    )
    expected_g = 0.5 * sum((f - 1) ** 2 for f in FAKE.tolist()) / 3
    assert losses.least_squares_d(REAL, FAKE).item() == pytest.approx(expected_d)
    assert losses.least_squares_g(FAKE).item() == pytest.approx(expected_g)


def test_one_sided_label_smoothing_only_moves_the_real_target():
    expected = -sum(0.9 * math.log(sigmoid(r)) + 0.1 * math.log(1 - sigmoid(r)) for r in REAL.tolist()) / 3
    expected -= sum(math.log(1 - sigmoid(f)) for f in FAKE.tolist()) / 3
    assert losses.smoothed_minimax_d(REAL, FAKE, 0.9).item() == pytest.approx(expected, rel=1e-6)
    assert losses.smoothed_minimax_d(REAL, FAKE, 1.0).item() == pytest.approx(
        losses.minimax_d(REAL, FAKE).item()
    )


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_discriminator_loss_prefers_separating_real_from_fake(name):
    d_loss, g_loss = losses.LOSSES[name]
    good = d_loss(torch.full((8,), 0.9), torch.full((8,), -0.9))
    bad = d_loss(torch.full((8,), -0.9), torch.full((8,), 0.9))
    assert good < bad, f"{name}: D's loss should be lower when it scores reals above fakes"
    assert g_loss(torch.full((8,), 0.9)) < g_loss(torch.full((8,), -0.9)), (
        f"{name}: G gains when D scores fakes high"
    )
