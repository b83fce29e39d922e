"""Looking inside networks: every layer's output shape, and StyleGAN's image at each resolution."""

import torch
from torch import nn

from ganedu.nets import dcgan, layer_shapes
from ganedu.nets.stylegan import Generator

TINY = {"z_dim": 16, "w_dim": 16, "cbase": 64, "cmax": 16}


def test_layer_shapes_lists_every_leaf_layer_in_order_with_its_output_shape():
    net = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Sequential(nn.Linear(5, 2), nn.Tanh()))
    assert layer_shapes(net, torch.zeros(4, 3)) == [
        ("Linear", (4, 5)),
        ("ReLU", (4, 5)),
        ("Linear", (4, 2)),
        ("Tanh", (4, 2)),
    ]


def test_layer_shapes_of_the_dcgan_generator_end_at_the_image_and_leave_no_hooks_or_eval_mode():
    G = dcgan.Generator(nz=100, nc=1, image_size=32).train()
    rows = layer_shapes(G, torch.randn(2, 100))
    assert rows[-1] == ("Tanh", (2, 1, 32, 32))
    assert G.training
    assert all(not m._forward_hooks for m in G.modules())


def test_stylegan_images_per_resolution_double_in_size_and_end_at_the_generators_image():
    torch.manual_seed(0)
    G = Generator(**TINY).eval()
    z = torch.randn(3, 16)
    images = G.images_per_resolution(z, noise_mode="const")
    assert [tuple(img.shape) for img in images] == [(3, 1, r, r) for r in (4, 8, 16, 32)]
    torch.testing.assert_close(images[-1], G(z, noise_mode="const"))
