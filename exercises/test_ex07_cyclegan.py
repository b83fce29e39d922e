"""Autograder for chapter 7 (exercises/ex07_cyclegan.py)."""

import pytest
import torch
from conftest import exercise_fixture

ex = exercise_fixture("ex07_cyclegan")


# ------------------------------------------------------------ cycle and identity losses


def test_cycle_loss_is_mean_absolute_error(ex, device):
    real = torch.tensor([[0.0, 1.0], [-1.0, 0.5]], device=device).reshape(1, 1, 2, 2)
    rec = torch.tensor([[0.5, 1.0], [0.0, -0.5]], device=device).reshape(1, 1, 2, 2)
    loss = ex.cycle_consistency_loss(real, rec)
    assert loss.dim() == 0, f"expected a scalar, got shape {tuple(loss.shape)}"
    assert torch.isclose(loss, torch.tensor(0.625, device=device)), (
        f"expected mean |F(G(a)) - a| = (0.5 + 0 + 1 + 1) / 4 = 0.625, got {float(loss):.4f} "
        "(an L1 loss: absolute values, not squares, averaged over every pixel)"
    )


def test_cycle_loss_is_zero_for_a_perfect_round_trip_and_has_gradient(ex):
    a = torch.randn(3, 1, 8, 8)
    assert float(ex.cycle_consistency_loss(a, a.clone())) == 0.0, "a perfect reconstruction costs nothing"
    rec = torch.randn(3, 1, 8, 8, requires_grad=True)
    ex.cycle_consistency_loss(a, rec).backward()
    assert rec.grad is not None and rec.grad.abs().sum() > 0, "the gradient must reach the reconstruction"


def test_identity_loss_is_mean_absolute_error(ex):
    b = torch.zeros(2, 1, 4, 4)
    same = torch.full((2, 1, 4, 4), -0.25)
    loss = ex.identity_loss(b, same)
    assert torch.isclose(loss, torch.tensor(0.25)), f"expected mean |G(b) - b| = 0.25, got {float(loss):.4f}"


def test_generator_objective_weighs_identity_as_a_fraction_of_lambda(ex):
    zeros = torch.zeros(1, 1, 2, 2)
    ones = torch.ones(1, 1, 2, 2)
    adv = torch.tensor(0.0)
    cycle_only = ex.generator_objective(adv, adv, zeros, ones, zeros, zeros, zeros, zeros)
    assert torch.isclose(cycle_only, torch.tensor(10.0)), (
        f"a cycle error of 1 per pixel in one direction should cost λ·1 = 10, got {float(cycle_only):.3f}"
    )
    identity_only = ex.generator_objective(adv, adv, zeros, zeros, zeros, zeros, ones, zeros)
    assert torch.isclose(identity_only, torch.tensor(5.0)), (
        "an identity error of 1 per pixel should cost lambda_identity·λ·1 = 0.5·10 = 5, got "
        f"{float(identity_only):.3f} (lambda_identity is a fraction of λ)"
    )
    adv_only = ex.generator_objective(
        torch.tensor(0.25), torch.tensor(0.5), zeros, zeros, zeros, zeros, zeros, zeros
    )
    assert torch.isclose(adv_only, torch.tensor(0.75)), (
        f"the two adversarial losses enter with weight 1: expected 0.75, got {float(adv_only):.3f}"
    )


def test_generator_objective_counts_both_directions(ex):
    zeros, ones = torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 2)
    adv = torch.tensor(0.0)
    both = ex.generator_objective(adv, adv, zeros, ones, zeros, ones, ones, ones, 1.0, 1.0)
    assert torch.isclose(both, torch.tensor(4.0)), (
        f"with λ = 1 and lambda_identity = 1, two cycle errors and two identity errors of 1 make 4, got {float(both):.3f}"
    )


# ---------------------------------------------------------------- the image pool


def test_pool_returns_and_stores_images_until_full(ex):
    pool = ex.ImagePool(50)
    batch = torch.randn(30, 1, 4, 4)
    out = pool.query(batch)
    assert torch.equal(out, batch), "until the pool is full, query must return the new images themselves"
    assert len(pool.images) == 30, f"the pool should now hold 30 images, holds {len(pool.images)}"
    out = pool.query(torch.randn(30, 1, 4, 4))
    assert out.shape == (30, 1, 4, 4), (
        f"query must return a batch of the input's shape, got {tuple(out.shape)}"
    )
    assert len(pool.images) == 50, f"the pool must stop growing at size 50, holds {len(pool.images)}"


def test_pool_never_exceeds_its_size(ex):
    pool = ex.ImagePool(50)
    for _ in range(10):
        pool.query(torch.randn(16, 1, 4, 4))
        assert len(pool.images) <= 50, f"the pool holds {len(pool.images)} images, more than its size 50"
    assert len(pool.images) == 50


def test_full_pool_swaps_about_half_of_the_images(ex):
    pool = ex.ImagePool(50)
    pool.query(torch.randn(50, 1, 2, 2))
    old = torch.stack(list(pool.images)).clone()
    new = torch.randn(2000, 1, 2, 2) + 100.0  # new fakes are easy to tell apart from stored ones
    out = pool.query(new)
    swapped = (out != new).flatten(1).any(dim=1)
    share = swapped.float().mean().item()
    assert 0.4 < share < 0.6, (
        f"once full, each image should be swapped for a stored one with probability 0.5; {share:.0%} were"
    )
    first_old = out[: len(old)][(out[: len(old)].mean(dim=(1, 2, 3)) < 50)]
    assert len(first_old) > 0 and all(any(torch.equal(img, o) for o in old) for img in first_old), (
        "an image returned from the pool must be one of the stored images"
    )
    assert len(pool.images) == 50 and all(img.mean() > 50 for img in pool.images), (
        "after 1000 or so swaps every slot should hold one of the new images: store the new image "
        "in the place of the one you return"
    )


def test_pool_of_size_zero_returns_the_batch(ex):
    batch = torch.randn(4, 1, 2, 2)
    assert torch.equal(ex.ImagePool(0).query(batch), batch), "size 0 turns the pool off"


def test_pool_detaches_what_it_returns_and_stores(ex):
    fake = torch.randn(4, 1, 2, 2, requires_grad=True)
    pool = ex.ImagePool(2)
    out = pool.query(fake * 2)
    assert not out.requires_grad, "returned fakes must be detached: D's loss should not reach G through them"
    assert all(not img.requires_grad for img in pool.images), "stored fakes must be detached"


# ------------------------------------------------------------- learning-rate schedule


@pytest.mark.parametrize(
    ("step", "expected"), [(0, 1.0), (99, 1.0), (100, 1.0), (150, 0.5), (175, 0.25), (200, 0.0), (300, 0.0)]
)
def test_learning_rate_is_constant_then_decays_linearly_to_zero(ex, step, expected):
    factor = ex.learning_rate_factor(step, 100, 100)
    assert abs(factor - expected) < 1e-9, (
        f"with 100 constant and 100 decay steps, step {step} should have factor {expected}, got {factor}"
    )
