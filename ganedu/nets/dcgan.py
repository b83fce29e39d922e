"""DCGAN (Radford, Metz & Chintala 2016, "Unsupervised Representation Learning with DCGANs").

The architecture guidelines of the paper, each visible below:

- no pooling: strided convolutions in D, fractionally strided (transposed) ones in G;
- BatchNorm in both nets, except G's output layer and D's input layer;
- no fully connected hidden layers;
- ReLU in G (``tanh`` at the output), LeakyReLU(0.2) in D;
- weights drawn from N(0, 0.02) (:func:`init_weights`); Adam(2e-4, β1 = 0.5).

``image_size=64`` is the paper's net (nz=100, ngf=ndf=64). ``image_size=32`` has one block
fewer and suits Fashion-MNIST padded from 28×28 to 32×32. D returns logits.
"""

from __future__ import annotations

import torch
from torch import nn

from ganedu.nets.layers import InstanceNorm, minibatch_stddev


def _num_blocks(image_size: int) -> int:
    """Up/down-sampling blocks between 4×4 and ``image_size``, excluding the last layer."""
    if image_size not in (32, 64):
        raise ValueError(f"DCGAN supports image_size 32 or 64, not {image_size}")
    return {32: 2, 64: 3}[image_size]


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights ~ N(0, 0.02), BatchNorm γ ~ N(1, 0.02), β = 0.

    Use as ``net.apply(init_weights)``.
    """
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d | nn.GroupNorm) or (
        isinstance(module, nn.InstanceNorm2d) and module.affine
    ):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def generator_body(nz: int, ngf: int, nc: int, image_size: int) -> nn.Sequential:
    """The transposed-conv stack from a (B, nz, 1, 1) code to a (B, nc, S, S) image in [-1, 1].

    For S = 64 (ngf = 64) the shapes are (B, 512, 4, 4) → (B, 256, 8, 8) → (B, 128, 16, 16)
    → (B, 64, 32, 32) → (B, nc, 64, 64); for S = 32 the first block starts at ngf·4 channels.
    """
    blocks = _num_blocks(image_size)
    width = ngf * 2**blocks
    layers: list[nn.Module] = [
        nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False),  # (B, ngf·2^blocks, 4, 4)
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
    ]
    for _ in range(blocks):
        layers += [
            nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),  # channels halve, size doubles
            nn.BatchNorm2d(width // 2),
            nn.ReLU(inplace=True),
        ]
        width //= 2
    layers += [nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False), nn.Tanh()]  # (B, nc, S, S)
    return nn.Sequential(*layers)


NORMS = ("batch", "layer", "instance", "none")


def norm_layer(kind: str, channels: int) -> nn.Module:
    """The normalisation after a hidden conv of D.

    ``"batch"`` is DCGAN's BatchNorm. A WGAN-GP critic must not use it: the gradient penalty is
    taken per sample, and BatchNorm makes each output depend on the whole batch. ``"layer"``
    (GroupNorm with one group: each sample normalised over C·H·W, Gulrajani et al.'s choice)
    and ``"instance"`` (each channel of each sample normalised over its H·W) normalise each
    sample on its own; ``"none"`` leaves activations alone. Instance normalisation is
    :class:`~ganedu.nets.layers.InstanceNorm`: ``nn.InstanceNorm2d(channels, affine=True)``'s
    function as a faster GroupNorm.
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "instance":
        return InstanceNorm(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, not {kind!r}")


def discriminator_features(
    nc: int, ndf: int, image_size: int, norm: str = "batch"
) -> tuple[nn.Sequential, int]:
    """The strided-conv stack from (B, nc, S, S) to (B, ndf·2^blocks, 4, 4); returns it and its width.

    For S = 64: (B, 64, 32, 32) → (B, 128, 16, 16) → (B, 256, 8, 8) → (B, 512, 4, 4).
    ``norm`` picks the normalisation of the hidden layers (:func:`norm_layer`).
    """
    blocks = _num_blocks(image_size)
    layers: list[nn.Module] = [
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),  # (B, ndf, S/2, S/2), no BatchNorm on the input layer
        nn.LeakyReLU(0.2, inplace=True),
    ]
    width = ndf
    for _ in range(blocks):
        layers += [
            nn.Conv2d(width, width * 2, 4, 2, 1, bias=norm == "none"),  # channels double, size halves
            norm_layer(norm, width * 2),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        width *= 2
    return nn.Sequential(*layers), width  # (B, width, 4, 4)


class Generator(nn.Module):
    """DCGAN generator: z (B, nz) or (B, nz, 1, 1) -> image (B, nc, S, S) in [-1, 1]."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 1, image_size: int = 32):
        super().__init__()
        self.nz, self.nc, self.image_size = nz, nc, image_size
        self.net = generator_body(nz, ngf, nc, image_size)
        self.apply(init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], self.nz, 1, 1))  # (B, nc, S, S)


class Discriminator(nn.Module):
    """DCGAN discriminator: image (B, nc, S, S) -> logit (B,). No sigmoid.

    ``norm="batch"`` is the paper's; a WGAN critic uses ``"none"`` or ``"layer"`` (:func:`norm_layer`).
    ``mbstd=g`` appends ProGAN's minibatch-stddev channel over groups of g samples before the head
    (:func:`~ganedu.nets.layers.minibatch_stddev`; Karras et al. 2018); 0 leaves it out.
    """

    def __init__(self, nc: int = 1, ndf: int = 64, image_size: int = 32, norm: str = "batch", mbstd: int = 0):
        super().__init__()
        self.mbstd_group = mbstd  # 0: no minibatch-stddev channel
        self.features, width = discriminator_features(nc, ndf, image_size, norm)
        self.head = nn.Conv2d(width + 1 if mbstd else width, 1, 4, 1, 0, bias=False)  # (B, 1, 1, 1)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)  # (B, width, 4, 4)
        if self.mbstd_group:
            h = minibatch_stddev(h, self.mbstd_group)  # (B, width + 1, 4, 4)
        return self.head(h).flatten()  # (B,)
