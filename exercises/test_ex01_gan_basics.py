"""Autograder for chapter 1 (exercises/ex01_gan_basics.py)."""

import copy
import math

import torch
import torch.nn.functional as F
from conftest import exercise_fixture, max_difference
from torch import nn

from ganedu.data import toy_mixture
from ganedu.nets.mlp import Discriminator, Generator

ex = exercise_fixture("ex01_gan_basics")

# Points per test (each case of a parametrised test earns them); every other test earns 1.
POINTS = {
    "test_train_step_moves_d_by_its_own_loss_only_over_two_steps": 2,
    "test_train_step_moves_g_by_its_own_loss_only_over_two_steps": 2,
    "test_train_step_sends_no_gradient_into_g_during_ds_phase": 2,
    "test_train_step_drives_ganedus_ring_networks": 2,
}


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
    fake = torch.tensor([-30.0, -30.0, -120.0, -120.0], requires_grad=True)
    loss = ex.generator_loss(fake)
    loss.backward()
    grad = fake.grad.tolist()
    assert math.isclose(loss.item(), 75.0, rel_tol=1e-4), (
        f"expected L_G = mean softplus(-l) = (30 + 30 + 120 + 120) / 4 = 75 for logits (-30, -30, -120, -120), "
        f"got {loss.item():.4g} (sigmoid(-120) is exactly 0 in float32: a log after a sigmoid gives inf)"
    )
    assert all(math.isclose(g, -0.25, rel_tol=1e-3) for g in grad), (
        f"when D rejects every fake (logits -30 and -120) the gradient per logit should be -1/B = -0.25, "
        f"got {grad}; a vanishing gradient here is the saturation the non-saturating loss exists to avoid"
    )


# ---------------------------------------------------------- optimal_discriminator


def test_optimal_discriminator_on_two_gaussians(ex):
    x = torch.linspace(-4, 6, 101, dtype=torch.float64)
    p_data, p_g = gaussian(x, 0.0, 1.0), gaussian(x, 2.0, 1.0)
    expected = torch.sigmoid(-2 * x + 2)  # log p_data - log p_g = -2x + 2 for these two
    got = ex.optimal_discriminator(p_data, p_g)
    assert got.shape == x.shape, f"expected shape {tuple(x.shape)}, got {tuple(got.shape)}"
    assert got.dtype == torch.float64, f"float64 densities should give float64 D*, got {got.dtype}"
    worst = (got - expected).abs().max().item()
    assert worst < 1e-9, (
        f"for p_data = N(0, 1) and p_g = N(2, 1), D*(x) = sigmoid(2 - 2x): D*(1) = 0.5, D*(0) = {expected[40]:.4f}; "
        f"got D*(0) = {got[40].item():.4f} (largest error {worst:.3g})"
    )


def test_optimal_discriminator_maximises_the_pointwise_value(ex):
    gen = torch.Generator().manual_seed(3)
    a, b = (
        torch.rand(200, generator=gen, dtype=torch.float64),
        torch.rand(200, generator=gen, dtype=torch.float64),
    )
    best = ex.optimal_discriminator(a, b)

    def value(y):
        return a * torch.log(y) + b * torch.log1p(-y)

    for step in (0.05, -0.05, 0.001, -0.001):
        other = (best + step).clamp(1e-9, 1 - 1e-9)
        worse = value(other) > value(best) + 1e-12
        assert not worse.any(), (
            f"at a = p_data = {a[worse][0].item():.3f}, b = p_g = {b[worse][0].item():.3f} your D* = "
            f"{best[worse][0].item():.4f} but D = {other[worse][0].item():.4f} gives a larger a log D + b log(1 - D): "
            "set the derivative a/D - b/(1 - D) to zero and solve for D"
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


def test_jensen_shannon_by_hand_with_zero_densities(ex):
    p = torch.tensor([0.2, 0.3, 0.5, 0.0], dtype=torch.float64)
    q = torch.tensor([0.0, 0.5, 0.25, 0.25], dtype=torch.float64)
    got = ex.jensen_shannon(p, q, 2.0).item()
    m = (p + q) / 2
    kl_p = sum(a * math.log(a / b) for a, b in zip(p.tolist(), m.tolist(), strict=True) if a > 0) * 2.0
    kl_q = sum(a * math.log(a / b) for a, b in zip(q.tolist(), m.tolist(), strict=True) if a > 0) * 2.0
    expected = 0.5 * kl_p + 0.5 * kl_q
    assert math.isclose(got, expected, rel_tol=1e-9), (
        f"p = {p.tolist()}, q = {q.tolist()}, dx = 2: expected JS = KL(p || m)/2 + KL(q || m)/2 = "
        f"{kl_p / 2:.5f} + {kl_q / 2:.5f} = {expected:.5f}, got {got:.5f} (the two KL terms differ here; "
        "a term with p_j = 0 counts 0)"
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


# ----------------------------------------------------------------------- train_step


def ring_pair():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))  # (B, 3) -> (B, 2)
    D = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))  # (B, 2) -> (B,)
    return G, D


