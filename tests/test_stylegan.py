"""StyleGAN: modulation and demodulation, truncation, style mixing, w̄, lazy R1, sampling and export."""

import pytest
import torch
import torch.nn.functional as F

from ganedu.models import RunConfig, build
from ganedu.models.stylegan import lazy_adam
from ganedu.nets.stylegan import Generator, MappingNetwork, mix_styles, modulated_conv2d, truncate
from ganedu.penalties import R1Penalty

TINY = {"z_dim": 16, "w_dim": 16, "cbase": 64, "cmax": 16}


def test_modulated_conv_equals_a_convolution_with_per_sample_weights():
    torch.manual_seed(0)
    x, weight, styles = torch.randn(3, 4, 6, 6), torch.randn(5, 4, 3, 3), torch.rand(3, 4) + 0.5
    out = modulated_conv2d(x, weight, styles, demodulate=True, padding=1)
    for b in range(3):
        w = weight * styles[b][None, :, None, None]  # w'_ijk = s_i w_ijk
        w = w / w.square().sum(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt()  # demodulate per output j
        torch.testing.assert_close(out[b : b + 1], F.conv2d(x[b : b + 1], w, padding=1), rtol=1e-4, atol=1e-5)


def test_demodulated_output_has_unit_variance_for_unit_variance_input():
    torch.manual_seed(0)
    x = torch.randn(64, 32, 16, 16)
    out = modulated_conv2d(x, torch.randn(8, 32, 3, 3), torch.rand(64, 32) * 3, padding=1)
    assert out[..., 1:-1, 1:-1].var().item() == pytest.approx(1.0, rel=0.05)


def test_truncation_and_style_mixing():
    w, w_avg = torch.randn(4, 8), torch.randn(8)
    torch.testing.assert_close(truncate(w, w_avg, 1.0), w)
    torch.testing.assert_close(truncate(w, w_avg, 0.0), w_avg.expand(4, 8))
    torch.testing.assert_close(truncate(w, w_avg, 0.5), (w + w_avg) / 2)
    w1, w2 = torch.zeros(2, 3), torch.ones(2, 3)
    mixed = mix_styles(w1, w2, torch.tensor([1, 7]), num_ws=7)
    assert mixed.shape == (2, 7, 3)
    assert mixed[0, 0].sum() == 0 and mixed[0, 1:].min() == 1  # sample 0 switches at layer 1
    assert mixed[1].max() == 0  # crossover = num_ws: no mixing


def test_w_avg_tracks_training_batches_only():
    mapping = MappingNetwork(8, 8, 2)
    mapping.eval()(torch.randn(16, 8))
    assert mapping.w_avg.abs().sum() == 0
    mapping.train()(torch.randn(16, 8))
    assert mapping.w_avg.abs().sum() > 0 and not mapping.w_avg.requires_grad


def test_truncation_zero_gives_one_image_for_every_z():
    torch.manual_seed(0)
    G = Generator(16, 16, 1, 32, 2, 64, 16)
    G.train()(torch.randn(64, 16))  # give w̄ a value
    G.eval()
    with torch.no_grad():
        out = G(torch.randn(4, 16), psi=0.0, noise_mode="const")
    torch.testing.assert_close(out, out[:1].expand_as(out))


def test_r1_closed_form_for_a_quadratic_critic():
    D = lambda x: 0.5 * x.square().flatten(1).sum(1)  # noqa: E731  ∇D(x) = x
    real = torch.randn(5, 1, 4, 4)
    expected = real.flatten(1).square().sum(1).mean()
    torch.testing.assert_close(R1Penalty(gamma=2.0)(D, real, real), expected)


def test_lazy_adam_corrects_learning_rate_and_betas():
    opt = lazy_adam([torch.nn.Parameter(torch.zeros(1))], 0.0025, (0.0, 0.99), 16)
    c = 16 / 17
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0025 * c)
    assert opt.param_groups[0]["betas"][1] == pytest.approx(0.99**c)


def test_lazy_r1_runs_on_every_kth_step_only():
    gan, data = build(RunConfig("stylegan", device="cpu", batch_size=4, options=TINY | {"r1_interval": 4}))
    seen = []
    for _ in range(8):
        seen.append("R1" in gan.train_step(data, 4))
        gan.step += 1
    assert seen == [True, False, False, False] * 2


def test_sampling_is_reproducible_and_export_takes_truncation():
    gan, data = build(RunConfig("stylegan", device="cpu", batch_size=4, options=TINY))
    torch.testing.assert_close(gan.sample(3, seed=1), gan.sample(3, seed=1))
    out = gan.export(6, data, truncation=0.5)
    assert out["images"].shape == (6, 1, 28, 28) and out["images"].dtype.name == "uint8"
