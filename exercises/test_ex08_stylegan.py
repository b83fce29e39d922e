"""Autograder for chapter 8 (exercises/ex08_stylegan.py)."""

import torch
import torch.nn.functional as F
from conftest import exercise_fixture

ex = exercise_fixture("ex08_stylegan")


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
