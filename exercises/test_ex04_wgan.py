"""Autograder for chapter 4 (exercises/ex04_wgan.py)."""

import pytest
import torch
from conftest import exercise_fixture
from torch import nn

from ganedu.data import TOY_STD, toy_centers, toy_mixture
from ganedu.metrics.modes import mode_coverage as reference_coverage

ex = exercise_fixture("ex04_wgan")


# ------------------------------------------------------------------ losses


def test_critic_loss_is_fake_mean_minus_real_mean(ex, device):
    real = torch.tensor([1.0, 2.0, 3.0], device=device)
    fake = torch.tensor([-1.0, 0.5], device=device)
    loss = ex.critic_loss(real, fake)
    assert loss.dim() == 0, f"expected a scalar, got shape {tuple(loss.shape)}"
    assert abs(loss.item() - (-0.25 - 2.0)) < 1e-6, (
        f"expected E[f(fake)] - E[f(real)] = -0.25 - 2.0 = -2.25, got {loss.item():.4f}"
        + (
            " (the sign is flipped: the critic minimises fake minus real)"
            if abs(loss.item() - 2.25) < 1e-6
            else ""
        )
    )


def test_critic_loss_takes_raw_scores_not_probabilities(ex):
    # scores far outside [0, 1]: a sigmoid or a log would squash or break them
    real, fake = torch.tensor([50.0, 70.0]), torch.tensor([-40.0, -20.0])
    loss = ex.critic_loss(real, fake)
    assert abs(loss.item() - (-30.0 - 60.0)) < 1e-4, (
        f"expected -90 for scores 50, 70 (real) and -40, -20 (fake), got {loss.item():.4f}: "
        "the critic's output is a score; no sigmoid, log or BCE"
    )


def test_critic_loss_works_for_column_shaped_scores_and_unequal_batches(ex):
    real, fake = torch.randn(8, 1), torch.randn(5)  # 8 real scores as a column, 5 fake ones flat
    try:
        got = ex.critic_loss(real, fake)
        flat = ex.critic_loss(real.flatten(), fake)
    except NotImplementedError:
        raise
    except RuntimeError as e:
        pytest.fail(
            f"8 real and 5 fake scores failed ({e}): take each mean first, do not subtract elementwise"
        )
    assert got.dim() == 0, f"expected a scalar for (8, 1) and (5,) scores, got shape {tuple(got.shape)}"
    assert torch.allclose(got, flat, atol=1e-6), (
        f"scores of shape (8, 1) gave {got.item():.4f} but the same scores flat (8,) gave {flat.item():.4f}: "
        "take each mean first, do not combine the two tensors elementwise"
    )


def test_generator_loss_is_minus_fake_mean_and_has_gradient(ex, device):
    fake = torch.tensor([1.0, 3.0], device=device, requires_grad=True)
    loss = ex.generator_loss(fake)
    assert abs(loss.item() + 2.0) < 1e-6, f"expected -E[f(G(z))] = -2, got {loss.item():.4f}" + (
        " (sign flipped)" if abs(loss.item() - 2) < 1e-6 else ""
    )
    loss.backward()
    assert torch.allclose(fake.grad, torch.tensor([-0.5, -0.5], device=device)), (
        f"expected d(loss)/d(score) = -1/B for each sample, got {fake.grad.tolist()}"
    )


# ------------------------------------------------------------------ clipping


def _critic():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 16), nn.LayerNorm(16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 1)  # most weights well outside ±0.01
    return net


def test_clipping_bounds_every_parameter_including_biases_and_norms(ex):
    net = _critic()
    assert ex.clip_weights_(net, 0.05) is None, "clip_weights_ works in place and returns nothing"
    for name, p in net.named_parameters():
        assert p.abs().max().item() <= 0.05 + 1e-8, f"{name} still has values outside [-0.05, 0.05]"
    values = torch.cat([p.flatten() for p in net.parameters()])
    assert (values.abs() == 0.05).float().mean() > 0.5, (
        "values beyond c must be set to ±c (clamped), not rescaled"
    )
    assert (values.abs() < 0.05).any(), "values inside [-c, c] must be left unchanged"


def test_clipping_is_in_place_on_the_same_parameters_the_optimizer_holds(ex):
    net = _critic()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    ids = [(id(p), p.data_ptr()) for p in net.parameters()]
    net(torch.randn(4, 2)).sum().backward()
    ex.clip_weights_(net, 0.01)
    assert [(id(p), p.data_ptr()) for p in net.parameters()] == ids, (
        "the parameters were replaced by new tensors: clamp the existing ones in place (p.clamp_ under no_grad)"
    )
    assert all(p.grad is not None for p in net.parameters()), "clipping must not touch the gradients"
    assert all(p.grad_fn is None and p.is_leaf for p in net.parameters()), (
        "clipping must not be recorded by autograd"
    )
    opt.step()  # the optimizer still updates the clipped tensors


# ------------------------------------------------------------------ mode coverage


def test_mode_coverage_on_real_data_covers_every_mode(ex):
    for kind, k in [("ring", 8), ("grid", 25)]:
        points, _ = toy_mixture(kind, 5000, seed=3)
        covered, quality = ex.mode_coverage(points, toy_centers(kind), TOY_STD[kind])
        assert covered == k, f"real {kind} samples cover all {k} modes, got {covered}"
        assert 0.98 < quality <= 1.0, f"about 99% of real samples lie within 3σ, got {quality:.3f}"


def test_mode_coverage_of_a_collapsed_and_of_a_blurry_generator(ex):
    centers = toy_centers("ring")
    collapsed = centers[2] + 0.01 * torch.randn(1000, 2)
    covered, quality = ex.mode_coverage(collapsed, centers, 0.02)
    assert (covered, round(quality, 2)) == (1, 1.0), (
        f"all points at one mode: expected (1, 1.0), got ({covered}, {quality:.2f})"
    )
    blurry = 3 * torch.randn(1000, 2)
    covered, quality = ex.mode_coverage(blurry, centers, 0.02)
    assert covered == 0 and quality < 0.01, (
        f"points spread everywhere are not high quality: got ({covered}, {quality:.3f})"
    )


def test_mode_coverage_needs_one_percent_of_all_points(ex):
    centers = toy_centers("ring")
    points = torch.cat([centers[0].expand(990, 2), centers[1].expand(12, 2), centers[2].expand(5, 2)])
    covered, _ = ex.mode_coverage(points, centers, 0.02)
    assert covered == 2, (
        f"mode 1 has 12 of 1007 points (1.2%) and mode 2 has 5 (0.5%): expected 2 modes covered, got {covered}"
    )


def test_mode_coverage_matches_ganedu(ex):
    points = toy_centers("grid")[torch.randint(25, (3000,))] + 0.08 * torch.randn(3000, 2)
    covered, quality = ex.mode_coverage(points, toy_centers("grid"), TOY_STD["grid"])
    ref = reference_coverage(points, toy_centers("grid"), TOY_STD["grid"])
    assert covered == ref.covered and abs(quality - ref.high_quality) < 1e-6, (
        f"expected {ref.covered} modes and {ref.high_quality:.3f} high quality, got {covered} and {quality:.3f}"
    )
