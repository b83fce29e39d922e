"""Autograder for chapter 10 (exercises/ex10_modern_gans.py)."""

import math

import pytest
import torch
import torch.nn.functional as F
from conftest import exercise_fixture
from torch import nn

from ganedu import augment, losses

ex = exercise_fixture("ex10_modern_gans")

# Points per test (each case of a parametrised test earns them); every other test earns 1.
POINTS = {
    "test_r1_r2_penalty_is_taken_at_the_reals_and_at_the_fakes": 2,
}


class Quadratic(nn.Module):
    """D(x) = ½ Σ w·x² per sample, so ∇ₓD = w·x: a gradient that depends on where it is taken."""

    def __init__(self, w: float = 1.5):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x):
        return 0.5 * (self.w * x.square()).flatten(1).sum(1)


def mean_square_norm(x):
    return x.flatten(1).pow(2).sum(1).mean()


# ------------------------------------------------------------------ relativistic losses


def test_relativistic_d_loss_of_equal_logits_is_log_2(ex):
    logits = torch.tensor([0.3, -1.0, 2.0])
    got = ex.relativistic_d_loss(logits, logits.clone())
    assert float(got) == pytest.approx(math.log(2), abs=1e-6), (
        f"when every real and its paired fake get the same logit, L_D = softplus(0) = log 2, got {float(got)}"
    )


def test_relativistic_d_loss_compares_each_real_with_its_own_fake(ex):
    real, fake = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    expected = (F.softplus(torch.tensor(-3.0)) + F.softplus(torch.tensor(3.0))) / 2
    got = ex.relativistic_d_loss(real, fake)
    assert float(got) == pytest.approx(float(expected), abs=1e-6), (
        f"pairs (3, 0) and (0, 3) give mean(softplus(-(real - fake))) = {float(expected):.4f}, got {float(got):.4f} "
        "(a loss of each logit alone, softplus(-real) + softplus(fake), is the classic GAN, not RpGAN)"
    )
    real, fake = torch.randn(7, generator=torch.Generator().manual_seed(0)), torch.randn(7)
    assert torch.allclose(ex.relativistic_d_loss(real, fake), losses.relativistic_d(real, fake), atol=1e-6)


def test_relativistic_d_loss_falls_as_reals_beat_their_fakes(ex):
    real, fake = torch.zeros(4, requires_grad=True), torch.zeros(4, requires_grad=True)
    ex.relativistic_d_loss(real, fake).backward()
    assert real.grad is not None and (real.grad < 0).all(), "raising a real logit must lower D's loss"
    assert fake.grad is not None and (fake.grad > 0).all(), "raising a fake logit must raise D's loss"
    assert torch.allclose(real.grad, torch.full((4,), -0.5 / 4)), (
        f"∂L_D/∂real_i = -σ(fake_i - real_i)/B = -0.125 at zero logits (a mean over the pairs), got {real.grad}"
    )


def test_relativistic_d_loss_is_finite_for_confident_wrong_logits(ex):
    got = ex.relativistic_d_loss(torch.tensor([-100.0]), torch.tensor([100.0]))
    assert torch.isfinite(got) and float(got) == pytest.approx(200.0, rel=1e-4), (
        f"softplus(200) = 200, got {float(got)}: write -log σ(u) as softplus(-u), not log(sigmoid(u))"
    )


def test_relativistic_g_loss_swaps_the_roles(ex):
    real, fake = torch.randn(6, generator=torch.Generator().manual_seed(1)), torch.randn(6)
    got = ex.relativistic_g_loss(real, fake)
    expected = F.softplus(-(fake - real)).mean()
    assert torch.allclose(got, expected, atol=1e-6), (
        f"L_G = mean(softplus(-(fake - real))) = {float(expected):.4f}, got {float(got):.4f}"
    )
    assert float(ex.relativistic_g_loss(torch.tensor([2.0]), torch.tensor([0.0]))) == pytest.approx(
        float(F.softplus(torch.tensor(2.0))), abs=1e-6
    ), "a fake 2 below its real costs G softplus(2)"


def test_relativistic_g_loss_sends_its_gradient_into_the_fakes(ex):
    real = torch.tensor([1.0, -1.0, 0.5])
    fake = torch.tensor([0.0, 0.0, 0.0], requires_grad=True)
    ex.relativistic_g_loss(real, fake).backward()
    expected = -torch.sigmoid(real - fake.detach()) / 3
    assert fake.grad is not None, (
        "no gradient reached the fake logits: G cannot learn (is fake_logits detached?)"
    )
    assert torch.allclose(fake.grad, expected, atol=1e-6), (
        f"∂L_G/∂fake_i = -σ(real_i - fake_i)/B = {expected.tolist()}, got {fake.grad.tolist()}"
    )


# --------------------------------------------------------------------------- R1 + R2


