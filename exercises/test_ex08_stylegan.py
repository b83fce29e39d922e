"""Autograder for chapter 8 (exercises/ex08_stylegan.py)."""

import copy

import pytest
import torch
import torch.nn.functional as F
from conftest import CountingSGD, exercise_fixture, max_gap
from torch import nn

ex = exercise_fixture("ex08_stylegan")

# Points per test (each case of a parametrised test earns them); every other test earns 1.
POINTS = {
    "test_r1_is_half_gamma_times_the_mean_squared_gradient_norm": 2,
    "test_train_step_matches_the_reference_step_by_step": 2,
}


# ------------------------------------------------------------------------ AdaIN


def test_adain_gives_each_channel_the_style_statistics(ex, device):
    x = torch.randn(3, 4, 8, 8, device=device) * 5 + 2
    scale = torch.rand(3, 4, device=device) + 0.5
    bias = torch.randn(3, 4, device=device)
    y = ex.adain(x, scale, bias)
    assert y.shape == x.shape, f"expected {tuple(x.shape)}, got {tuple(y.shape)}"
    mean, std = y.mean(dim=(2, 3)), y.std(dim=(2, 3), unbiased=False)
    assert torch.allclose(mean, bias, atol=1e-4), (
        "after AdaIN each channel of each sample should have the style's bias as its mean "
        f"(largest error {float((mean - bias).abs().max()):.3g}): normalise per sample and channel, over H and W"
    )
    assert torch.allclose(std, scale, atol=1e-3), (
        "after AdaIN each channel should have the style's scale as its standard deviation "
        f"(largest error {float((std - scale).abs().max()):.3g})"
    )


def test_adain_normalises_each_sample_on_its_own(ex):
    x = torch.randn(2, 1, 4, 4)
    x[1] = x[1] * 100 + 50  # a batch statistic would let sample 1 change sample 0
    ones, zeros = torch.ones(2, 1), torch.zeros(2, 1)
    y = ex.adain(x, ones, zeros)
    y0 = ex.adain(x[:1], ones[:1], zeros[:1])
    assert torch.allclose(y[:1], y0, atol=1e-5), (
        "sample 0's output changed when sample 1 changed: use instance statistics (dims 2, 3), not batch statistics"
    )


def test_adain_matches_the_formula_on_a_low_variance_channel(ex):
    x = torch.randn(2, 3, 4, 4)
    x[:, 1] *= 1e-3  # variance 1e-6, below eps: where eps sits matters
    scale, bias = torch.rand(2, 3) + 0.5, torch.randn(2, 3)
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(2, 3), keepdim=True)
    want = scale[:, :, None, None] * (x - mean) / torch.sqrt(var + 1e-5) + bias[:, :, None, None]
    got = ex.adain(x, scale, bias)
    assert torch.allclose(got, want, atol=1e-5), (
        f"expected y_s (x - μ) / sqrt(σ² + ε) + y_b (largest error {(got - want).abs().max().item():.3g}): "
        "the biased variance over H·W, ε inside the square root"
    )


def test_adain_of_a_constant_channel_is_the_bias_with_finite_gradient(ex):
    x = torch.randn(2, 2, 4, 4)
    x[:, 0] = 3.0  # a constant channel: σ² = 0
    x.requires_grad_(True)
    scale, bias = torch.ones(2, 2), torch.full((2, 2), 0.5)
    y = ex.adain(x, scale, bias)
    assert torch.isfinite(y).all() and torch.allclose(y[:, 0], torch.full((2, 4, 4), 0.5)), (
        "a constant channel normalises to 0 and comes out as the style's bias (0.5 here), not NaN: "
        "keep ε inside the square root, sqrt(σ² + ε)"
    )
    (y * torch.randn_like(y)).sum().backward()
    assert torch.isfinite(x.grad).all(), (
        "the gradient through a constant channel is NaN: the derivative of std() at 0 is infinite; "
        "use sqrt(var + eps) instead of std() + eps"
    )


# ------------------------------------------------------------ modulated convolution


def test_demodulated_outputs_have_unit_variance(ex, device):
    torch.manual_seed(1)
    x = torch.randn(8, 16, 16, 16, device=device)
    weight = torch.randn(12, 16, 3, 3, device=device) * 3.0
    styles = torch.rand(8, 16, device=device) * 4 + 0.1
    y = ex.modulated_conv2d(x, weight, styles, demodulate=True, padding=1)
    assert y.shape == (8, 12, 16, 16), f"expected (B, O, H, W) = (8, 12, 16, 16), got {tuple(y.shape)}"
    std = y[:, :, 1:-1, 1:-1].std(dim=(0, 2, 3))  # away from the zero padding
    assert torch.allclose(std, torch.ones_like(std), atol=0.1), (
        f"with demodulation each output channel should have standard deviation ~1, got {std.min():.3f}-{std.max():.3f}: "
        "divide each sample's weights by sqrt(sum over input channels and kernel of w'^2 + 1e-8)"
    )