class Codes:
    """``sample_z``: codes (n, 3) from its own seeded generator; remembers each n asked for."""

    def __init__(self):
        self.generator = torch.Generator().manual_seed(1)
        self.calls = []

    def __call__(self, n):
        self.calls.append(n)
        return torch.randn(n, 3, generator=self.generator)


class RecordingSGD(torch.optim.SGD):
    """SGD that counts its steps and records, at each, both networks' gradients and its weights after it."""

    def __init__(self, params, lr, other):
        super().__init__(params, lr)
        self.other, self.steps, self.own_grads, self.other_grads, self.after = other, 0, [], [], []

    def step(self, closure=None):
        self.steps += 1
        own = [p for group in self.param_groups for p in group["params"]]
        self.own_grads.append([None if p.grad is None else p.grad.clone() for p in own])
        self.other_grads.append([None if p.grad is None else p.grad.clone() for p in self.other.parameters()])
        result = super().step(closure)
        self.after.append([p.detach().clone() for group in self.param_groups for p in group["params"]])
        return result


def reference_steps(G, D, reals, lr):
    """The docstring's update with plain SGD: one D step, then one G step on new codes, per batch."""
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr), torch.optim.SGD(D.parameters(), lr)
    codes, logs = Codes(), []
    for real in reals:
        loss_d = F.softplus(-D(real)).mean() + F.softplus(D(G(codes(len(real))).detach())).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-D(G(codes(len(real))))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        logs.append({"loss_d": loss_d.item(), "loss_g": loss_g.item()})
    return logs


def two_steps(ex, lr=0.5):
    """Two calls of the learner's train_step and of the reference, from the same weights and data."""
    G, D = ring_pair()
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    data = torch.Generator().manual_seed(2)
    reals = [2 * torch.randn(16, 2, generator=data) for _ in range(2)]
    opt_g, opt_d = RecordingSGD(G.parameters(), lr, other=D), RecordingSGD(D.parameters(), lr, other=G)
    codes = Codes()
    logs = [ex.train_step(G, D, opt_g, opt_d, real, codes) for real in reals]
    expected = reference_steps(G_ref, D_ref, reals, lr)
    return {
        "G": G,
        "D": D,
        "opt_g": opt_g,
        "opt_d": opt_d,
        "codes": codes,
        "logs": logs,
        "G_ref": G_ref,
        "D_ref": D_ref,
        "expected": expected,
    }


def test_train_step_steps_each_optimizer_once_per_call(ex):
    run = two_steps(ex)
    steps = (run["opt_d"].steps, run["opt_g"].steps)
    assert steps == (2, 2), (
        f"two calls of train_step should step opt_d twice and opt_g twice (once each per call), got {steps}"
    )


