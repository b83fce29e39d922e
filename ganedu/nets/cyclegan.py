r"""CycleGAN's networks (Zhu et al. 2017, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks"), sized for 32×32 images.

* :class:`ResnetGenerator`: the image-to-image generator of Johnson et al. 2016 that CycleGAN
  uses: a 7×7 stem, two stride-2 downsamplings, residual blocks at 1/4 resolution, two
  transposed-convolution upsamplings and a 7×7 output layer with Tanh. Reflection padding
  instead of zero padding (no dark borders) and InstanceNorm (each image normalised on its
  own: the style of one image does not leak into another's through batch statistics; built by
  :class:`~ganedu.nets.layers.InstanceNorm` as the equivalent, faster ``GroupNorm(C, C)``).
* :class:`PatchDiscriminator`: the PatchGAN. It returns a *map* of logits, one per
  overlapping patch of the input, instead of one logit per image; the adversarial loss is
  averaged over the map. At 256×256 the paper's patches are 70×70; here two stride-2 layers
  and two stride-1 layers give 34×34 patches on a 6×6 map, so each logit judges most of a
  32×32 image: a sneaker and a boot differ in their overall shape, not only in texture.
"""

from __future__ import annotations

import torch
from torch import nn

from ganedu.nets.layers import InstanceNorm


class ResidualBlock(nn.Module):
    r"""``x + F(x)`` with F = reflect-pad, conv 3×3, InstanceNorm, ReLU, reflect-pad, conv 3×3, InstanceNorm."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=False),
            InstanceNorm(channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=False),
            InstanceNorm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)  # same shape as x


class ResnetGenerator(nn.Module):
    """Image-to-image generator: ``G(x)`` has the shape of ``x``, values in [-1, 1].

    Args:
        nc: image channels (1 for Fashion-MNIST).
        ngf: channels after the stem; 2·ngf and 4·ngf after the two downsamplings.
        n_blocks: residual blocks at 1/4 resolution (9 in the paper at 256×256; 3 by default here).
    """

    def __init__(self, nc: int = 1, ngf: int = 16, n_blocks: int = 3):
        super().__init__()
        self.net = nn.Sequential(
            # stem: a 7×7 view of each pixel
            nn.ReflectionPad2d(3),
            nn.Conv2d(nc, ngf, 7, bias=False),  # (B, ngf, 32, 32)
            InstanceNorm(ngf),
            nn.ReLU(inplace=True),
            # downsample twice
            nn.Conv2d(ngf, 2 * ngf, 3, stride=2, padding=1, bias=False),  # (B, 2ngf, 16, 16)
            InstanceNorm(2 * ngf),
            nn.ReLU(inplace=True),
            nn.Conv2d(2 * ngf, 4 * ngf, 3, stride=2, padding=1, bias=False),  # (B, 4ngf, 8, 8)
            InstanceNorm(4 * ngf),
            nn.ReLU(inplace=True),
            # transform at 1/4 resolution
            *[ResidualBlock(4 * ngf) for _ in range(n_blocks)],  # (B, 4ngf, 8, 8)
            # upsample twice
            nn.ConvTranspose2d(4 * ngf, 2 * ngf, 3, stride=2, padding=1, output_padding=1, bias=False),
            InstanceNorm(2 * ngf),  # (B, 2ngf, 16, 16)
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * ngf, ngf, 3, stride=2, padding=1, output_padding=1, bias=False),
            InstanceNorm(ngf),  # (B, ngf, 32, 32)
            nn.ReLU(inplace=True),
            # back to image channels
            nn.ReflectionPad2d(3),
            nn.Conv2d(ngf, nc, 7),  # (B, nc, 32, 32)
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN discriminator: ``D(x)`` is a map of logits ``(B, 1, 6, 6)`` for a 32×32 input.

    Each entry is the logit of "real" for one 34×34 receptive field. No normalisation on the
    first layer (as in the paper), InstanceNorm after the others, LeakyReLU(0.2).

    Args:
        nc: image channels.
        ndf: channels of the first layer, doubled at each later layer.
    """

    def __init__(self, nc: int = 1, ndf: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, stride=2, padding=1),  # (B, ndf, 16, 16)
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, 2 * ndf, 4, stride=2, padding=1, bias=False),  # (B, 2ndf, 8, 8)
            InstanceNorm(2 * ndf),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * ndf, 4 * ndf, 4, stride=1, padding=1, bias=False),  # (B, 4ndf, 7, 7)
            InstanceNorm(4 * ndf),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(4 * ndf, 1, 4, stride=1, padding=1),  # (B, 1, 6, 6): one logit per patch
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
