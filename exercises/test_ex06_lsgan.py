"""Autograder for chapter 6 (exercises/ex06_lsgan.py)."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from conftest import CountingSGD, exercise_fixture, max_gap
from torch import nn

from ganedu import losses

ex = exercise_fixture("ex06_lsgan")

# Points per test (each case of a parametrised test earns them); every other test earns 1.
POINTS = {
    "test_train_step_keeps_d_loss_out_of_the_generator": 2,
}


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


# ------------------------------------------------------------------ relativistic pairing


def test_relativistic_losses_pair_each_real_with_its_own_fake(ex):
    real = torch.tensor([3.0, -1.0, 0.5, 2.0])
    fake = torch.tensor([1.0, 2.0, -4.0, 0.0])
    got_d, got_g = ex.relativistic_d_loss(real, fake), ex.relativistic_g_loss(real, fake)
    want_d, want_g = F.softplus(fake - real).mean(), F.softplus(real - fake).mean()
    average = F.softplus(-(real - fake.mean())).mean()
    assert got_d.dim() == 0 and torch.isclose(got_d, want_d, rtol=1e-5), (
        f"expected L_D = mean softplus(-(D(x_i) - D(G(z_i)))) = {want_d.item():.5f}, got {got_d.item():.5f}"
        + (
            ": pair sample i with fake i, not with the mean of the fakes"
            if torch.isclose(got_d, average)
            else ""
        )
    )
    assert got_g.dim() == 0 and torch.isclose(got_g, want_g, rtol=1e-5), (
        f"expected L_G = mean softplus(-(D(G(z_i)) - D(x_i))) = {want_g.item():.5f}, got {got_g.item():.5f}"
        + (": that is D's loss, G's swaps real and fake" if torch.isclose(got_g, want_d) else "")
    )


def test_relativistic_losses_push_the_pairs_the_right_way(ex):
    real = torch.zeros(3, requires_grad=True)
    fake = torch.zeros(3, requires_grad=True)
    ex.relativistic_d_loss(real, fake).backward()
    assert (real.grad < 0).all() and (fake.grad > 0).all(), (
        "minimising L_D must raise D(x) and lower D(G(z)): got the gradients "
        f"{real.grad.tolist()} (real) and {fake.grad.tolist()} (fake)"
    )
    real.grad = fake.grad = None
    ex.relativistic_g_loss(real, fake).backward()
    assert fake.grad is not None and (fake.grad < 0).all(), (
        f"minimising L_G must raise D(G(z)) relative to D(x), got d L_G / d fake = {fake.grad}"
    )
    assert real.grad is not None and (real.grad > 0).all(), "L_G depends on the real partner D(x_i) too"


def test_relativistic_losses_stay_finite_far_below_minus_88(ex):
    real = torch.tensor([-150.0, 0.0], requires_grad=True)
    fake = torch.tensor([150.0, 0.0], requires_grad=True)
    loss = ex.relativistic_d_loss(real, fake)
    want = (300.0 + math.log(2)) / 2
    assert torch.isfinite(loss) and abs(loss.item() - want) < 1e-3, (
        f"for D(x) - D(G(z)) = -300 the loss is softplus(300) = 300: expected {want:.3f}, got {loss.item()} "
        "(log(sigmoid(t)) is -inf once sigmoid rounds to 0; softplus(-t) stays exact)"
    )
    loss.backward()
    assert torch.isfinite(real.grad).all() and abs(real.grad[0].item() + 0.5) < 1e-4, (
        f"the gradient must stay -1/B there (D is confidently wrong), got {real.grad.tolist()}"
    )


# ------------------------------------------------------------------ a training step for any loss pair


def least_squares_pair():
    return (
        lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f**2).mean(),
        lambda r, f: 0.5 * ((f - 1) ** 2).mean(),
    )


def hinge_pair():
    return (lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(), lambda r, f: -f.mean())


def relativistic_pair():
    return (lambda r, f: F.softplus(f - r).mean(), lambda r, f: F.softplus(r - f).mean())


PAIRS = {"least-squares": least_squares_pair, "hinge": hinge_pair, "relativistic": relativistic_pair}


def tiny_pair():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 6), nn.Tanh())
    D = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
    return G, D


def reference_step(G, D, opt_g, opt_d, real, z, d_loss, g_loss):
    fake = G(z)
    loss_d = d_loss(D(real), D(fake.detach()))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = g_loss(D(real).detach(), D(fake))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}


def run_steps(step, pair, calls=2, lr=0.3, on_d_step=None):
    G, D = tiny_pair()
    opt_g = CountingSGD(G.parameters(), lr)
    opt_d = CountingSGD(D.parameters(), lr, on_step=on_d_step(G) if on_d_step else None)
    d_loss, g_loss = PAIRS[pair]()
    draws = torch.Generator().manual_seed(1)
    logs, weights = [], []
    for _ in range(calls):
        real, z = torch.randn(8, 6, generator=draws) * 2, torch.randn(8, 4, generator=draws)
        logs.append(step(G, D, opt_g, opt_d, real, z, d_loss, g_loss))
        weights.append((copy.deepcopy(G.state_dict()), copy.deepcopy(D.state_dict())))
    return {"opt_g": opt_g, "opt_d": opt_d, "logs": logs, "weights": weights}


def test_train_step_returns_python_floats_and_steps_each_optimizer_once(ex):
    run = run_steps(ex.train_step, "least-squares", calls=2)
    logs = run["logs"][0]
    assert set(logs) == {"loss_d", "loss_g"}, f"expected the keys loss_d and loss_g, got {sorted(logs)}"
    bad = {k: type(v).__name__ for k, v in logs.items() if type(v) is not float}
    assert not bad, f"the losses must be Python floats (use .item()), got {bad}"
    assert (run["opt_d"].steps, run["opt_g"].steps) == (2, 2), (
        f"two calls should step each optimizer twice, got opt_d {run['opt_d'].steps}, opt_g {run['opt_g'].steps}"
    )


def test_train_step_keeps_d_loss_out_of_the_generator(ex):
    leaks = []

    def check(G):
        return lambda: leaks.extend(
            p.grad is not None and p.grad.abs().sum().item() > 0 for p in G.parameters()
        )

    run_steps(ex.train_step, "least-squares", calls=1, on_d_step=check)
    assert leaks and not any(leaks), (
        "G's weights had gradients when opt_d stepped: D's loss reached the generator (detach the fakes for D)"
    )


@pytest.mark.parametrize("pair", list(PAIRS))
@pytest.mark.parametrize("call", [0, 1])
def test_train_step_matches_the_reference_for_each_loss_pair(ex, pair, call):
    got, want = run_steps(ex.train_step, pair), run_steps(reference_step, pair)
    for name, index in (("D", 1), ("G", 0)):
        gap = max_gap(got["weights"][call][index], want["weights"][call][index])
        assert gap < 1e-5, (
            f"{pair} losses, call {call + 1}: {name}'s weights differ from the reference by up to {gap:.3g}. "
            "D step: d_loss(D(x), D(G(z))) with the fakes detached, from zeroed gradients; G step: "
            "g_loss(D(x), D(G(z))) with both outputs from the updated D, from zeroed gradients"
            + (" (call 1 matched: are gradients zeroed before each backward?)" if call == 1 else "")
        )
    for key in ("loss_d", "loss_g"):
        assert abs(got["logs"][call][key] - want["logs"][call][key]) < 1e-5, (
            f"{pair} losses, call {call + 1}: expected {key} = {want['logs'][call][key]:.5f}, "
            f"got {got['logs'][call][key]:.5f}"
        )


# ------------------------------------------------------------------ what LSGAN minimises

P_DATA = torch.tensor([0.3, 0.0, 0.2, 0.4, 0.0, 0.1], dtype=torch.float64)
P_G = torch.tensor([0.1, 0.4, 0.0, 0.3, 0.0, 0.2], dtype=torch.float64)  # index 4: both densities are 0


def test_optimal_discriminator_is_the_weighted_average_of_the_targets(ex):
    got = ex.optimal_ls_discriminator(P_DATA, P_G, a=-1.0, b=1.0)
    assert got.shape == P_DATA.shape, f"expected one value per point, shape (6,), got {tuple(got.shape)}"
    assert torch.isfinite(got).all(), (
        f"D* must be finite everywhere, got {got.tolist()}: where p_d = p_g = 0 return (a + b) / 2 instead of 0/0"
    )
    keep = (P_DATA + P_G) > 0
    want = (P_DATA - P_G) / (P_DATA + P_G)
    assert torch.allclose(got[keep], want[keep]), (
        f"D* = (b p_d + a p_g) / (p_d + p_g) with a = -1, b = 1: expected {want[keep].tolist()}, got {got[keep].tolist()}"
    )
    assert torch.allclose(got[~keep], torch.zeros(1, dtype=torch.float64)), (
        "where both densities are 0, D* = (a + b)/2"
    )


def test_pearson_chi2_is_exact_and_never_nan(ex):
    p = torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64)
    q = torch.tensor([0.25, 0.75, 0.0], dtype=torch.float64)
    got = ex.pearson_chi2(p, q)
    want = 0.25**2 / 0.25 + 0.25**2 / 0.75
    assert got.dim() == 0 and abs(got.item() - want) < 1e-12, (
        f"Σ (p - q)² / q over the points with q > 0 is {want:.6f}, got {got.item()} "
        "(a point with p = q = 0 adds 0, not 0/0 = NaN; divide by q, not p)"
    )
    assert ex.pearson_chi2(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 0.0])).item() == math.inf, (
        "mass of p where q = 0 makes the divergence infinite"
    )


@pytest.mark.parametrize(("a", "b", "c"), [(-1.0, 1.0, 0.0), (0.0, 2.0, 1.0)])
def test_lsgan_with_b_minus_c_1_and_b_minus_a_2_is_pearson_chi2(ex, a, b, c):
    value = ex.lsgan_generator_value(P_DATA, P_G, a, b, c)
    chi2 = ex.pearson_chi2(2 * P_G, P_DATA + P_G)
    d = (b * P_DATA + a * P_G) / (P_DATA + P_G).clamp_min(1e-300)
    want = 0.5 * (P_DATA * (d - c) ** 2).sum() + 0.5 * (P_G * (d - c) ** 2).sum()
    assert value.dim() == 0 and torch.isfinite(value), f"C(G) must be a finite scalar, got {value}"
    assert abs(value.item() - want.item()) < 1e-9, (
        f"C(G) = ½E_pd[(D* - c)²] + ½E_pg[(D* - c)²] (expectations: sums weighted by p) = {want.item():.6f}, "
        f"got {value.item():.6f}"
    )
    assert abs(2 * value.item() - chi2.item()) < 1e-9, (
        f"with b - c = 1 and b - a = 2, 2·C(G) should equal χ²(2p_g ‖ p_d + p_g) = {chi2.item():.6f}, "
        f"got 2·C(G) = {2 * value.item():.6f}"
    )


def test_lsgan_value_vanishes_when_the_generator_matches_the_data(ex):
    value = ex.lsgan_generator_value(P_DATA, P_DATA.clone(), -1.0, 1.0, 0.0)
    assert abs(value.item()) < 1e-12, f"p_g = p_d is the minimum, C(G) = 0 there, got {value.item()}"
    other = ex.lsgan_generator_value(P_DATA, P_G, 0.0, 1.0, 1.0)
    d = P_DATA / (P_DATA + P_G).clamp_min(1e-300)
    want = 0.5 * (P_DATA * (d - 1) ** 2).sum() + 0.5 * (P_G * (d - 1) ** 2).sum()
    assert abs(other.item() - want.item()) < 1e-9, (
        f"with a = 0, b = c = 1: expected C(G) = {want.item():.6f}, got {other.item():.6f}"
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


def test_power_iteration_gradient_is_u_v_transpose_after_one_iteration(ex):
    torch.manual_seed(4)
    W = torch.randn(6, 5, requires_grad=True)
    u0 = F.normalize(torch.randn(6), dim=0)
    sigma, u = ex.spectral_norm_power_iteration(W, u=u0, n_iters=1)
    sigma.backward()
    grad = W.grad
    v = u @ grad  # with grad = u vᵀ and ‖u‖ = 1, this is v
    assert torch.allclose(grad, torch.outer(u, v), atol=1e-5) and abs(v.norm().item() - 1) < 1e-4, (
        "far from convergence the gradient of σ must still be u vᵀ with the returned u and a unit v: "
        "run the iteration without autograd (torch.no_grad()) and differentiate only σ = uᵀ W v"
    )
    assert abs((W.detach() * grad).sum().item() - sigma.item()) < 1e-4, "σ must be uᵀ W v with those u and v"


def test_power_iteration_works_in_float64(ex):
    W = torch.randn(7, 3, 2, 2, dtype=torch.float64)
    sigma, u = ex.spectral_norm_power_iteration(W, n_iters=200)
    true = torch.linalg.svdvals(W.reshape(7, -1))[0]
    assert sigma.dtype == torch.float64 and u.dtype == torch.float64, (
        f"float64 weights need float64 vectors (draw the start u in the weight's dtype), got {sigma.dtype}, {u.dtype}"
    )
    assert abs(sigma.item() - true.item()) < 1e-6 * true.item(), (
        f"expected σ = {true.item():.8f}, got {sigma.item():.8f}"
    )


def test_spectral_normalize_passes_the_gradient_through_sigma(ex):
    torch.manual_seed(5)
    W = torch.randn(5, 4, requires_grad=True)
    R = torch.randn(5, 4)
    (ex.spectral_normalize(W, n_iters=200) * R).sum().backward()
    W_ref = W.detach().clone().requires_grad_(True)
    (W_ref / torch.linalg.matrix_norm(W_ref, ord=2) * R).sum().backward()
    assert W.grad is not None and torch.allclose(W.grad, W_ref.grad, atol=1e-4), (
        "the gradient of W / σ(W) must include σ's dependence on W (d/dW (W/σ) = 1/σ - W uvᵀ/σ²): "
        "do not detach σ"
    )


def test_spectral_normalize_gives_spectral_norm_one(ex):
    torch.manual_seed(3)
    for weight in [torch.randn(16, 8) * 5, torch.randn(8, 3, 3, 3)]:
        normalised = ex.spectral_normalize(weight)
        assert normalised.shape == weight.shape, "spectral_normalize keeps the weight's shape"
        top = torch.linalg.svdvals(normalised.reshape(weight.shape[0], -1))[0].item()
        assert abs(top - 1) < 5e-3, f"the largest singular value after normalising should be 1, got {top:.4f}"
