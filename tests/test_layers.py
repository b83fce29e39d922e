"""The toolbox layers: spectral normalisation, self-attention, minibatch standard deviation, instance normalisation, D's norm option."""

import pytest
import torch
from torch import nn

from ganedu.nets import dcgan
from ganedu.nets.layers import (
    InstanceNorm,
    MinibatchStdDev,
    SelfAttention,
    minibatch_stddev,
    spectral_norm_all,
)


def _sigma(weight: torch.Tensor) -> float:
    return torch.linalg.svdvals(weight.flatten(1)).max().item()


def test_spectral_norm_all_wraps_every_conv_and_linear_and_bounds_the_largest_singular_value():
    torch.manual_seed(0)
    D = spectral_norm_all(dcgan.Discriminator(ndf=8, norm="none"))
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(hasattr(m, "parametrizations") for m in convs)
    D.train()
    x = torch.randn(4, 1, 32, 32)
    for _ in range(30):  # the power iteration sharpens with every training forward pass
        D(x)
    for m in convs:
        assert _sigma(m.weight) == pytest.approx(1.0, rel=2e-2)


def test_spectral_norm_of_a_linear_map_makes_it_1_lipschitz():
    torch.manual_seed(0)
    net = spectral_norm_all(nn.Sequential(nn.Linear(10, 10)))
    net.train()
    for _ in range(50):
        net(torch.randn(2, 10))
    net.eval()
    x, y = torch.randn(100, 10), torch.randn(100, 10)
    ratio = (net(x) - net(y)).norm(dim=1) / (x - y).norm(dim=1)
    assert ratio.max() <= 1.0 + 1e-3


def test_self_attention_starts_as_identity_and_mixes_positions_once_gamma_moves():
    torch.manual_seed(0)
    block = SelfAttention(16)
    x = torch.randn(2, 16, 5, 5)
    assert torch.equal(block(x), x)  # γ = 0 at init
    with torch.no_grad():
        block.gamma.fill_(1.0)
    x2 = x.clone()
    x2[:, :, 0, 0] += 5.0  # change one position ...
    changed = (block(x2) - block(x)).abs().sum(dim=1)  # (B, H, W)
    assert (changed[:, 4, 4] > 1e-4).all()  # ... and a far corner responds: global context
    with pytest.raises(ValueError, match="at least 8"):
        SelfAttention(4)


def test_instance_norm_under_bf16_autocast_keeps_bf16_and_matches_instancenorm2d():
    """A bf16 input is normalised in fp32 (GroupNorm's bf16 kernels are slow) and handed back as bf16."""
    torch.manual_seed(0)
    ours, reference = InstanceNorm(8), nn.InstanceNorm2d(8, affine=True)
    nn.init.normal_(ours.weight)
    nn.init.normal_(ours.bias)
    reference.load_state_dict(ours.state_dict())
    x = (3 * torch.randn(4, 8, 6, 6) + 1).to(memory_format=torch.channels_last).requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = ours(x.bfloat16())
    assert y.dtype == torch.bfloat16
    assert torch.allclose(y.float(), reference(x), atol=0.05)  # bf16 rounding of input and output
    y.float().square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and ours.weight.grad.abs().sum() > 0
    assert "InstanceNorm(8," in repr(ours)  # a printed network says what the layer is


def test_minibatch_stddev_channel_is_zero_for_identical_samples_and_positive_otherwise():
    same = torch.randn(1, 3, 4, 4).repeat(8, 1, 1, 1)
    out = minibatch_stddev(same, group_size=4)
    assert out.shape == (8, 4, 4, 4)
    assert out[:, -1].max() < 1e-3
    varied = MinibatchStdDev(4)(torch.randn(8, 3, 4, 4))
    assert varied[:, -1].min() > 0.5
    # closed form for one group of two: std of (a, b) is |a − b| / 2
    a, b = torch.zeros(1, 1, 1, 1), torch.full((1, 1, 1, 1), 2.0)
    assert minibatch_stddev(torch.cat([a, b]), group_size=2)[:, -1].flatten().tolist() == pytest.approx(
        [1.0, 1.0]
    )
    with pytest.raises(ValueError, match="divisible"):
        minibatch_stddev(torch.randn(6, 1, 2, 2), group_size=4)


def test_minibatch_stddev_matches_a_per_group_reference_in_value_and_gradient():
    """Each sample gets the population std of its group (b, b + B/g, ...), averaged over C·H·W."""
    torch.manual_seed(0)
    x = torch.randn(8, 3, 4, 4, dtype=torch.float64).to(memory_format=torch.channels_last).requires_grad_()
    out = minibatch_stddev(x, group_size=4)
    groups = 8 // 4
    reference = torch.stack([x[b % groups :: groups].std(dim=0, unbiased=False).mean() for b in range(8)])
    assert torch.allclose(out[:, -1], reference.view(8, 1, 1).expand(8, 4, 4), atol=1e-6)
    assert torch.equal(out[:, :3], x)
    weights = torch.randn_like(out)
    (grad,) = torch.autograd.grad((out * weights).sum(), x, create_graph=True)
    weighted_ref = (out[:, :3] * weights[:, :3]).sum() + (reference * weights[:, -1].sum((1, 2))).sum()
    (grad_ref,) = torch.autograd.grad(weighted_ref, x, create_graph=True)
    assert torch.allclose(grad, grad_ref, atol=1e-6)
    # the double backward a gradient penalty takes through the channel agrees too
    (second,) = torch.autograd.grad(grad.square().sum(), x, retain_graph=True)
    (second_ref,) = torch.autograd.grad(grad_ref.square().sum(), x)
    assert torch.allclose(second, second_ref, atol=1e-5)


@pytest.mark.parametrize("norm", ["layer", "instance", "none"])
def test_critic_without_batchnorm_treats_each_sample_on_its_own(norm):
    torch.manual_seed(0)
    D = dcgan.Discriminator(ndf=8, norm=norm).train()
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    x = torch.randn(4, 1, 32, 32)
    alone = D(x[:1])
    together = D(x)[:1]
    torch.testing.assert_close(alone, together, rtol=1e-4, atol=1e-5)  # no batch coupling
    with pytest.raises(ValueError, match="norm must be one of"):
        dcgan.Discriminator(norm="group")
