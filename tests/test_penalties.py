"""Gradient penalty, R1 and weight clipping against closed forms and the classic bugs."""

import pytest
import torch
from torch import nn

from ganedu.penalties import GradientPenalty, R1Penalty, WeightClipping


class Linear(nn.Module):
    """D(x) = w · x over all of C·H·W: its gradient is w everywhere."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1)


def images(seed, b=4):
    return torch.randn(b, 1, 4, 4, generator=torch.Generator().manual_seed(seed))


def test_gradient_penalty_of_a_zero_gradient_is_lambda():
    D = Linear(torch.zeros(1, 4, 4))
    assert GradientPenalty(10.0)(D, images(0), images(1)).item() == pytest.approx(10.0)


def test_gradient_penalty_of_a_linear_critic_is_closed_form():
    w = torch.full((1, 4, 4), 0.5)  # ‖w‖ over all 16 pixels = 2
    D = Linear(w)
    assert GradientPenalty(10.0)(D, images(0), images(1)).item() == pytest.approx(10.0 * (2.0 - 1.0) ** 2)


def test_zero_centred_gradient_penalty_is_lambda_times_the_squared_norm():
    D = Linear(torch.full((1, 4, 4), 0.5))  # ‖∇D‖ = 2 everywhere
    assert GradientPenalty(10.0, centre=0.0)(D, images(0), images(1)).item() == pytest.approx(10.0 * 2.0**2)
    assert GradientPenalty(10.0, centre=0.0)(Linear(torch.zeros(1, 4, 4)), images(0), images(1)).item() == 0


def test_gradient_penalty_uses_one_alpha_per_sample():
    """For D(x) = ½‖x‖² the gradient at x̂ is x̂ itself: recompute it with α of shape (B,1,1,1)."""

    class Quadratic(nn.Module):
        def forward(self, x):
            return 0.5 * x.pow(2).flatten(1).sum(1)

    real, fake = images(0), images(1)
    got = GradientPenalty(1.0, generator=torch.Generator().manual_seed(3))(Quadratic(), real, fake)
    alpha = torch.rand(4, 1, 1, 1, generator=torch.Generator().manual_seed(3))
    x_hat = alpha * real + (1 - alpha) * fake
    expected = ((x_hat.flatten(1).norm(dim=1) - 1) ** 2).mean()
    assert got.item() == pytest.approx(expected.item(), rel=1e-6)
    per_pixel = torch.rand(4, 1, 4, 4, generator=torch.Generator().manual_seed(3))
    wrong = (((per_pixel * real + (1 - per_pixel) * fake).flatten(1).norm(dim=1) - 1) ** 2).mean()
    assert got.item() != pytest.approx(wrong.item(), rel=1e-3)


def test_gradient_penalty_is_taken_at_interpolates_not_at_reals():
    class Quadratic(nn.Module):
        def forward(self, x):
            return 0.5 * x.pow(2).flatten(1).sum(1)

    real, fake = images(0), images(1)
    at_reals = ((real.flatten(1).norm(dim=1) - 1) ** 2).mean()
    got = GradientPenalty(1.0, generator=torch.Generator().manual_seed(3))(Quadratic(), real, fake)
    assert got.item() != pytest.approx(at_reals.item(), rel=1e-3)


def test_gradient_penalty_backpropagates_to_the_critic_weights():
    D = Linear(torch.full((1, 4, 4), 0.5))
    GradientPenalty(10.0)(D, images(0), images(1)).backward()
    # d/dw of λ(‖w‖ − 1)² = 2λ(‖w‖ − 1) w/‖w‖ = 2·10·1·0.25 per weight
    assert torch.allclose(D.w.grad, torch.full((1, 4, 4), 5.0))


def test_gradient_penalty_runs_in_fp32_under_bf16_autocast():
    torch.manual_seed(0)
    D = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(16, 1))
    critic = lambda x: D(x).squeeze(1)  # noqa: E731
    plain = GradientPenalty(10.0, generator=torch.Generator().manual_seed(5))(critic, images(0), images(1))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = GradientPenalty(10.0, generator=torch.Generator().manual_seed(5))(
            critic, images(0), images(1)
        )
    assert value.dtype == torch.float32
    assert value.item() == pytest.approx(plain.item(), rel=1e-6), "bf16 rounding leaked into the penalty"


def test_a_lazy_gradient_penalty_weighs_itself_by_its_interval():
    """λ·k·E[(‖∇D(x̂)‖ − 1)²] on the k-th step keeps the average penalty λ·E[…] of the paper."""
    D = Linear(torch.full((1, 4, 4), 0.5))  # ‖∇D‖ = 2 everywhere: (2 − 1)² = 1
    assert GradientPenalty(10.0, every=4)(D, images(0), images(1)).item() == pytest.approx(4 * 10.0)
    assert GradientPenalty(10.0).every == 1, "the paper's penalty runs on every critic update"


def test_r1_is_half_gamma_squared_gradient_norm_and_lazy_scaling_keeps_its_average():
    D = Linear(torch.full((1, 4, 4), 0.5))  # ‖∇D‖² = 4
    assert R1Penalty(gamma=10.0)(D, images(0), images(1)).item() == pytest.approx(0.5 * 10 * 4)
    lazy = R1Penalty(gamma=10.0, every=4)
    assert lazy(D, images(0), images(1)).item() == pytest.approx(4 * 0.5 * 10 * 4), (
        "a lazy R1 weighs itself by k"
    )


def test_a_lazy_penalty_runs_on_every_kth_discriminator_update_only():
    from ganedu import losses
    from ganedu.data import ToyBatches
    from ganedu.gan import GAN
    from ganedu.nets import mlp

    ran_at = []

    class Counting(R1Penalty):
        def __call__(self, D, real, fake, labels=None):
            ran_at.append(gan.d_updates)
            return super().__call__(D, real, fake, labels)

    G, D = mlp.Generator(2, (2,), hidden=8), mlp.Discriminator((2,), hidden=8)
    gan = GAN(
        G, D, torch.optim.SGD(G.parameters(), 0.01), torch.optim.SGD(D.parameters(), 0.01),
        losses.minimax_d, losses.nonsaturating_g, nz=2, n_critic=2,
        penalties={"R1": Counting(gamma=1.0, every=4)}, ema_half_life=None,
    )  # fmt: skip
    data = ToyBatches("ring", n=256)
    for _ in range(6):  # 12 discriminator updates
        gan.train_step(data, 8)
    assert ran_at == [0, 4, 8]


def test_weight_clipping_puts_every_weight_in_minus_c_c():
    D = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 1))
    nn.init.normal_(D[0].weight, 0, 1.0)
    WeightClipping(0.01)(D)
    assert all(p.abs().max() <= 0.01 for p in D.parameters())
    assert any((p.abs() == 0.01).any() for p in D.parameters())
