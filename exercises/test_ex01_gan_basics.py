"""Autograder for chapter 1 (exercises/ex01_gan_basics.py)."""

import math

import torch
from conftest import exercise_fixture

ex = exercise_fixture("ex01_gan_basics")


def gaussian(x, mean, std):
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


# ------------------------------------------------------------------ sample_noise


def test_noise_has_shape_batch_by_nz_on_the_device(ex, device):
    z = ex.sample_noise(5, 7, device=device)
    assert tuple(z.shape) == (5, 7), f"expected shape (5, 7) (batch_size, nz), got {tuple(z.shape)}"
    assert z.dtype == torch.float32, f"expected float32, got {z.dtype}"
    assert z.device.type == device.type, f"expected a tensor on {device}, got one on {z.device}"


def test_noise_is_standard_normal(ex, device):
    z = ex.sample_noise(20_000, 8, device=device).double()
    mean, std = z.mean().item(), z.std().item()
    assert abs(mean) < 0.02 and abs(std - 1) < 0.02, (
        f"expected z ~ N(0, I): mean 0 and std 1, got mean {mean:.3f}, std {std:.3f} "
        "(torch.rand is uniform on [0, 1): use torch.randn)"
    )


def test_noise_uses_the_given_generator(ex):
    first = ex.sample_noise(3, 4, generator=torch.Generator().manual_seed(7))
    again = ex.sample_noise(3, 4, generator=torch.Generator().manual_seed(7))
    expected = torch.randn(3, 4, generator=torch.Generator().manual_seed(7))
    assert torch.equal(first, again), "the same generator seed should give the same codes: pass generator= on"
    assert torch.allclose(first, expected), (
        f"expected torch.randn(3, 4, generator=g) at seed 7, i.e. {expected[0].tolist()} in the first row, "
        f"got {first[0].tolist()}"
    )


# ------------------------------------------------------------- discriminator_loss


def test_discriminator_loss_is_2_log_2_when_d_is_undecided(ex):
    loss = ex.discriminator_loss(torch.zeros(4), torch.zeros(6))
    assert loss.dim() == 0, f"expected a scalar (shape ()), got shape {tuple(loss.shape)}"
    assert math.isclose(loss.item(), 2 * math.log(2), rel_tol=1e-5), (
        f"with every logit 0, D(x) = 0.5 and L_D = -log 0.5 - log 0.5 = 2 log 2 = {2 * math.log(2):.5f}, "
        f"got {loss.item():.5f}"
    )


def test_discriminator_loss_matches_hand_computation(ex):
    real, fake = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([-3.0, 0.0, 1.5])
    sig = torch.sigmoid
    expected = (-torch.log(sig(real)).mean() - torch.log(1 - sig(fake)).mean()).item()
    got = ex.discriminator_loss(real, fake).item()
    assert math.isclose(got, expected, rel_tol=1e-5), (
        f"expected -mean(log D(real)) - mean(log(1 - D(fake))) = {expected:.5f}, got {got:.5f} "
        "(check the signs: real samples should be pushed towards D = 1, fakes towards 0)"
    )


def test_discriminator_loss_rewards_a_discriminator_that_is_right(ex):
    right = ex.discriminator_loss(torch.full((8,), 5.0), torch.full((8,), -5.0)).item()
    wrong = ex.discriminator_loss(torch.full((8,), -5.0), torch.full((8,), 5.0)).item()
    assert right < 0.1 < 5 < wrong, (
        f"a D that calls reals real and fakes fake should have a small loss and the reverse a large one; "
        f"got {right:.3f} when right and {wrong:.3f} when wrong (a sign error swaps them)"
    )


def test_discriminator_loss_stays_exact_for_large_logits(ex):
    real = torch.tensor([-200.0, 200.0], requires_grad=True)
    fake = torch.tensor([-200.0, 200.0], requires_grad=True)
    loss = ex.discriminator_loss(real, fake)
    assert torch.isfinite(loss) and math.isclose(loss.item(), 200.0, rel_tol=1e-4), (
        f"real logits (-200, 200) and fake logits (-200, 200): each wrong half costs 200/2, so L_D = 200; "
        f"got {loss.item():.4g}. sigmoid() rounds to exactly 0 or 1 here (BCELoss then clamps the log "
        "at -100): compute the loss from logits with softplus or binary_cross_entropy_with_logits"
    )
    loss.backward()
    assert real.grad[0].item() < -0.49, (
        f"a confidently wrong real logit should get the full gradient -1/B = -0.5, got {real.grad[0].item():.3g}"
    )


# ----------------------------------------------------------------- generator_loss


