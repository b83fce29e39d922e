"""Autograder for chapter 7 (exercises/ex07_cyclegan.py)."""

import copy

import pytest
import torch
from conftest import CountingSGD, exercise_fixture
from torch import nn

ex = exercise_fixture("ex07_cyclegan")

# Points per test (each case of a parametrised test earns them); every other test earns 1.
POINTS = {
    "test_generator_objective_pairs_each_image_with_its_own_round_trip": 2,
    "test_discriminator_step_trains_on_what_the_pool_returns": 2,
}


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


def test_cycle_loss_is_a_per_pixel_mean_whatever_the_image_size(ex):
    real = torch.zeros(2, 3, 8, 8)
    loss = ex.cycle_consistency_loss(real, torch.full((2, 3, 8, 8), 0.5))
    assert torch.isclose(loss, torch.tensor(0.5)), (
        f"an error of 0.5 on every pixel costs 0.5 at any image size and batch size, got {float(loss):.4f}: "
        "average over batch, channels and pixels (a sum makes λ depend on the image size)"
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
    same[0, 0, 0, 0] = 1.75  # one pixel off by 1.75: an L1 loss adds 1.75/32, a squared one 3.06/32
    loss = ex.identity_loss(b, same)
    want = (31 * 0.25 + 1.75) / 32
    assert torch.isclose(loss, torch.tensor(want)), (
        f"expected mean |G(b) - b| = {want:.4f}, got {float(loss):.4f} (absolute values, not squares)"
    )


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


def test_generator_objective_pairs_each_image_with_its_own_round_trip(ex):
    torch.manual_seed(3)
    a, rec_a, b, rec_b, idt_a, idt_b = (torch.randn(2, 1, 4, 4) for _ in range(6))
    adv_ab, adv_ba = torch.tensor(0.3), torch.tensor(0.7)
    got = ex.generator_objective(adv_ab, adv_ba, a, rec_a, b, rec_b, idt_a, idt_b, 4.0, 0.25)

    def l1(x, y):
        return (x - y).abs().mean()

    want = adv_ab + adv_ba + 4.0 * (l1(rec_a, a) + l1(rec_b, b)) + 0.25 * 4.0 * (l1(idt_a, a) + l1(idt_b, b))
    assert torch.isclose(got, want, rtol=1e-5), (
        f"expected {want.item():.5f}, got {float(got):.5f}: a goes with rec_a = F(G(a)) and idt_a = F(a), "
        "b with rec_b = G(F(b)) and idt_b = G(b); both adversarial losses count"
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


def test_pool_uses_every_slot(ex):
    pool = ex.ImagePool(4)
    pool.query(torch.zeros(4, 1, 1, 1))
    marks = torch.arange(1.0, 401.0).reshape(400, 1, 1, 1)
    pool.query(marks)
    assert all(img.item() > 0 for img in pool.images), (
        "after 400 queries of a full pool of 4, every slot should have been replaced at least once: "
        f"slots now hold {[img.item() for img in pool.images]} (draw the slot among all size indices)"
    )


def test_pool_of_size_zero_returns_the_batch(ex):
    batch = torch.randn(4, 1, 2, 2)
    assert torch.equal(ex.ImagePool(0).query(batch), batch), "size 0 turns the pool off"


def test_pool_detaches_what_it_returns_and_stores(ex):
    fake = torch.randn(4, 1, 2, 2, requires_grad=True)
    pool = ex.ImagePool(2)
    out = pool.query(fake * 2)
    assert not out.requires_grad, "returned fakes must be detached: D's loss should not reach G through them"
    assert all(not img.requires_grad and img.grad_fn is None for img in pool.images), (
        "stored fakes must be detached: an attached one keeps the generator's whole graph alive"
    )


# ------------------------------------------------------------- learning-rate schedule


@pytest.mark.parametrize(
    ("step", "expected"), [(0, 1.0), (99, 1.0), (100, 1.0), (150, 0.5), (175, 0.25), (200, 0.0), (300, 0.0)]
)
def test_learning_rate_is_constant_then_decays_linearly_to_zero(ex, step, expected):
    factor = ex.learning_rate_factor(step, 100, 100)
    assert abs(factor - expected) < 1e-9, (
        f"with 100 constant and 100 decay steps, step {step} should have factor {expected}, got {factor}"
    )


# ------------------------------------------------------------------ the discriminator step


class RecordingPool:
    """A stand-in pool: records what it is given and returns a fixed batch of "older" fakes."""

    def __init__(self, returned):
        self.returned, self.queries = returned, []

    def query(self, images):
        self.queries.append(images.detach().clone())
        return self.returned.pop(0)


class PassThroughPool:
    """A pool that hands back exactly what it gets, graph and all."""

    def query(self, images):
        return images


def patch_discriminator():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(), nn.Conv2d(4, 1, 3, padding=1)
    )  # (B, 1, 4, 4)


def reference_d_step(D, opt_d, real, pooled):
    loss = 0.5 * (((D(real) - 1) ** 2).mean() + (D(pooled) ** 2).mean())
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def run_d_steps(step, calls=2):
    D = patch_discriminator()
    opt_d = CountingSGD(D.parameters(), 0.5)
    draws = torch.Generator().manual_seed(1)
    reals = [torch.randn(3, 1, 4, 4, generator=draws) for _ in range(calls)]
    fakes = [torch.randn(3, 1, 4, 4, generator=draws) for _ in range(calls)]
    pooled = [torch.randn(3, 1, 4, 4, generator=draws) + 2 for _ in range(calls)]
    pool = RecordingPool(list(pooled))
    logs, weights = [], []
    for real, fake, older in zip(reals, fakes, pooled, strict=True):
        if step is reference_d_step:
            logs.append({"loss_d": step(D, opt_d, real, older)})
        else:
            logs.append(step(D, opt_d, real, fake, pool))
        weights.append(copy.deepcopy(D.state_dict()))
    return {"opt_d": opt_d, "pool": pool, "fakes": fakes, "logs": logs, "weights": weights}


def test_discriminator_step_loss_is_half_the_least_squares_sum(ex):
    D = nn.Sequential(nn.Conv2d(1, 1, 1, bias=True))
    nn.init.zeros_(D[0].weight)
    nn.init.zeros_(D[0].bias)  # D outputs 0 everywhere: (0 - 1)² on reals, 0² on fakes
    logs = ex.discriminator_step(
        D,
        torch.optim.SGD(D.parameters(), 0.1),
        torch.randn(2, 1, 3, 3),
        torch.randn(2, 1, 3, 3),
        PassThroughPool(),
    )
    assert set(logs) == {"loss_d"}, f"expected the key loss_d, got {sorted(logs)}"
    assert type(logs["loss_d"]) is float, (
        f"loss_d must be a Python float (.item()), got {type(logs['loss_d']).__name__}"
    )
    assert abs(logs["loss_d"] - 0.5) < 1e-6, (
        f"with D = 0 everywhere, L_D = ½((0 - 1)² + 0²) = 0.5, got {logs['loss_d']:.4f}"
        + (": the factor ½ is missing" if abs(logs["loss_d"] - 1.0) < 1e-6 else "")
        + (
            ": reals are pushed to 1, fakes to 0, with squares (least squares)"
            if abs(logs["loss_d"] - 0.5) > 0.01 and abs(logs["loss_d"] - 1.0) > 1e-6
            else ""
        )
    )


def test_discriminator_step_sends_the_fakes_through_the_pool(ex):
    run = run_d_steps(ex.discriminator_step)
    queries = run["pool"].queries
    assert len(queries) == 2, (
        f"two steps should query the pool twice (once per step), it was queried {len(queries)} times"
    )
    for got, fake in zip(queries, run["fakes"], strict=True):
        assert torch.equal(got, fake), "the pool must be queried with this step's fakes"


@pytest.mark.parametrize("call", [0, 1])
def test_discriminator_step_trains_on_what_the_pool_returns(ex, call):
    got, want = run_d_steps(ex.discriminator_step), run_d_steps(reference_d_step)
    gap = max(
        (got["weights"][call][k] - want["weights"][call][k]).abs().max().item() for k in got["weights"][call]
    )
    assert gap < 1e-5, (
        f"after step {call + 1} D's weights differ from the reference by up to {gap:.3g}: one step on "
        "½(mean (D(b) - 1)² + mean D(pool.query(fakes))²), the fakes being what the pool returns, from zeroed gradients"
        + (" (step 1 matched: are the gradients zeroed before each backward?)" if call == 1 else "")
    )
    assert abs(got["logs"][call]["loss_d"] - want["logs"][call]["loss_d"]) < 1e-5, (
        f"step {call + 1}: expected loss_d = {want['logs'][call]['loss_d']:.5f}, got {got['logs'][call]['loss_d']:.5f}"
    )
    assert got["opt_d"].steps == 2, f"two calls should step opt_d twice, got {got['opt_d'].steps}"


def test_discriminator_step_sends_no_gradient_into_the_generator(ex):
    G = nn.Conv2d(1, 1, 1)
    fake = G(torch.randn(2, 1, 4, 4))  # still attached to G
    D = patch_discriminator()
    ex.discriminator_step(
        D, torch.optim.SGD(D.parameters(), 0.1), torch.randn(2, 1, 4, 4), fake, PassThroughPool()
    )
    assert G.weight.grad is None, (
        "D's loss reached the generator: detach the fakes before the pool (a pool of size 0 hands them back as they are)"
    )
