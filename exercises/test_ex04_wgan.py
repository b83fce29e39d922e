"""Autograder for chapter 4 (exercises/ex04_wgan.py)."""

import copy
import math

import pytest
import torch
from conftest import exercise_fixture, max_difference
from torch import nn

from ganedu.data import TOY_STD, toy_centers, toy_mixture
from ganedu.metrics.modes import mode_coverage as reference_coverage
from ganedu.nets.mlp import Discriminator, Generator

ex = exercise_fixture("ex04_wgan")

# Points per test (each case of a parametrised test earns them); every other test earns 1.
POINTS = {
    "test_train_step_takes_n_critic_critic_steps_per_generator_step": 2,
    "test_train_step_clips_after_every_critic_step": 2,
    "test_train_step_drives_ganedus_networks_with_rmsprop": 2,
}


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


def test_mode_coverage_counts_one_percent_of_all_points_not_of_the_good_ones(ex):
    centers = toy_centers("ring")
    points = torch.cat([torch.full((900, 2), 50.0), centers[0].expand(100, 2), centers[1].expand(5, 2)])
    covered, quality = ex.mode_coverage(points, centers, 0.02)
    assert covered == 1, (
        f"900 far-away points, 100 at mode 0 and 5 at mode 1 (0.5% of all 1005 points, though 4.8% of the good "
        f"ones): expected 1 mode covered, got {covered}"
    )
    assert abs(quality - 105 / 1005) < 1e-6, (
        f"expected 105 / 1005 = {105 / 1005:.4f} high quality, got {quality:.4f}"
    )


def test_mode_coverage_matches_ganedu(ex):
    points = toy_centers("grid")[torch.randint(25, (3000,))] + 0.08 * torch.randn(3000, 2)
    covered, quality = ex.mode_coverage(points, toy_centers("grid"), TOY_STD["grid"])
    ref = reference_coverage(points, toy_centers("grid"), TOY_STD["grid"])
    assert covered == ref.covered and abs(quality - ref.high_quality) < 1e-6, (
        f"expected {ref.covered} modes and {ref.high_quality:.3f} high quality, got {covered} and {quality:.3f}"
    )


# ------------------------------------------------------------------ wasserstein_1d


def empirical_cdf(samples, t):
    return (samples[None, :] <= t[:, None]).to(t.dtype).mean(dim=1)


def optimal_critic_value(x, y):
    """E_x f* - E_y f* for the 1-Lipschitz critic with slope sign(F_y - F_x), piecewise linear between samples."""
    t = torch.cat([x, y]).sort().values
    slope = torch.sign(empirical_cdf(y, t) - empirical_cdf(x, t))[:-1]
    f_at_t = torch.cat([t.new_zeros(1), torch.cumsum(slope * t.diff(), 0)])  # f*(t_k), f*(t_0) = 0

    def f(v):
        return f_at_t[torch.searchsorted(t, v)]

    return (f(x).mean() - f(y).mean()).item()