def test_modulated_conv_matches_the_per_sample_definition(ex, device):
    x = torch.randn(3, 5, 6, 6, device=device)
    weight = torch.randn(4, 5, 3, 3, device=device)
    styles = torch.randn(3, 5, device=device)
    for demodulate in (False, True):
        y = ex.modulated_conv2d(x, weight, styles, demodulate=demodulate, padding=1)
        for b in range(3):
            w = weight * styles[b][None, :, None, None]
            if demodulate:
                w = w / torch.sqrt(w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
            expected = F.conv2d(x[b : b + 1], w, padding=1)
            assert torch.allclose(y[b : b + 1], expected, atol=1e-4), (
                f"sample {b} (demodulate={demodulate}) differs from conv2d with weights w * s[b] "
                "scaled over the input channels (dim 1 of the weight): each sample uses its own styles"
            )


def test_modulation_without_demodulation_scales_input_channels(ex):
    x = torch.randn(2, 3, 5, 5)
    weight = torch.randn(2, 3, 1, 1)
    styles = torch.tensor([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    y = ex.modulated_conv2d(x, weight, styles, demodulate=False, padding=0)
    plain = F.conv2d(x, weight)
    assert torch.allclose(y[0], plain[0], atol=1e-5) and torch.allclose(y[1], 2 * plain[1], atol=1e-5), (
        "styles of 1 should give a plain convolution and styles of 2 twice it, when demodulate=False"
    )


def test_an_all_zero_style_gives_a_zero_output_not_nan(ex):
    x = torch.randn(2, 3, 5, 5)
    weight = torch.randn(4, 3, 3, 3)
    styles = torch.randn(2, 3)
    styles[1] = 0.0
    y = ex.modulated_conv2d(x, weight, styles, demodulate=True, padding=1)
    assert torch.isfinite(y).all(), (
        "an all-zero style made NaN: add 1e-8 inside the square root of demodulation"
    )
    assert torch.equal(y[1], torch.zeros_like(y[1])), (
        "an all-zero style zeroes the weights, and so the output"
    )


# --------------------------------------------------------------------- truncation


def test_truncation_psi_one_is_identity_and_zero_is_the_average(ex, device):
    w = torch.randn(5, 8, device=device)
    w_avg = torch.randn(8, device=device)
    assert torch.allclose(ex.truncate(w, w_avg, 1.0), w), "ψ = 1 must leave w unchanged"
    zero = ex.truncate(w, w_avg, 0.0)
    assert zero.shape == (5, 8), f"expected (B, w_dim) = (5, 8), got {tuple(zero.shape)}"
    assert torch.allclose(zero, w_avg.expand(5, 8)), "ψ = 0 must give the average w̄ for every sample"


def test_truncation_interpolates_towards_the_average(ex):
    w, w_avg = torch.tensor([[4.0, 0.0]]), torch.tensor([2.0, 2.0])
    out = ex.truncate(w, w_avg, 0.5)
    assert torch.allclose(out, torch.tensor([[3.0, 1.0]])), (
        f"w̄ + ψ(w − w̄) with w = (4, 0), w̄ = (2, 2), ψ = 0.5 is (3, 1), got {out.tolist()}"
    )
    assert torch.allclose(ex.truncate(w, w_avg, -1.0), torch.tensor([[0.0, 4.0]])), "ψ = -1 mirrors w about w̄"


# ------------------------------------------------------------------- style mixing


def test_style_mixing_switches_latent_at_the_crossover(ex, device):
    w1, w2 = torch.zeros(2, 3, device=device), torch.ones(2, 3, device=device)
    ws = ex.mix_styles(w1, w2, crossover=2, num_ws=7)
    assert ws.shape == (2, 7, 3), f"expected (B, num_ws, w_dim) = (2, 7, 3), got {tuple(ws.shape)}"
    per_layer = ws[0, :, 0].tolist()
    assert per_layer == [0, 0, 1, 1, 1, 1, 1], (
        f"layers 0-1 should read w1 (0) and layers 2-6 w2 (1), got {per_layer}"
    )


def test_style_mixing_extremes(ex):
    w1, w2 = torch.randn(3, 4), torch.randn(3, 4)
    assert torch.equal(ex.mix_styles(w1, w2, 0, 5), w2[:, None].expand(3, 5, 4)), (
        "crossover 0: every layer reads w2"
    )
    assert torch.equal(ex.mix_styles(w1, w2, 5, 5), w1[:, None].expand(3, 5, 4)), (
        "crossover num_ws: every layer reads w1"
    )


def test_style_mixing_keeps_samples_apart(ex):
    w1, w2 = torch.arange(4.0).reshape(2, 2), -torch.arange(4.0).reshape(2, 2)
    ws = ex.mix_styles(w1, w2, 1, 3)
    assert torch.equal(ws[1, 0], w1[1]) and torch.equal(ws[1, 2], w2[1]), (
        "sample b must take its own rows w1[b] and w2[b]"
    )


# -------------------------------------------------------------------------- w̄


def test_w_avg_moves_towards_the_batch_mean_and_carries_no_gradient(ex):
    w_avg = torch.zeros(3)
    w = torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], requires_grad=True)
    new = ex.update_w_avg(w_avg, w, beta=0.9)
    assert torch.allclose(new, torch.tensor([0.2, 0.2, 0.2])), (
        f"β·w̄ + (1 − β)·mean(w) = 0.9·0 + 0.1·(2, 2, 2) = (0.2, 0.2, 0.2), got {new.tolist()}"
    )
    assert not new.requires_grad, "w̄ is a statistic, not part of the graph: detach it"


def test_w_avg_keeps_one_average_per_coordinate(ex):
    w = torch.tensor([[1.0, 0.0, 4.0], [3.0, 0.0, 8.0]])  # column means (2, 0, 6), overall mean 8/3
    new = ex.update_w_avg(torch.zeros(3), w, beta=0.5)
    assert torch.allclose(new, torch.tensor([1.0, 0.0, 3.0])), (
        f"0.5·0 + 0.5·(2, 0, 6) = (1, 0, 3), got {new.tolist()}: average over the batch (dim 0) only"
    )


# ---------------------------------------------------------------------------- R1


class Quadratic(nn.Module):
    """D(x) = ½ w Σ x² per sample, so ∇ₓD = w·x."""

    def __init__(self, w=1.0):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x):
        return 0.5 * (self.w * x.square()).flatten(1).sum(1)


