"""Autograder for chapter 5 (exercises/ex05_wgan_gp.py)."""

import copy

import pytest
import torch
from conftest import CountingSGD, exercise_fixture, max_gap
from torch import nn

ex = exercise_fixture("ex05_wgan_gp")

# Points per test (each case of a parametrised test earns them); every other test earns 1.
POINTS = {
    "test_penalty_matches_the_closed_form_with_the_norm_over_c_h_w": 2,
    "test_penalty_is_taken_at_the_interpolates_not_at_the_reals": 2,
    "test_train_step_updates_the_critic_like_the_reference": 2,
    "test_train_step_updates_the_generator_like_the_reference": 2,
}


class Quadratic(nn.Module):
    """f(x) = ½ Σ w·x² per sample, so ∇ₓf = w·x: a gradient that depends on where it is taken."""

    def __init__(self, w: float = 1.0):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))
        self.inputs = []

    def forward(self, x):
        self.inputs.append(x.detach().clone())
        return 0.5 * (self.w * x.square()).flatten(1).sum(1)


class Linear(nn.Module):
    """f(x) = <v, x>: the gradient is v everywhere."""

    def __init__(self, v):
        super().__init__()
        self.v = nn.Parameter(v)

    def forward(self, x):
        return (x * self.v).flatten(1).sum(1)


def expected_penalty(real, fake, alpha, w=1.0, weight=10.0):
    x_hat = alpha * real + (1 - alpha) * fake
    norms = (w * x_hat).flatten(1).norm(dim=1)
    return weight * ((norms - 1) ** 2).mean()


# ------------------------------------------------------------------ alpha and interpolates


def test_alpha_is_one_value_per_sample(ex, device):
    images = torch.randn(6, 3, 4, 4, device=device)
    alpha = ex.random_alpha(images)
    assert tuple(alpha.shape) == (6, 1, 1, 1), (
        f"expected alpha of shape (6, 1, 1, 1), one value per sample, got {tuple(alpha.shape)}"
        + (
            ": a per-pixel alpha leaves the segment between a real and a fake image"
            if alpha.shape == images.shape
            else ""
        )
    )
    assert tuple(ex.random_alpha(torch.randn(5, 2)).shape) == (5, 1), "for points (B, 2) alpha is (B, 1)"
    assert alpha.device.type == device.type, f"alpha must be on {device}"


def test_alpha_is_uniform_and_uses_the_generator(ex):
    big = ex.random_alpha(torch.zeros(20_000, 1, 1, 1)).flatten()
    assert 0 <= big.min() and big.max() < 1 and abs(big.mean().item() - 0.5) < 0.01, (
        "alpha ~ U[0, 1): use torch.rand"
    )
    got = ex.random_alpha(torch.zeros(4, 1, 2, 2), generator=torch.Generator().manual_seed(3))
    assert torch.equal(
        got.flatten(), torch.rand(4, 1, 1, 1, generator=torch.Generator().manual_seed(3)).flatten()
    ), "expected torch.rand((B, 1, 1, 1), generator=generator): pass the generator on"