def test_wasserstein_1d_of_a_shift_is_the_shift(ex):
    x = torch.randn(50, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    got = ex.wasserstein_1d(x, x + 3.0)
    assert got.dim() == 0, f"expected a scalar, got shape {tuple(got.shape)}"
    assert got.dtype == torch.float64, f"float64 samples should give a float64 distance, got {got.dtype}"
    assert math.isclose(got.item(), 3.0, rel_tol=1e-9), (
        f"moving every sample by 3 costs exactly 3: expected W1 = 3, got {got.item():.6f}"
    )


def test_wasserstein_1d_equals_the_value_of_the_optimal_critic(ex):
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(13, dtype=torch.float64, generator=gen)
    y = 2 * torch.randn(21, dtype=torch.float64, generator=gen) + 0.5
    got = ex.wasserstein_1d(x, y).item()
    dual = optimal_critic_value(x, y)
    assert math.isclose(got, dual, rel_tol=1e-9), (
        f"13 and 21 samples: the critic with slope sign(F_y - F_x) reaches E_x f - E_y f = {dual:.6f}, which is "
        f"W1 = integral of |F_x - F_y|; got {got:.6f} (N and M differ here: integrate the two CDFs, "
        "do not pair sorted samples)"
    )
    linear = abs(x.mean().item() - y.mean().item())  # the critic f(t) = ±t
    assert got >= linear - 1e-12, (
        f"W1 = {got:.6f} is below the value {linear:.6f} of the 1-Lipschitz critic f(t) = t"
    )


def test_wasserstein_1d_matches_sorted_pairs_for_equal_sizes(ex):
    gen = torch.Generator().manual_seed(6)
    x, y = torch.rand(40, generator=gen), torch.rand(40, generator=gen) ** 2
    got = ex.wasserstein_1d(x, y).item()
    expected = (x.sort().values - y.sort().values).abs().mean().item()
    assert math.isclose(got, expected, rel_tol=1e-5), (
        f"for N = M the quantile matching pairs the i-th smallest x with the i-th smallest y: expected "
        f"mean |x_(i) - y_(i)| = {expected:.6f}, got {got:.6f}"
    )


# ---------------------------------------------------------------------- train_step

N_CRITIC, CLIP, BATCH = 3, 0.05, 10


class Draws:
    """``next_real`` (no argument) or ``sample_z`` (n): seeded draws of (n, width); remembers each call."""

    def __init__(self, seed, width, shift=0.0, batch=BATCH):
        self.generator, self.width, self.shift, self.batch, self.calls = (
            torch.Generator().manual_seed(seed),
            width,
            shift,
            batch,
            [],
        )

    def __call__(self, n=None):
        self.calls.append(n)
        return torch.randn(n or self.batch, self.width, generator=self.generator) + self.shift


class RecordingSGD(torch.optim.SGD):
    """SGD that counts its steps and records, at each, the critic's largest |weight| and the gradients."""

    def __init__(self, params, lr, critic, other):
        super().__init__(params, lr)
        self.critic, self.other, self.steps = critic, other, 0
        self.critic_max, self.own_grads, self.other_grads, self.critic_at_step = [], [], [], []

    def step(self, closure=None):
        self.steps += 1
        self.critic_max.append(max(p.abs().max().item() for p in self.critic.parameters()))
        self.critic_at_step.append([p.detach().clone() for p in self.critic.parameters()])
        own = [p for group in self.param_groups for p in group["params"]]
        self.own_grads.append([None if p.grad is None else p.grad.clone() for p in own])
        self.other_grads.append([None if p.grad is None else p.grad.clone() for p in self.other.parameters()])
        return super().step(closure)


def wgan_pair():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(3, 2))  # (B, 3) -> (B, 2)
    D = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))  # (B, 2) -> (B,)
    return G, D