def test_generator_loss_is_minus_log_d_of_fake(ex):
    fake = torch.tensor([-3.0, 0.0, 1.5])
    expected = (-torch.log(torch.sigmoid(fake))).mean().item()
    got = ex.generator_loss(fake)
    assert got.dim() == 0, f"expected a scalar, got shape {tuple(got.shape)}"
    assert math.isclose(got.item(), expected, rel_tol=1e-5), (
        f"expected the non-saturating loss -mean(log D(G(z))) = {expected:.5f}, got {got.item():.5f} "
        f"(the saturating mean(log(1 - D(G(z)))) would give {torch.log(1 - torch.sigmoid(fake)).mean().item():.5f})"
    )


def test_generator_loss_keeps_its_gradient_when_d_rejects_the_fakes(ex):
    fake = torch.full((4,), -30.0, requires_grad=True)
    loss = ex.generator_loss(fake)
    loss.backward()
    grad = fake.grad[0].item()
    assert math.isclose(loss.item(), 30.0, rel_tol=1e-4), (
        f"expected L_G = softplus(30) ≈ 30, got {loss.item():.4g}"
    )
    assert math.isclose(grad, -0.25, rel_tol=1e-3), (
        f"when D rejects every fake (logit -30) the gradient per logit should be -1/B = -0.25, got {grad:.3g}; "
        "a vanishing gradient here is the saturation the non-saturating loss exists to avoid"
    )


# ---------------------------------------------------------- optimal_discriminator


def test_optimal_discriminator_on_two_gaussians(ex):
    x = torch.linspace(-4, 6, 101, dtype=torch.float64)
    p_data, p_g = gaussian(x, 0.0, 1.0), gaussian(x, 2.0, 1.0)
    expected = torch.sigmoid(-2 * x + 2)  # log p_data - log p_g = -2x + 2 for these two
    got = ex.optimal_discriminator(p_data, p_g)
    assert got.shape == x.shape, f"expected shape {tuple(x.shape)}, got {tuple(got.shape)}"
    worst = (got - expected).abs().max().item()
    assert worst < 1e-9, (
        f"for p_data = N(0, 1) and p_g = N(2, 1), D*(x) = sigmoid(2 - 2x): D*(1) = 0.5, D*(0) = {expected[40]:.4f}; "
        f"got D*(0) = {got[40].item():.4f} (largest error {worst:.3g})"
    )


def test_optimal_discriminator_is_half_where_densities_agree_and_where_both_vanish(ex):
    got = ex.optimal_discriminator(torch.tensor([0.3, 0.0, 0.0, 1.0]), torch.tensor([0.3, 0.0, 2.0, 0.0]))
    expected = torch.tensor([0.5, 0.5, 0.0, 1.0])
    assert torch.allclose(got, expected), f"expected {expected.tolist()}, got {got.tolist()}"


# -------------------------------------------------------------------- jensen_shannon


def test_jensen_shannon_is_zero_for_equal_and_log_2_for_disjoint_densities(ex):
    x = torch.linspace(-10, 10, 2001, dtype=torch.float64)
    dx = (x[1] - x[0]).item()
    p = gaussian(x, -5.0, 0.5)
    same = ex.jensen_shannon(p, p.clone(), dx).item()
    apart = ex.jensen_shannon(p, gaussian(x, 5.0, 0.5), dx).item()
    assert abs(same) < 1e-9, f"expected JS(p || p) = 0, got {same:.3g}"
    assert math.isclose(apart, math.log(2), rel_tol=1e-4), (
        f"expected JS = log 2 = {math.log(2):.5f} for densities that never overlap, got {apart:.5f} "
        "(terms where a density is 0 must count as 0, not NaN)"
    )


def test_jensen_shannon_ties_the_game_value_at_d_star(ex):
    x = torch.linspace(-10, 12, 4001, dtype=torch.float64)
    dx = (x[1] - x[0]).item()
    p_data, p_g = gaussian(x, 0.0, 1.0), gaussian(x, 2.0, 1.0)
    d_star = torch.sigmoid(-2 * x + 2)
    value = ((p_data * torch.log(d_star) + p_g * torch.log(1 - d_star)).sum() * dx).item()
    expected = (value + math.log(4)) / 2  # V(G, D*) = -log 4 + 2 JS(p_data || p_g)
    got = ex.jensen_shannon(p_data, p_g, dx).item()
    assert math.isclose(got, expected, rel_tol=1e-4), (
        f"V(G, D*) = -log 4 + 2 JS gives JS(N(0,1) || N(2,1)) = {expected:.5f}; got {got:.5f}"
    )