def test_interpolates_lie_between_real_and_fake_and_need_a_gradient(ex):
    real, alpha = torch.ones(3, 1, 2, 2), torch.tensor([0.0, 0.25, 1.0]).reshape(3, 1, 1, 1)
    G = nn.Linear(1, 1)
    fake = G(torch.zeros(3, 1, 2, 2, 1)).squeeze(-1) * 0 - 1  # -1 everywhere, attached to G's graph
    x_hat = ex.interpolates(real, fake, alpha)
    assert torch.allclose(x_hat[:, 0, 0, 0], torch.tensor([-1.0, -0.5, 1.0])), (
        f"x̂ = αx + (1-α)x̃ with α = 0, 0.25, 1 gives -1, -0.5, 1; got {x_hat[:, 0, 0, 0].tolist()}"
    )
    assert x_hat.requires_grad and x_hat.is_leaf, (
        "x̂ must be a fresh leaf with requires_grad=True: detach real and fake first, then requires_grad_()"
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_alpha_keeps_the_dtype_of_the_samples(ex, dtype):
    alpha = ex.random_alpha(torch.zeros(3, 1, 2, 2, dtype=dtype))
    assert alpha.dtype == dtype, (
        f"samples in {dtype} need alpha in {dtype}, got {alpha.dtype}: pass dtype=real.dtype to torch.rand"
    )


# ------------------------------------------------------------------ gradient norms


def test_gradient_norms_are_one_per_sample_over_all_dimensions(ex):
    x = torch.randn(5, 2, 3, 3, requires_grad=True)
    norms = ex.critic_gradient_norms(Quadratic(w=2.0), x)
    expected = (2.0 * x.detach()).flatten(1).norm(dim=1)
    assert tuple(norms.shape) == (5,), f"expected one norm per sample, shape (5,), got {tuple(norms.shape)}"
    assert torch.allclose(norms, expected, rtol=1e-5), (
        f"for f(x) = ½·2·Σx², ∇f = 2x: expected the norms {expected.tolist()}, got {norms.tolist()} "
        "(the norm runs over all of C·H·W of each sample)"
    )


def test_gradient_norms_keep_their_graph_to_the_critic_weights(ex):
    x = torch.randn(4, 1, 2, 2, requires_grad=True)
    critic = Quadratic(w=1.5)
    norms = ex.critic_gradient_norms(critic, x)
    assert norms.grad_fn is not None, (
        "the norms have no graph: take the input gradient with create_graph=True so a loss built on them "
        "can train the critic"
    )
    norms.sum().backward()
    expected = x.detach().flatten(1).norm(dim=1).sum()  # d/dw Σ‖w·x‖ = Σ‖x‖
    assert critic.w.grad is not None and torch.allclose(critic.w.grad, expected, rtol=1e-4), (
        f"d Σ‖∇f‖ / dw should be Σ‖x‖ = {expected.item():.4f}, got {critic.w.grad}"
    )


# ------------------------------------------------------------------ the penalty


def test_penalty_matches_the_closed_form_with_the_norm_over_c_h_w(ex, device):
    real, fake = torch.randn(4, 2, 3, 3, device=device), torch.randn(4, 2, 3, 3, device=device)
    alpha = torch.rand(4, 1, 1, 1, device=device)
    got = ex.gradient_penalty(Quadratic().to(device), real, fake, alpha=alpha)
    want = expected_penalty(real, fake, alpha)
    x_hat = alpha * real + (1 - alpha) * fake
    wrong_dim = 10 * ((x_hat.norm(dim=1) - 1) ** 2).mean()
    whole_batch = 10 * (x_hat.norm() - 1) ** 2
    assert got.dim() == 0, f"expected a scalar, got shape {tuple(got.shape)}"
    assert torch.allclose(got, want, rtol=1e-4), (
        f"expected λ·mean((‖∇f(x̂)‖ - 1)²) = {want.item():.4f}, got {got.item():.4f}"
        + (
            ": the norm must be over all of C·H·W per sample (flatten(1)), not over one axis"
            if torch.allclose(got, wrong_dim, rtol=1e-4)
            else ""
        )
        + (
            ": one norm per sample, not one over the whole batch"
            if torch.allclose(got, whole_batch, rtol=1e-4)
            else ""
        )
    )


def test_penalty_is_taken_at_the_interpolates_not_at_the_reals(ex):
    real, fake = torch.full((3, 1, 2, 2), 2.0), torch.zeros(3, 1, 2, 2)
    alpha = torch.tensor([0.0, 0.5, 1.0]).reshape(3, 1, 1, 1)
    critic = Quadratic()
    ex.gradient_penalty(critic, real, fake, alpha=alpha)
    assert critic.inputs, "the critic was never called"
    seen = critic.inputs[-1]
    assert torch.allclose(seen[:, 0, 0, 0], torch.tensor([0.0, 1.0, 2.0])), (
        f"the critic must be evaluated at x̂ = αx + (1-α)x̃ (here 0, 1, 2), got inputs {seen[:, 0, 0, 0].tolist()}"
        + (" — those are the real samples" if torch.allclose(seen, real) else "")
    )


def test_penalty_draws_one_alpha_per_sample_when_none_is_given(ex):
    fake = torch.randn(64, 3, 4, 4)
    real = fake + (1 + torch.rand(64, 3, 4, 4)) * torch.randn(64, 3, 4, 4).sign()  # |real - fake| >= 1
    critic = Quadratic()
    ex.gradient_penalty(critic, real, fake)
    ratio = (critic.inputs[-1] - fake) / (real - fake)  # = α, elementwise
    spread = (ratio.flatten(1).max(1).values - ratio.flatten(1).min(1).values).max().item()
    assert spread < 1e-4, (
        "each x̂ must use one α for all its pixels (per-sample α, shape (B, 1, 1, 1)), not one per pixel"
    )
    assert ratio.flatten(1)[:, 0].std() > 0.1, "different samples should get different α"


def test_penalty_is_zero_for_a_1_lipschitz_linear_critic_and_lambda_times_4_at_norm_3(ex):
    real, fake = torch.randn(5, 1, 3, 3), torch.randn(5, 1, 3, 3)
    v = torch.randn(1, 3, 3)
    for scale, want in [(1.0, 0.0), (3.0, 40.0)]:
        got = ex.gradient_penalty(Linear(v / v.norm() * scale), real, fake).item()
        assert abs(got - want) < 1e-3, (
            f"a linear critic with ‖∇f‖ = {scale:g} gives λ(‖∇f‖ - 1)² = {want:g}, got {got:.4f}"
        )


@pytest.mark.parametrize(("scale", "want"), [(0.5, 2.5), (0.0, 10.0)])
def test_penalty_is_two_sided_and_punishes_norms_below_one(ex, scale, want):
    real, fake = torch.randn(5, 1, 3, 3), torch.randn(5, 1, 3, 3)
    v = torch.randn(1, 3, 3)
    got = ex.gradient_penalty(Linear(v / v.norm() * scale), real, fake).item()
    assert abs(got - want) < 1e-3, (
        f"a linear critic with ‖∇f‖ = {scale:g} gives λ(‖∇f‖ - 1)² = {want:g}, got {got:.4f}"
        + (": norms below 1 must be penalised too, (‖g‖ - 1)², not relu(‖g‖ - 1)²" if abs(got) < 1e-6 else "")
    )


def test_penalty_is_scaled_by_the_weight(ex):
    real, fake = torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3)
    alpha = torch.rand(4, 1, 1, 1)
    got = ex.gradient_penalty(Quadratic(), real, fake, weight=3.0, alpha=alpha)
    want = expected_penalty(real, fake, alpha, weight=3.0)
    assert torch.allclose(got, want, rtol=1e-4), (
        f"with weight λ = 3 expected {want.item():.4f}, got {got.item():.4f}"
    )


