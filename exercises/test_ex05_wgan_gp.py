"""Autograder for chapter 5 (exercises/ex05_wgan_gp.py)."""

import pytest
import torch
from conftest import exercise_fixture
from torch import nn

ex = exercise_fixture("ex05_wgan_gp")


class Quadratic(nn.Module):
    """f(x) = ½ Σ w·x² per sample, so ∇ₓf = w·x: a gradient that depends on where it is taken."""

    def __init__(self, w: float = 1.0):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))
        self.inputs = []

    def forward(self, x):
        self.inputs.append(x.detach().clone())
        return 0.5 * (self.w * x.square()).flatten(1).sum(1)


class Linear(nn.Module):
    """f(x) = <v, x>: the gradient is v everywhere."""

    def __init__(self, v):
        super().__init__()
        self.v = nn.Parameter(v)

    def forward(self, x):
        return (x * self.v).flatten(1).sum(1)


def expected_penalty(real, fake, alpha, w=1.0, weight=10.0):
    x_hat = alpha * real + (1 - alpha) * fake
    norms = (w * x_hat).flatten(1).norm(dim=1)
    return weight * ((norms - 1) ** 2).mean()


# ------------------------------------------------------------------ alpha and interpolates


def test_alpha_is_one_value_per_sample(ex, device):
    images = torch.randn(6, 3, 4, 4, device=device)
    alpha = ex.random_alpha(images)
    assert tuple(alpha.shape) == (6, 1, 1, 1), (
        f"expected alpha of shape (6, 1, 1, 1), one value per sample, got {tuple(alpha.shape)}"
        + (
            ": a per-pixel alpha leaves the segment between a real and a fake image"
            if alpha.shape == images.shape
            else ""
        )
    )
    assert tuple(ex.random_alpha(torch.randn(5, 2)).shape) == (5, 1), "for points (B, 2) alpha is (B, 1)"
    assert alpha.device.type == device.type, f"alpha must be on {device}"


def test_alpha_is_uniform_and_uses_the_generator(ex):
    big = ex.random_alpha(torch.zeros(20_000, 1, 1, 1)).flatten()
    assert 0 <= big.min() and big.max() < 1 and abs(big.mean().item() - 0.5) < 0.01, (
        "alpha ~ U[0, 1): use torch.rand"
    )
    got = ex.random_alpha(torch.zeros(4, 1, 2, 2), generator=torch.Generator().manual_seed(3))
    assert torch.equal(
        got.flatten(), torch.rand(4, 1, 1, 1, generator=torch.Generator().manual_seed(3)).flatten()
    ), "expected torch.rand((B, 1, 1, 1), generator=generator): pass the generator on"


def test_interpolates_lie_between_real_and_fake_and_need_a_gradient(ex):
    real, alpha = torch.ones(3, 1, 2, 2), torch.tensor([0.0, 0.25, 1.0]).reshape(3, 1, 1, 1)
    G = nn.Linear(1, 1)
    fake = G(torch.zeros(3, 1, 2, 2, 1)).squeeze(-1) * 0 - 1  # -1 everywhere, attached to G's graph
    x_hat = ex.interpolates(real, fake, alpha)
    assert torch.allclose(x_hat[:, 0, 0, 0], torch.tensor([-1.0, -0.5, 1.0])), (
        f"x̂ = αx + (1-α)x̃ with α = 0, 0.25, 1 gives -1, -0.5, 1; got {x_hat[:, 0, 0, 0].tolist()}"
    )
    assert x_hat.requires_grad and x_hat.is_leaf, (
        "x̂ must be a fresh leaf with requires_grad=True: detach real and fake first, then requires_grad_()"
    )


# ------------------------------------------------------------------ the penalty


def test_penalty_matches_the_closed_form_with_the_norm_over_c_h_w(ex, device):
    real, fake = torch.randn(4, 2, 3, 3, device=device), torch.randn(4, 2, 3, 3, device=device)
    alpha = torch.rand(4, 1, 1, 1, device=device)
    got = ex.gradient_penalty(Quadratic().to(device), real, fake, alpha=alpha)
    want = expected_penalty(real, fake, alpha)
    x_hat = alpha * real + (1 - alpha) * fake
    wrong_dim = 10 * ((x_hat.norm(dim=1) - 1) ** 2).mean()
    whole_batch = 10 * (x_hat.norm() - 1) ** 2
    assert got.dim() == 0, f"expected a scalar, got shape {tuple(got.shape)}"
    assert torch.allclose(got, want, rtol=1e-4), (
        f"expected λ·mean((‖∇f(x̂)‖ - 1)²) = {want.item():.4f}, got {got.item():.4f}"
        + (
            ": the norm must be over all of C·H·W per sample (flatten(1)), not over one axis"
            if torch.allclose(got, wrong_dim, rtol=1e-4)
            else ""
        )
        + (
            ": one norm per sample, not one over the whole batch"
            if torch.allclose(got, whole_batch, rtol=1e-4)
            else ""
        )
    )


