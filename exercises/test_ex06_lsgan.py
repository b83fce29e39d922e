"""Autograder for chapter 6 (exercises/ex06_lsgan.py)."""

import pytest
import torch
from conftest import exercise_fixture
from torch import nn

from ganedu import losses

ex = exercise_fixture("ex06_lsgan")


# ------------------------------------------------------------------ least squares


def test_ls_discriminator_loss_closed_form(ex, device):
    real, fake = torch.tensor([1.0, 3.0], device=device), torch.tensor([0.0, 2.0], device=device)
    got = ex.ls_discriminator_loss(real, fake).item()
    # ½·mean((1-1)², (3-1)²) + ½·mean(0², 2²) = ½·2 + ½·2
    assert abs(got - 2.0) < 1e-6, (
        f"expected ½E[(D(x)-1)²] + ½E[(D(G(z))-0)²] = 2.0, got {got:.4f}"
        + (" (missing the factors ½)" if abs(got - 4.0) < 1e-6 else "")
        + (" (targets swapped: reals go to b = 1, fakes to a = 0)" if abs(got - 3.0) < 1e-6 else "")
    )


def test_ls_losses_take_the_targets_a_b_c(ex):
    real, fake = torch.randn(16), torch.randn(16)
    for a, b, c in [(-1.0, 1.0, 0.0), (0.0, 1.0, 1.0)]:
        assert torch.allclose(
            ex.ls_discriminator_loss(real, fake, a=a, b=b), losses.least_squares_d(real, fake, a=a, b=b)
        ), f"wrong result for a = {a}, b = {b}: a is the target for fakes, b for reals"
        assert torch.allclose(ex.ls_generator_loss(fake, c=c), losses.least_squares_g(fake, c=c)), (
            f"wrong generator loss for c = {c}: ½E[(D(G(z)) - c)²]"
        )


def test_ls_losses_do_not_broadcast_column_and_flat_outputs(ex):
    real, fake = torch.randn(8, 1), torch.randn(5)  # 8 real outputs as a column, 5 fake ones flat
    try:
        got = ex.ls_discriminator_loss(real, fake)
        flat = ex.ls_discriminator_loss(real.flatten(), fake)
    except NotImplementedError:
        raise
    except RuntimeError as e:
        pytest.fail(
            f"8 real and 5 fake outputs failed ({e}): compute each mean separately, "
            "never combine the real and fake tensors elementwise"
        )
    assert got.dim() == 0, f"expected a scalar for (8, 1) and (5,) outputs, got shape {tuple(got.shape)}"
    assert torch.allclose(got, flat, atol=1e-6), (
        f"outputs of shape (8, 1) gave {got.item():.4f} but the same outputs flat (8,) gave {flat.item():.4f}: "
        "compute each mean separately, never combine the two tensors elementwise"
    )
    g_column, g_flat = ex.ls_generator_loss(fake[:, None]), ex.ls_generator_loss(fake)
    assert g_column.dim() == 0 and torch.allclose(g_column, g_flat, atol=1e-6), (
        "the generator loss of (B, 1) outputs must be the same scalar as for (B,) outputs"
    )


def test_ls_generator_gradient_does_not_vanish_far_from_the_boundary(ex):
    fake = torch.tensor([-20.0], requires_grad=True)  # D is very sure this fake is fake
    ex.ls_generator_loss(fake).backward()
    assert abs(fake.grad.item() + 21.0) < 1e-4, (
        f"d/dD ½(D - 1)² at D = -20 is D - 1 = -21, got {fake.grad.item():.4f}: no sigmoid on D's output"
    )


# ------------------------------------------------------------------ spectral normalisation


def test_power_iteration_finds_the_largest_singular_value(ex, device):
    torch.manual_seed(1)
    for weight in [nn.Linear(20, 30).weight, nn.Conv2d(4, 6, 3).weight]:
        weight = weight.detach().to(device)
        sigma, u = ex.spectral_norm_power_iteration(weight, n_iters=100)
        true = torch.linalg.svdvals(weight.reshape(weight.shape[0], -1))[0]
        assert torch.allclose(sigma, true, rtol=1e-3), (
            f"for a weight of shape {tuple(weight.shape)}: expected σ = {true.item():.5f} "
            f"(torch.linalg.svdvals of the (out, -1) matrix), got {float(sigma):.5f}"
        )
        assert tuple(u.shape) == (weight.shape[0],), (
            f"u has one entry per output channel, got shape {tuple(u.shape)}"
        )
        assert abs(u.norm().item() - 1) < 1e-4, "u must be normalised"


def test_power_iteration_improves_from_a_persistent_u(ex):
    torch.manual_seed(2)
    W = torch.randn(40, 50)
    true = torch.linalg.svdvals(W)[0]
    sigma, u = ex.spectral_norm_power_iteration(W, n_iters=1)
    errors = [abs(float(sigma) - float(true))]
    for _ in range(30):
        sigma, u = ex.spectral_norm_power_iteration(W, u=u, n_iters=1)
        errors.append(abs(float(sigma) - float(true)))
    assert errors[-1] < errors[0] and errors[-1] < 1e-2 * float(true), (
        "one iteration per call, continuing from the returned u, should converge to σ: "
        f"errors went {errors[0]:.4f} -> {errors[-1]:.4f}"
    )
    assert float(sigma) <= float(true) * (1 + 1e-4), "uᵀWv with unit u, v can never exceed the true σ"


def test_power_iteration_keeps_the_vectors_out_of_autograd(ex):
    W = torch.randn(10, 12, requires_grad=True)
    sigma, u = ex.spectral_norm_power_iteration(W, n_iters=50)
    assert not u.requires_grad, (
        "the returned u must be detached: it is a running estimate, not part of the graph"
    )
    sigma.backward()
    U, S, Vh = torch.linalg.svd(W.detach())
    expected = torch.outer(U[:, 0], Vh[0])  # dσ/dW = u vᵀ when u, v are held fixed
    assert torch.allclose(W.grad.abs(), expected.abs(), atol=1e-3), (
        "the gradient of σ = uᵀWv with respect to W should be u vᵀ: compute only the final product with gradient"
    )


def test_spectral_normalize_gives_spectral_norm_one(ex):
    torch.manual_seed(3)
    for weight in [torch.randn(16, 8) * 5, torch.randn(8, 3, 3, 3)]:
        normalised = ex.spectral_normalize(weight)
        assert normalised.shape == weight.shape, "spectral_normalize keeps the weight's shape"
        top = torch.linalg.svdvals(normalised.reshape(weight.shape[0], -1))[0].item()
        assert abs(top - 1) < 5e-3, f"the largest singular value after normalising should be 1, got {top:.4f}"