def test_penalty_is_computed_in_the_samples_dtype(ex):
    real, fake = torch.randn(4, 2, 3, 3, dtype=torch.float64), torch.randn(4, 2, 3, 3, dtype=torch.float64)
    got = ex.gradient_penalty(Quadratic().double(), real, fake)
    assert got.dtype == torch.float64, f"float64 samples should give a float64 penalty, got {got.dtype}"


def test_penalty_sends_no_gradient_into_the_generator(ex):
    G = nn.Linear(3, 9)
    fake = G(torch.randn(4, 3)).reshape(4, 1, 3, 3)
    ex.gradient_penalty(Quadratic(), torch.randn(4, 1, 3, 3), fake).backward()
    assert G.weight.grad is None, (
        "the penalty reached the generator's weights: detach the fakes in interpolates"
    )


def test_penalty_gradient_reaches_the_critic_weights(ex):
    real, fake = torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3)
    alpha = torch.rand(4, 1, 1, 1)
    critic = Quadratic(w=1.7)
    penalty = ex.gradient_penalty(critic, real, fake, alpha=alpha)  # outside the try: a stub's error stays
    if penalty.grad_fn is None:
        pytest.fail(
            "the penalty has no graph back to the critic's weights, so backward() cannot train the critic: "
            "call torch.autograd.grad(..., create_graph=True)"
        )
    try:
        penalty.backward()
    except RuntimeError as e:
        pytest.fail(
            f"backward through the penalty failed ({e}): call torch.autograd.grad with create_graph=True"
        )
    w = torch.tensor(1.7, requires_grad=True)
    x_hat = alpha * real + (1 - alpha) * fake
    expected = 10 * (((w * x_hat).flatten(1).norm(dim=1) - 1) ** 2).mean()
    expected.backward()
    assert critic.w.grad is not None and critic.w.grad.abs() > 0, (
        "the critic's weight got no gradient from the penalty: keep the graph of the input gradient "
        "(torch.autograd.grad(..., create_graph=True)) so the penalty trains the critic"
    )
    assert torch.allclose(critic.w.grad, w.grad, rtol=1e-4), (
        f"d(penalty)/dw should be {w.grad.item():.4f}, got {critic.w.grad.item():.4f}: "
        "the penalty's value or graph is off (see the closed-form test above)"
    )