def test_train_step_returns_the_losses_as_python_floats(ex):
    logs = two_steps(ex)["logs"]
    assert all(set(log) == {"loss_d", "loss_g"} for log in logs), (
        f"expected the keys loss_d and loss_g, got {[sorted(log) for log in logs]}"
    )
    kinds = {type(v).__name__ for log in logs for v in log.values()}
    assert kinds == {"float"}, (
        f"expected Python floats (loss.item()), got {sorted(kinds)}: a tensor keeps its whole graph alive "
        "as long as the log is kept"
    )


def test_train_step_returns_each_loss_before_its_update(ex):
    run = two_steps(ex)
    for number, (got, want) in enumerate(zip(run["logs"], run["expected"], strict=True), start=1):
        for key in ("loss_d", "loss_g"):
            assert math.isclose(float(got[key]), want[key], rel_tol=1e-5), (
                f"call {number}: expected {key} = {want[key]:.5f} (computed in its phase, before that phase's "
                f"optimizer step; loss_g through the updated D on new codes), got {float(got[key]):.5f}"
            )


def test_train_step_moves_d_by_its_own_loss_only_over_two_steps(ex):
    run = two_steps(ex)
    diff = max_difference(run["D"], run["D_ref"])
    assert diff < 1e-6, (
        f"after two calls D's weights differ from two SGD steps on L_D by up to {diff:.3g}: clear D's gradients "
        "(opt_d.zero_grad()) before L_D's backward, since G's phase leaves gradients in D, and step only opt_d "
        "in D's phase"
    )


def test_train_step_moves_g_by_its_own_loss_only_over_two_steps(ex):
    run = two_steps(ex)
    diff = max_difference(run["G"], run["G_ref"])
    assert diff < 1e-6, (
        f"after two calls G's weights differ from two SGD steps on L_G by up to {diff:.3g}: clear G's gradients "
        "before L_G's backward (they add up across calls otherwise), and compute L_G on new codes through the "
        "updated D"
    )


def test_train_step_leaves_d_unchanged_in_gs_phase(ex):
    run = two_steps(ex)
    after_d_step = run["opt_d"].after[-1]
    moved = max((p - q).abs().max().item() for p, q in zip(run["D"].parameters(), after_d_step, strict=True))
    assert moved == 0, (
        f"D's weights changed by up to {moved:.3g} after its own step: only opt_g steps in G's phase"
    )


def test_train_step_sends_no_gradient_into_g_during_ds_phase(ex):
    run = two_steps(ex)
    before = [None, *run["opt_g"].own_grads[:-1]]  # G's gradients as its previous phase left them
    for number, (at_d_step, previous) in enumerate(
        zip(run["opt_d"].other_grads, before, strict=True), start=1
    ):
        cleared = all(g is None or not g.any() for g in at_d_step)
        unchanged = previous is not None and all(
            (g is None and h is None) or (g is not None and h is not None and torch.equal(g, h))
            for g, h in zip(at_d_step, previous, strict=True)
        )
        assert cleared or unchanged, (
            f"call {number}: L_D's backward put gradients into G's weights: the fakes of D's phase must be "
            "constants, G(z).detach() (or made under torch.no_grad())"
        )


def test_train_step_draws_new_codes_for_each_phase(ex):
    run = two_steps(ex)
    assert run["codes"].calls == [16, 16, 16, 16], (
        f"expected sample_z(16) called twice per call (D's phase, then new codes for G's phase), "
        f"got calls with n = {run['codes'].calls}"
    )


def test_train_step_drives_ganedus_ring_networks(ex, device):
    G = Generator(nz=8, out_shape=(2,), hidden=32, depth=2).to(device)
    D = Discriminator(in_shape=(2,), hidden=32, depth=2).to(device)
    opt_g = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.5, 0.999))
    points = toy_mixture("ring", 64 * 10, seed=0)[0].to(device)
    logs = [
        ex.train_step(G, D, opt_g, opt_d, batch, lambda n: torch.randn(n, 8, device=device))
        for batch in points.split(64)
    ]
    values = [v for log in logs for v in log.values()]
    assert all(type(v) is float and math.isfinite(v) for v in values), (
        f"ten steps of the chapter's ring GAN (ganedu.nets.mlp) should log finite floats, got {logs[-1]}"
    )