def test_penalty_is_taken_at_the_interpolates_not_at_the_reals(ex):
    real, fake = torch.full((3, 1, 2, 2), 2.0), torch.zeros(3, 1, 2, 2)
    alpha = torch.tensor([0.0, 0.5, 1.0]).reshape(3, 1, 1, 1)
    critic = Quadratic()
    ex.gradient_penalty(critic, real, fake, alpha=alpha)
    assert critic.inputs, "the critic was never called"
    seen = critic.inputs[-1]
    assert torch.allclose(seen[:, 0, 0, 0], torch.tensor([0.0, 1.0, 2.0])), (
        f"the critic must be evaluated at x̂ = αx + (1-α)x̃ (here 0, 1, 2), got inputs {seen[:, 0, 0, 0].tolist()}"
        + (" — those are the real samples" if torch.allclose(seen, real) else "")
    )


def test_penalty_draws_one_alpha_per_sample_when_none_is_given(ex):
    fake = torch.randn(64, 3, 4, 4)
    real = fake + (1 + torch.rand(64, 3, 4, 4)) * torch.randn(64, 3, 4, 4).sign()  # |real - fake| >= 1
    critic = Quadratic()
    ex.gradient_penalty(critic, real, fake)
    ratio = (critic.inputs[-1] - fake) / (real - fake)  # = α, elementwise
    spread = (ratio.flatten(1).max(1).values - ratio.flatten(1).min(1).values).max().item()
    assert spread < 1e-4, (
        "each x̂ must use one α for all its pixels (per-sample α, shape (B, 1, 1, 1)), not one per pixel"
    )
    assert ratio.flatten(1)[:, 0].std() > 0.1, "different samples should get different α"


def test_penalty_is_zero_for_a_1_lipschitz_linear_critic_and_lambda_times_4_at_norm_3(ex):
    real, fake = torch.randn(5, 1, 3, 3), torch.randn(5, 1, 3, 3)
    v = torch.randn(1, 3, 3)
    for scale, want in [(1.0, 0.0), (3.0, 40.0)]:
        got = ex.gradient_penalty(Linear(v / v.norm() * scale), real, fake).item()
        assert abs(got - want) < 1e-3, (
            f"a linear critic with ‖∇f‖ = {scale:g} gives λ(‖∇f‖ - 1)² = {want:g}, got {got:.4f}"
        )


def test_penalty_gradient_reaches_the_critic_weights(ex):
    real, fake = torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3)
    alpha = torch.rand(4, 1, 1, 1)
    critic = Quadratic(w=1.7)
    penalty = ex.gradient_penalty(critic, real, fake, alpha=alpha)  # outside the try: a stub's error stays
    if penalty.grad_fn is None:
        pytest.fail(
            "the penalty has no graph back to the critic's weights, so backward() cannot train the critic: "
            "call torch.autograd.grad(..., create_graph=True)"
        )
    try:
        penalty.backward()
    except RuntimeError as e:
        pytest.fail(
            f"backward through the penalty failed ({e}): call torch.autograd.grad with create_graph=True"
        )
    w = torch.tensor(1.7, requires_grad=True)
    x_hat = alpha * real + (1 - alpha) * fake
    expected = 10 * (((w * x_hat).flatten(1).norm(dim=1) - 1) ** 2).mean()
    expected.backward()
    assert critic.w.grad is not None and critic.w.grad.abs() > 0, (
        "the critic's weight got no gradient from the penalty: keep the graph of the input gradient "
        "(torch.autograd.grad(..., create_graph=True)) so the penalty trains the critic"
    )
    assert torch.allclose(critic.w.grad, w.grad, rtol=1e-4), (
        f"d(penalty)/dw should be {w.grad.item():.4f}, got {critic.w.grad.item():.4f}: "
        "the penalty's value or graph is off (see the closed-form test above)"
    )