# ------------------------------------------------------------------ the training step


class Draws:
    """A callable that returns batches of a fixed shape from its own seeded generator, and counts calls."""

    def __init__(self, shape, seed):
        self.shape, self.generator, self.calls = shape, torch.Generator().manual_seed(seed), []

    def __call__(self):
        batch = torch.randn(self.shape, generator=self.generator)
        self.calls.append(batch)
        return batch


def tiny_pair():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 6), nn.Tanh())
    D = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
    return G, D


def reference_penalty(D, real, fake, weight):
    alpha = torch.rand(real.shape[0], 1)
    x_hat = (alpha * real + (1 - alpha) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return weight * ((grad.norm(dim=1) - 1) ** 2).mean()


def reference_step(G, D, opt_g, opt_d, sample_real, sample_z, n_critic, gp_weight):
    for _ in range(n_critic):
        real, z = sample_real(), sample_z()
        fake = G(z).detach()
        wasserstein = D(real).mean() - D(fake).mean()
        gp = reference_penalty(D, real, fake, gp_weight)
        loss_d = gp - wasserstein
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
    loss_g = -D(G(sample_z())).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return {
        "loss_d": loss_d.item(),
        "gp": gp.item(),
        "wasserstein": wasserstein.item(),
        "loss_g": loss_g.item(),
    }


def run_steps(step, calls=2, n_critic=3, gp_weight=2.0, lr=0.2, on_d_step=None):
    """``calls`` training steps of a tiny pair at fixed seeds; returns the nets, optimizers, draws and logs."""
    G, D = tiny_pair()
    opt_g = CountingSGD(G.parameters(), lr)
    opt_d = CountingSGD(D.parameters(), lr, on_step=on_d_step(G) if on_d_step else None)
    sample_real, sample_z = Draws((8, 6), 1), Draws((8, 4), 2)
    torch.manual_seed(5)
    logs, weights = [], []
    for _ in range(calls):
        logs.append(step(G, D, opt_g, opt_d, sample_real, sample_z, n_critic=n_critic, gp_weight=gp_weight))
        weights.append((copy.deepcopy(G.state_dict()), copy.deepcopy(D.state_dict())))
    return {
        "G": G,
        "D": D,
        "opt_g": opt_g,
        "opt_d": opt_d,
        "real": sample_real,
        "z": sample_z,
        "logs": logs,
        "weights": weights,
    }


def test_train_step_returns_python_floats(ex):
    logs = run_steps(ex.train_step, calls=1)["logs"][0]
    assert set(logs) == {"loss_d", "gp", "wasserstein", "loss_g"}, (
        f"expected the keys loss_d, gp, wasserstein, loss_g, got {sorted(logs)}"
    )
    bad = {k: type(v).__name__ for k, v in logs.items() if type(v) is not float}
    assert not bad, (
        f"every value must be a Python float (use .item()); got {bad}: a tensor keeps its whole graph alive"
    )


def test_train_step_runs_n_critic_critic_steps_and_one_generator_step(ex):
    run = run_steps(ex.train_step, calls=2, n_critic=3)
    assert (run["opt_d"].steps, run["opt_g"].steps) == (6, 2), (
        f"two calls with n_critic = 3 should step opt_d 6 times and opt_g twice, "
        f"got {run['opt_d'].steps} and {run['opt_g'].steps}"
    )
    assert (len(run["real"].calls), len(run["z"].calls)) == (6, 8), (
        f"each call draws one real batch per critic step (3) and codes per critic step plus fresh ones for G (4); "
        f"two calls drew {len(run['real'].calls)} real batches and {len(run['z'].calls)} codes"
    )


def test_train_step_uses_your_gradient_penalty_on_each_critic_step(ex, monkeypatch):
    seen = []
    own = ex.gradient_penalty

    def spy(critic, real, fake, *args, **kwargs):
        seen.append((critic, real, fake))
        return own(critic, real, fake, *args, **kwargs)

    monkeypatch.setattr(ex, "gradient_penalty", spy)
    run = run_steps(ex.train_step, calls=1, n_critic=3)
    assert len(seen) == 3, (
        f"gradient_penalty should be called once per critic step (3 times), was called {len(seen)} times: "
        "the step must use the module's gradient_penalty, not a copy of it"
    )
    for (critic, real, fake), drawn in zip(seen, run["real"].calls, strict=True):
        assert critic is run["D"], "the penalty must be taken of the critic D"
        assert torch.equal(real, drawn), "the penalty must use this critic step's real batch"
        assert fake.shape == real.shape, "the penalty needs this step's fakes G(z)"


def test_train_step_keeps_the_critic_loss_out_of_the_generator(ex):
    leaks = []

    def check(G):
        return lambda: leaks.extend(
            p.grad is not None and p.grad.abs().sum().item() > 0 for p in G.parameters()
        )

    run_steps(ex.train_step, calls=1, n_critic=2, on_d_step=check)
    assert leaks and not any(leaks), (
        "G's weights had gradients when opt_d stepped: the critic's loss reached the generator "
        "(make the fakes for the critic without a graph into G)"
    )


@pytest.mark.parametrize("call", [0, 1])
def test_train_step_updates_the_critic_like_the_reference(ex, call):
    got, want = run_steps(ex.train_step), run_steps(reference_step)
    gap = max_gap(got["weights"][call][1], want["weights"][call][1])
    assert gap < 1e-5, (
        f"after call {call + 1} the critic's weights differ from the reference by up to {gap:.3g}: each critic step "
        "minimises -(E[D(x)] - E[D(G(z))]) + gradient_penalty(D, x, G(z), weight=gp_weight) from zeroed gradients"
        + (" (the first call matched: gradients are not zeroed between steps?)" if call == 1 else "")
    )
    for key in ("loss_d", "gp", "wasserstein"):
        assert abs(got["logs"][call][key] - want["logs"][call][key]) < 1e-5, (
            f"call {call + 1}: expected {key} = {want['logs'][call][key]:.5f} (of the last critic step), "
            f"got {got['logs'][call][key]:.5f}"
        )


@pytest.mark.parametrize("call", [0, 1])
def test_train_step_updates_the_generator_like_the_reference(ex, call):
    got, want = run_steps(ex.train_step), run_steps(reference_step)
    gap = max_gap(got["weights"][call][0], want["weights"][call][0])
    assert gap < 1e-5, (
        f"after call {call + 1} G's weights differ from the reference by up to {gap:.3g}: one step on "
        "-E[D(G(z'))] with fresh codes z', through the updated critic, from zeroed gradients"
    )
    assert abs(got["logs"][call]["loss_g"] - want["logs"][call]["loss_g"]) < 1e-5, (
        f"call {call + 1}: expected loss_g = {want['logs'][call]['loss_g']:.5f}, got {got['logs'][call]['loss_g']:.5f}"
    )