def test_r1_r2_penalty_is_taken_at_the_reals_and_at_the_fakes(ex):
    g = torch.Generator().manual_seed(2)
    real, fake = torch.randn(4, 2, 3, 3, generator=g), 3 * torch.randn(4, 2, 3, 3, generator=g)
    D = Quadratic(1.5)
    got = ex.r1_r2_penalty(D, real, fake, gamma=4.0)
    r1, r2 = mean_square_norm(1.5 * real), mean_square_norm(1.5 * fake)
    expected = 0.5 * 4.0 * (r1 + r2)
    assert float(got) == pytest.approx(float(expected), rel=1e-5), (
        f"∇D(x) = 1.5·x here: γ/2·(E‖∇D(real)‖² + E‖∇D(fake)‖²) = {float(expected):.3f}, got {float(got):.3f}; "
        f"R1 alone would be {float(2 * r1):.3f}, R1 taken twice {float(4 * r1):.3f} "
        "(the squared norm sums over C·H·W; the expectation is the batch mean)"
    )


def test_r1_r2_penalty_can_train_d(ex):
    real, fake = torch.ones(2, 1, 2, 2), 2 * torch.ones(2, 1, 2, 2)
    D = Quadratic(1.0)
    penalty = ex.r1_r2_penalty(D, real, fake, gamma=1.0)
    assert penalty.requires_grad, (
        "the penalty has no graph back to D's weights: take the input gradient with create_graph=True"
    )
    (grad,) = torch.autograd.grad(penalty, D.w)
    # penalty = ½·w²·(‖real‖² + ‖fake‖²) = ½·w²·(4 + 16) → ∂/∂w = 20·w = 20
    assert float(grad) == pytest.approx(20.0, rel=1e-5), f"∂penalty/∂w = 20 here, got {float(grad)}"


def test_r1_r2_penalty_trains_d_only(ex):
    scale = nn.Parameter(torch.tensor(2.0))  # stands in for G's weights
    fake = scale * torch.ones(3, 1, 2, 2)
    ex.r1_r2_penalty(Quadratic(1.0), torch.zeros(3, 1, 2, 2), fake, gamma=10.0).backward()
    assert scale.grad is None or float(scale.grad) == 0.0, (
        f"the penalty sent a gradient {float(scale.grad)} into G: take it at fake.detach()"
    )


# ---------------------------------------------------------------- translation (DiffAugment)


def test_translate_matches_ganedu(ex):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(5, 2, 6, 7, generator=g)
    shifts = torch.randint(-3, 4, (5, 2), generator=g)
    got = ex.translate(x, shifts)
    assert got.shape == x.shape, f"expected shape {tuple(x.shape)}, got {tuple(got.shape)}"
    assert torch.equal(got, augment.translate(x, shifts)), (
        "output pixel (i, j) of image b is input pixel (i - dy_b, j - dx_b), 0 outside; shifts[b] = (dy_b, dx_b)"
    )


def test_translate_moves_a_pixel_down_and_right(ex):
    x = torch.zeros(2, 1, 5, 5)
    x[:, 0, 1, 1] = 1.0
    got = ex.translate(x, torch.tensor([[2, 0], [0, -1]]))
    assert got[0, 0, 3, 1] == 1.0 and got[0].sum() == 1.0, "shift (2, 0) moves pixel (1, 1) to (3, 1)"
    assert got[1, 0, 1, 0] == 1.0 and got[1].sum() == 1.0, "shift (0, -1) moves pixel (1, 1) to (1, 0)"


def test_translate_is_differentiable(ex):
    x = torch.ones(1, 1, 4, 4, requires_grad=True)
    ex.translate(x, torch.tensor([[1, 1]])).sum().backward()
    expected = torch.zeros(4, 4)
    expected[:3, :3] = 1.0
    assert x.grad is not None and torch.equal(x.grad[0, 0], expected), (
        "the gradient reaches exactly the input pixels that stay in the image"
    )