def reference_steps(G, D, calls, lr):
    """Algorithm 1 of the WGAN paper with plain SGD, ``calls`` times."""
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr), torch.optim.SGD(D.parameters(), lr)
    next_real, sample_z, logs = Draws(1, 2, shift=2.0), Draws(2, 3), []
    for _ in range(calls):
        for _ in range(N_CRITIC):
            real = next_real()
            loss_d = D(G(sample_z(len(real))).detach()).mean() - D(real).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-CLIP, CLIP)
        loss_g = -D(G(sample_z(BATCH))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        logs.append({"loss_d": loss_d.item(), "loss_g": loss_g.item()})
    return logs


def two_steps(ex, lr=0.5):
    """Two calls of the learner's train_step (n_critic 3, clip 0.05) and of the reference."""
    G, D = wgan_pair()
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    opt_g = RecordingSGD(G.parameters(), lr, critic=D, other=D)
    opt_d = RecordingSGD(D.parameters(), lr, critic=D, other=G)
    next_real, sample_z = Draws(1, 2, shift=2.0), Draws(2, 3)
    logs = [
        ex.train_step(G, D, opt_g, opt_d, next_real, sample_z, n_critic=N_CRITIC, clip=CLIP) for _ in range(2)
    ]
    expected = reference_steps(G_ref, D_ref, 2, lr)
    run = {"G": G, "D": D, "opt_g": opt_g, "opt_d": opt_d, "next_real": next_real, "sample_z": sample_z}
    return {**run, "logs": logs}, (G_ref, D_ref, expected)


def test_train_step_takes_n_critic_critic_steps_per_generator_step(ex):
    run, _ = two_steps(ex)
    steps = (run["opt_d"].steps, run["opt_g"].steps)
    assert steps == (2 * N_CRITIC, 2), (
        f"two calls with n_critic = {N_CRITIC} should step opt_d {2 * N_CRITIC} times and opt_g twice, got {steps}"
    )
    assert len(run["next_real"].calls) == 2 * N_CRITIC, (
        f"expected next_real() once per critic step ({2 * N_CRITIC} calls), got {len(run['next_real'].calls)}: "
        "each critic step sees a new real batch"
    )


def test_train_step_draws_new_codes_for_every_critic_step_and_the_generator_step(ex):
    run, _ = two_steps(ex)
    expected = [BATCH] * (2 * (N_CRITIC + 1))
    assert run["sample_z"].calls == expected, (
        f"expected sample_z({BATCH}) once per critic step and once for G's step ({expected}), "
        f"got {run['sample_z'].calls}"
    )


def test_train_step_clips_after_every_critic_step(ex):
    run, _ = two_steps(ex)
    at_d = run["opt_d"].critic_max[1:]  # before every critic step but the very first
    at_g = run["opt_g"].critic_max
    final = max(p.abs().max().item() for p in run["D"].parameters())
    assert max(at_d) <= CLIP + 1e-7, (
        f"before critic steps 2..{2 * N_CRITIC} the critic's weights reached {max(at_d):.3f} > c = {CLIP}: "
        "clip after every critic step, inside the loop, not once after it"
    )
    assert max(at_g) <= CLIP + 1e-7 and final <= CLIP + 1e-7, (
        f"the critic G trains against has weights up to {max(at_g):.3f} (and {final:.3f} after the call), "
        f"expected all within c = {CLIP}: clip after opt_d.step(), not before it"
    )


def test_train_step_returns_the_losses_as_python_floats_before_each_update(ex):
    run, (_, _, expected) = two_steps(ex)
    for number, (got, want) in enumerate(zip(run["logs"], expected, strict=True), start=1):
        assert set(got) == {"loss_d", "loss_g"}, f"expected the keys loss_d and loss_g, got {sorted(got)}"
        for key in ("loss_d", "loss_g"):
            assert type(got[key]) is float, (
                f"{key} should be a Python float (loss.item()), got {type(got[key]).__name__}"
            )
            assert math.isclose(got[key], want[key], rel_tol=1e-5, abs_tol=1e-7), (
                f"call {number}: expected {key} = {want[key]:.6f} (loss_d: the last critic step's "
                f"E f(fake) - E f(real) before its update; loss_g: -E f(G(z)) through the clipped critic), "
                f"got {got[key]:.6f}"
            )


def test_train_step_moves_the_critic_by_its_own_loss_only_over_two_steps(ex):
    run, (_, D_ref, _) = two_steps(ex)
    diff = max_difference(run["D"], D_ref)
    assert diff < 1e-6, (
        f"after two calls the critic's weights differ from the reference ({2 * N_CRITIC} SGD steps on "
        f"L_f = E f(fake) - E f(real), each followed by clipping) by up to {diff:.3g}: clear the critic's "
        "gradients before every backward (G's step leaves gradients in it) and check the sign of L_f"
    )


def test_train_step_moves_g_by_its_own_loss_only_over_two_steps(ex):
    run, (G_ref, _, _) = two_steps(ex)
    diff = max_difference(run["G"], G_ref)
    assert diff < 1e-6, (
        f"after two calls G's weights differ from two SGD steps on L_G = -E f(G(z)) by up to {diff:.3g}: clear "
        "G's gradients before its backward, step after all critic steps, and check the sign of L_G"
    )


def test_train_step_leaves_the_critic_unchanged_in_gs_step(ex):
    run, _ = two_steps(ex)
    at_g = run["opt_g"].critic_at_step[-1]
    moved = max((p - q).abs().max().item() for p, q in zip(run["D"].parameters(), at_g, strict=True))
    assert moved == 0, (
        f"the critic's weights changed by up to {moved:.3g} during G's step: only opt_g steps there"
    )


def test_train_step_sends_no_gradient_into_g_during_critic_steps(ex):
    run, _ = two_steps(ex)
    previous_g = [None, *run["opt_g"].own_grads[:-1]]
    for number, at_d in enumerate(run["opt_d"].other_grads):
        before = previous_g[number // N_CRITIC]
        cleared = all(g is None or not g.any() for g in at_d)
        unchanged = before is not None and all(
            g is not None and h is not None and torch.equal(g, h) for g, h in zip(at_d, before, strict=True)
        )
        assert cleared or unchanged, (
            f"critic step {number + 1}: the critic loss's backward put gradients into G: the fakes of a critic "
            "step must be constants (G(z).detach())"
        )


def test_train_step_critic_widens_the_gap_and_g_raises_its_score(ex):
    G, D = wgan_pair()
    real, z = torch.randn(BATCH, 2) + 2.0, torch.randn(BATCH, 3)
    G_before, D_before = copy.deepcopy(G), copy.deepcopy(D)
    opt_g, opt_d = torch.optim.SGD(G.parameters(), 0.01), torch.optim.SGD(D.parameters(), 0.01)
    ex.train_step(G, D, opt_g, opt_d, lambda: real, lambda n: z[:n], n_critic=1, clip=10.0)
    with torch.no_grad():
        fake = G_before(z)
        gap_before = (D_before(real).mean() - D_before(fake).mean()).item()
        gap_after = (D(real).mean() - D(fake).mean()).item()
        score_before, score_after = D(G_before(z)).mean().item(), D(G(z)).mean().item()
    assert gap_after > gap_before, (
        f"a critic step should raise E f(real) - E f(fake) (the W1 estimate); it went from {gap_before:.5f} to "
        f"{gap_after:.5f}: the critic minimises L_f = E f(fake) - E f(real)"
    )
    assert score_after > score_before, (
        f"G's step should raise the critic's mean score on G's samples; it went from {score_before:.5f} to "
        f"{score_after:.5f}: G minimises L_G = -E f(G(z))"
    )


def test_train_step_drives_ganedus_networks_with_rmsprop(ex, device):
    G = Generator(nz=8, out_shape=(2,), hidden=32, depth=2).to(device)
    D = Discriminator(in_shape=(2,), hidden=32, depth=2).to(device)
    opt_g, opt_d = torch.optim.RMSprop(G.parameters(), 5e-5), torch.optim.RMSprop(D.parameters(), 5e-5)
    batches = iter(toy_mixture("ring", 64 * 15, seed=0)[0].to(device).split(64))
    logs = [
        ex.train_step(G, D, opt_g, opt_d, lambda: next(batches), lambda n: torch.randn(n, 8, device=device))
        for _ in range(3)
    ]
    assert all(type(v) is float and math.isfinite(v) for log in logs for v in log.values()), (
        f"three WGAN steps (5 critic steps each) on ganedu's MLP networks should log finite floats, got {logs}"
    )
    assert all(p.abs().max() <= 0.01 + 1e-8 for p in D.parameters()), (
        "the critic should end within the default c"
    )