def test_r1_is_half_gamma_times_the_mean_squared_gradient_norm(ex):
    real = torch.randn(4, 2, 3, 3)
    got = ex.r1_penalty(Quadratic(w=2.0), real, gamma=3.0)
    want = 1.5 * (2.0 * real).flatten(1).square().sum(1).mean()
    assert got.dim() == 0 and torch.allclose(got, want, rtol=1e-5), (
        f"γ/2 · mean over the batch of ‖∇D(x)‖² (squared, over all of C·H·W) = {want.item():.4f}, "
        f"got {got.item():.4f}"
    )


def test_r1_trains_d_and_leaves_the_batch_alone(ex):
    real = torch.randn(4, 1, 3, 3)
    D = Quadratic(w=1.5)
    penalty = ex.r1_penalty(D, real, gamma=2.0)
    assert not real.requires_grad, (
        "r1_penalty changed the caller's batch to require a gradient: use a detached copy"
    )
    assert penalty.grad_fn is not None, (
        "the penalty has no graph to D's weights: take the input gradient with create_graph=True"
    )
    penalty.backward()
    want = 2.0 * 1.5 * real.flatten(1).square().sum(1).mean()  # d/dw (γ/2) w² Σx² = γ w Σx²
    assert D.w.grad is not None and torch.allclose(D.w.grad, want, rtol=1e-5), (
        f"d R1 / dw should be {want.item():.4f}, got {D.w.grad}"
    )


# ---------------------------------------------------------------------------- the training step


class TinyStyleGenerator(nn.Module):
    """mapping: z (B, 4) → w (B, 3); synthesis: ws (B, 3 layers, 3) → images (B, 6), each layer its own weights."""

    num_ws = 3

    def __init__(self):
        super().__init__()
        self.mapping = nn.Linear(4, 3)
        self.layers = nn.ModuleList(nn.Linear(3, 6) for _ in range(self.num_ws))

    def synthesis(self, ws):
        return torch.tanh(sum(layer(ws[:, i]) for i, layer in enumerate(self.layers)))


def tiny_pair():
    torch.manual_seed(0)
    D = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
    return TinyStyleGenerator(), D


