"""Fully connected generator and discriminator: the GAN of Goodfellow et al. 2014.

Used on the 2D toy mixtures (``out_shape=(2,)``) and on flattened images
(``out_shape=(1, 28, 28)``, output squashed by ``tanh`` into ``[-1, 1]``).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Generator(nn.Module):
    """z (B, nz) -> sample (B, *out_shape).

    Args:
        nz: latent dimension.
        out_shape: shape of one sample, e.g. ``(2,)`` for toy points or ``(1, 28, 28)``.
        hidden: width of each hidden layer.
        depth: number of hidden layers.
        batchnorm: BatchNorm1d after each hidden linear layer (switch off to see what it does).
        tanh: squash the output into [-1, 1]; on by default for images, off for toy points.
    """

    def __init__(
        self,
        nz: int = 64,
        out_shape: tuple[int, ...] = (1, 28, 28),
        hidden: int = 256,
        depth: int = 3,
        batchnorm: bool = True,
        tanh: bool | None = None,
    ):
        super().__init__()
        self.nz = nz
        self.out_shape = tuple(out_shape)
        layers: list[nn.Module] = []
        width_in = nz
        for _ in range(depth):
            layers.append(nn.Linear(width_in, hidden))  # (B, hidden)
            if batchnorm:
                layers.append(nn.BatchNorm1d(hidden))
            layers.append(nn.ReLU(inplace=True))
            width_in = hidden
        layers.append(nn.Linear(hidden, math.prod(self.out_shape)))  # (B, prod(out_shape))
        if tanh if tanh is not None else len(self.out_shape) > 1:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.out_shape)  # (B, *out_shape)


class Discriminator(nn.Module):
    """sample (B, *in_shape) -> logit (B,).

    LeakyReLU(0.2) hidden layers, no sigmoid: the losses in :mod:`ganedu.losses` take logits.
    """

    def __init__(self, in_shape: tuple[int, ...] = (1, 28, 28), hidden: int = 256, depth: int = 3):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]  # (B, prod(in_shape))
        width_in = math.prod(in_shape)
        for _ in range(depth):
            layers += [nn.Linear(width_in, hidden), nn.LeakyReLU(0.2, inplace=True)]  # (B, hidden)
            width_in = hidden
        layers.append(nn.Linear(hidden, 1))  # (B, 1)
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)  # (B,)
