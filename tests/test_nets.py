"""Network shapes, logits and parameter counts."""

import pytest
import torch
from torch import nn

from ganedu.nets import conditional, count_parameters, dcgan, mlp


def test_dcgan_64_matches_the_paper_parameter_counts():
    # the DCGAN of Radford et al. / pytorch/examples with nz=100, ngf=ndf=64, 3 channels
    assert count_parameters(dcgan.Generator(nz=100, nc=3, image_size=64)) == 3_576_704
    assert count_parameters(dcgan.Discriminator(nc=3, image_size=64)) == 2_765_568


@pytest.mark.parametrize("size", [32, 64])
def test_dcgan_shapes_and_range(size):
    G, D = dcgan.Generator(nc=1, image_size=size), dcgan.Discriminator(nc=1, image_size=size)
    x = G(torch.randn(5, 100))
    assert x.shape == (5, 1, size, size)
    assert x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (5,)


def test_dcgan_32_has_one_block_fewer_than_64():
    convs = lambda m: sum(isinstance(x, nn.ConvTranspose2d) for x in m.modules())  # noqa: E731
    assert convs(dcgan.Generator(image_size=64)) - convs(dcgan.Generator(image_size=32)) == 1


def test_discriminators_end_in_logits_not_sigmoid():
    nets = [
        dcgan.Discriminator(),
        conditional.Discriminator(),
        mlp.Discriminator(),
        conditional.Discriminator(mode="concat"),
    ]
    for net in nets:
        assert not any(isinstance(m, nn.Sigmoid) for m in net.modules())
    # a logit can leave [0, 1]: push the last layer's weights up and check
    D = dcgan.Discriminator()
    nn.init.constant_(D.head.weight, 1.0)
    assert D(torch.ones(2, 1, 32, 32)).abs().max() > 1


@pytest.mark.parametrize("mbstd", [0, 4])
def test_dcgan_discriminator_sees_its_group_only_with_minibatch_stddev(mbstd):
    # groups of 4 in a batch of 8: samples 0, 2, 4, 6 form one group (b mod B/g), 1, 3, 5, 7 the other
    torch.manual_seed(0)
    D = dcgan.Discriminator(nc=1, image_size=32, norm="none", mbstd=mbstd)
    if mbstd:
        nn.init.ones_(D.head.weight[:, -1])  # make the stddev channel count, as training would
    x = torch.randn(8, 1, 32, 32)
    y = x.clone()
    y[2] = torch.randn(1, 32, 32)  # another image in sample 0's group
    with torch.no_grad():
        before, after = D(x), D(y)
    assert before.shape == (8,)
    torch.testing.assert_close(before[1::2], after[1::2])  # the other group never sees it
    assert ((before[0] - after[0]).abs() > 1e-4).item() == (mbstd > 0)  # sample 0 sees its group's spread


def test_dcgan_initialisation_is_normal_0_002():
    G = dcgan.Generator(image_size=64)
    w = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert abs(w.mean().item()) < 1e-3 and w.std().item() == pytest.approx(0.02, rel=0.05)
    bn = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(torch.all(m.bias == 0) for m in bn)


@pytest.mark.parametrize("mode", ["projection", "concat"])
def test_conditional_nets_use_the_label(mode):
    torch.manual_seed(0)
    G, D = conditional.Generator(), conditional.Discriminator(mode=mode)
    z = torch.randn(4, 100)
    a, b = G(z, torch.zeros(4, dtype=torch.long)), G(z, torch.full((4,), 3))
    assert a.shape == (4, 1, 32, 32) and not torch.allclose(a, b)
    D.eval()
    if mode == "projection":
        nn.init.normal_(D.embed.weight, 0, 1.0)
    assert D(a, torch.zeros(4, dtype=torch.long)).shape == (4,)
    assert not torch.allclose(D(a, torch.zeros(4, dtype=torch.long)), D(a, torch.full((4,), 3)))


def test_mlp_toy_generator_outputs_unbounded_points():
    G = mlp.Generator(nz=8, out_shape=(2,), hidden=32)
    assert G(torch.randn(16, 8)).shape == (16, 2)
    assert not any(isinstance(m, nn.Tanh) for m in G.modules())
    assert any(isinstance(m, nn.Tanh) for m in mlp.Generator(out_shape=(1, 28, 28)).modules())


def test_instance_norm_of_the_critic_is_instancenorm2d_in_a_faster_form():
    """norm="instance" is GroupNorm with a group per channel: the function of InstanceNorm2d(affine=True)."""
    torch.manual_seed(0)
    ours, reference = dcgan.norm_layer("instance", 8), nn.InstanceNorm2d(8, affine=True)
    nn.init.normal_(ours.weight)
    nn.init.normal_(ours.bias)
    reference.load_state_dict(ours.state_dict())  # the same parameter names and shapes
    x = 3 * torch.randn(4, 8, 5, 5).to(memory_format=torch.channels_last) + 1
    assert torch.allclose(ours(x), reference(x), atol=1e-5)
    layer = dcgan.norm_layer("layer", 8)
    layer.load_state_dict(ours.state_dict())
    assert not torch.allclose(layer(x), reference(x), atol=1e-2)  # one group over C·H·W is another function