def reference_step(G, D, opt_g, opt_d, real, z, z_mix, crossover, step, r1_gamma, r1_every):
    w, w_mix = G.mapping(z), G.mapping(z_mix)
    layer = torch.arange(G.num_ws)[None, :, None]
    fake = G.synthesis(torch.where(layer < crossover, w[:, None], w_mix[:, None]))
    loss_d = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
    total, r1 = loss_d, 0.0
    if step % r1_every == 0:
        x = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
        penalty = r1_gamma / 2 * grad.square().sum(1).mean()
        total, r1 = loss_d + r1_every * penalty, penalty.item()
    opt_d.zero_grad()
    total.backward()
    opt_d.step()
    loss_g = F.softplus(-D(fake)).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "r1": r1, "loss_g": loss_g.item()}


def run_steps(step_fn, steps=4, r1_every=2, crossovers=(1, 2, 3, 1), on_d_step=None):
    G, D = tiny_pair()
    opt_g = CountingSGD(G.parameters(), 0.3)
    opt_d = CountingSGD(D.parameters(), 0.3, on_step=on_d_step(G) if on_d_step else None)
    draws = torch.Generator().manual_seed(1)
    logs, weights = [], []
    for step in range(steps):
        real = torch.randn(8, 6, generator=draws) * 1.5
        z, z_mix = torch.randn(8, 4, generator=draws), torch.randn(8, 4, generator=draws)
        logs.append(step_fn(G, D, opt_g, opt_d, real, z, z_mix, crossovers[step], step, 4.0, r1_every))
        weights.append((copy.deepcopy(G.state_dict()), copy.deepcopy(D.state_dict())))
    return {"G": G, "D": D, "opt_g": opt_g, "opt_d": opt_d, "logs": logs, "weights": weights}


def test_train_step_returns_python_floats(ex):
    logs = run_steps(ex.train_step, steps=1)["logs"][0]
    assert set(logs) == {"loss_d", "r1", "loss_g"}, (
        f"expected the keys loss_d, r1, loss_g, got {sorted(logs)}"
    )
    bad = {k: type(v).__name__ for k, v in logs.items() if type(v) is not float}
    assert not bad, f"every value must be a Python float (.item()), got {bad}: a tensor keeps its graph alive"


def test_train_step_runs_r1_lazily_on_multiples_of_k(ex, monkeypatch):
    calls = []
    own = ex.r1_penalty

    def spy(D, real, *args, **kwargs):
        calls.append(real.detach().clone())
        return own(D, real, *args, **kwargs)

    monkeypatch.setattr(ex, "r1_penalty", spy)
    run = run_steps(ex.train_step, steps=4, r1_every=2)
    logs = run["logs"]
    assert len(calls) == 2, (
        f"with r1_every = 2, steps 0-3 should call r1_penalty on steps 0 and 2 only (2 calls), got {len(calls)}: "
        "use the module's r1_penalty, when step % r1_every == 0"
    )
    assert logs[1]["r1"] == 0.0 and logs[3]["r1"] == 0.0 and logs[0]["r1"] > 0 and logs[2]["r1"] > 0, (
        f"r1 should be logged on steps 0 and 2 and be 0.0 on steps 1 and 3, got {[entry['r1'] for entry in logs]}"
    )


def test_train_step_keeps_d_loss_out_of_the_generator(ex):
    leaks = []

    def check(G):
        return lambda: leaks.extend(
            p.grad is not None and p.grad.abs().sum().item() > 0 for p in G.parameters()
        )

    run_steps(ex.train_step, steps=1, on_d_step=check)
    assert leaks and not any(leaks), (
        "G's weights had gradients when opt_d stepped: detach the fakes for D's step"
    )


@pytest.mark.parametrize("step", [0, 1, 2, 3])
def test_train_step_matches_the_reference_step_by_step(ex, step):
    got, want = run_steps(ex.train_step), run_steps(reference_step)
    hints = {
        0: "step 0 regularises: L_D + k·R1, R1 = γ/2·E‖∇D(x)‖² at the reals",
        1: "step 1 does not regularise (1 % 2 ≠ 0); if step 0 matched, are gradients zeroed before each backward?",
        2: "step 2 regularises again, scaled by k = 2",
        3: "step 3 mixes with crossover 1",
    }
    for name, index in (("D", 1), ("G", 0)):
        gap = max_gap(got["weights"][step][index], want["weights"][step][index])
        assert gap < 1e-5, (
            f"after step {step} {name}'s weights differ from the reference by up to {gap:.3g} ({hints[step]}). "
            "Fakes from mix_styles(mapping(z), mapping(z_mix), crossover); D: logistic loss, fakes detached; "
            "G: softplus(-D(fake)) through the updated D"
        )
    for key in ("loss_d", "r1", "loss_g"):
        assert abs(got["logs"][step][key] - want["logs"][step][key]) < 1e-5, (
            f"step {step}: expected {key} = {want['logs'][step][key]:.5f}, got {got['logs'][step][key]:.5f}"
        )