def marked_batch(n=32, size=9):
    x = torch.zeros(n, 1, size, size)
    x[:, 0, size // 2, size // 2] = 1.0  # one bright pixel in the centre of each image
    return x


def positions(x):
    flat = x.flatten(1).argmax(1)
    return torch.stack([flat // x.shape[-1], flat % x.shape[-1]], 1) - x.shape[-1] // 2  # (B, 2) shifts


def test_augment_pair_draws_real_then_fake_shifts_from_the_generator(ex):
    real, fake = marked_batch(6), marked_batch(6)
    a, b = ex.augment_pair(real, fake, 2, generator=torch.Generator().manual_seed(4))
    g = torch.Generator().manual_seed(4)
    expected_real = torch.randint(-2, 3, (6, 2), generator=g)
    expected_fake = torch.randint(-2, 3, (6, 2), generator=g)
    assert torch.equal(positions(a), expected_real), (
        f"real shifts {positions(a).tolist()}, expected torch.randint(-r, r + 1, (B, 2)) = {expected_real.tolist()}"
    )
    assert torch.equal(positions(b), expected_fake), "the fakes take the next (B, 2) draw as their shifts"


def test_augment_pair_shifts_each_image_on_its_own_within_the_range(ex):
    real = marked_batch(400)
    a, b = ex.augment_pair(real, real.clone(), 2, generator=torch.Generator().manual_seed(5))
    shifts = positions(a)
    assert len({tuple(s) for s in shifts.tolist()}) > 1, "every image got the same shift: draw one per image"
    assert shifts.abs().max() <= 2, f"shifts up to max_shift = 2, got {shifts.abs().max()}"
    assert set(shifts.flatten().tolist()) == {-2, -1, 0, 1, 2}, (
        f"each of -2..2 should appear, got {sorted(set(shifts.flatten().tolist()))} (randint's upper end is exclusive)"
    )
    assert not torch.equal(b, real), "the fakes were not augmented: D must see both batches augmented"
    assert not torch.equal(a, b), "without same_shift the fakes draw their own shifts"


def test_augment_pair_with_same_shift_moves_real_and_fake_alike(ex):
    real = marked_batch(16)
    a, b = ex.augment_pair(real, real.clone(), 3, generator=torch.Generator().manual_seed(6), same_shift=True)
    assert torch.equal(a, b), "with same_shift, fake i moves exactly like real i"
    assert not torch.equal(a, real), "the images were not shifted"


def test_augment_pair_keeps_the_fakes_differentiable(ex):
    fake = torch.ones(4, 1, 6, 6, requires_grad=True)
    _, b = ex.augment_pair(torch.ones(4, 1, 6, 6), fake, 1, generator=torch.Generator().manual_seed(7))
    b.sum().backward()
    assert fake.grad is not None and fake.grad.sum() > 0, (
        "no gradient reached the fakes through the augmentation: G learns through it, do not detach"
    )


# -------------------------------------------------------------------------- inversion


def test_inversion_objective_closed_form(ex):
    recon, target = torch.zeros(3, 1, 2, 2), torch.ones(3, 1, 2, 2)
    features = lambda x: x.flatten(1).square()[:, :2] + 1.0  # noqa: E731 (φ(0) = 1, φ(1) = 2)
    got = ex.inversion_objective(recon, target, features, lam=0.25)
    assert float(got) == pytest.approx(1.0 + 0.25 * 1.0, abs=1e-6), (
        "pixel MSE (0 vs 1) = 1 and feature MSE (φ = 1 vs 2) = 1 give 1 + λ·1 = 1.25, "
        f"got {float(got)} (means over pixels, features and the batch; φ of each image, not of their difference)"
    )


def test_inversion_objective_weights_the_features_by_lambda(ex):
    g = torch.Generator().manual_seed(8)
    recon, target = torch.randn(4, 1, 3, 3, generator=g), torch.randn(4, 1, 3, 3, generator=g)
    features = lambda x: 3 * x.flatten(1)[:, :5]  # noqa: E731
    pixel = (recon - target).pow(2).mean()
    feature = (features(recon) - features(target)).pow(2).mean()
    for lam in (0.0, 0.1, 2.0):
        got = ex.inversion_objective(recon, target, features, lam)
        assert float(got) == pytest.approx(float(pixel + lam * feature), rel=1e-5), (
            f"λ = {lam}: expected {float(pixel + lam * feature):.4f}, got {float(got):.4f}"
        )


def test_inversion_objective_is_differentiable_in_the_reconstruction(ex):
    recon = torch.zeros(2, 1, 2, 2, requires_grad=True)
    ex.inversion_objective(recon, torch.ones(2, 1, 2, 2), lambda x: x.flatten(1), 0.5).backward()
    assert recon.grad is not None and torch.allclose(recon.grad, torch.full_like(recon, -2 * 1.5 / 8)), (
        "∂L/∂x̂ = 2(x̂ - x)(1 + λ)/(B·C·H·W) here"
    )


# ------------------------------------------------------------------------ memorisation


def test_memorisation_score_of_copies_is_zero(ex):
    train = torch.randn(40, 6, generator=torch.Generator().manual_seed(9))
    got = ex.memorisation_score(train[:15].clone(), train)
    assert isinstance(got, float), f"expected a Python float, got {type(got).__name__}"
    assert got == pytest.approx(0.0, abs=1e-9), (
        f"copies of training points lie at distance 0: score 0, got {got}"
    )


def test_memorisation_score_closed_form(ex):
    train = torch.tensor([[0.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    generated = torch.tensor([[0.0, 0.5], [0.0, 2.5], [0.0, 10.0], [0.0, 11.0], [0.0, -0.5]])
    got = ex.memorisation_score(generated, train)
    assert got == pytest.approx(0.5, abs=1e-9), (
        "nearest train distances of the samples (0.5, 0.5, 7, 8, 0.5) have median 0.5; training points lie "
        f"(1, 1, 2) from their nearest *other* training point, median 1: score 0.5, got {got} "
        "(leave each training point out of its own search, use medians and plain distances)"
    )


def test_memorisation_score_of_fresh_samples_is_about_one(ex):
    g = torch.Generator().manual_seed(10)
    got = ex.memorisation_score(torch.randn(300, 3, generator=g), torch.randn(300, 3, generator=g))
    assert 0.7 < got < 1.4, f"fresh samples from the same distribution score about 1, got {got}"
