"""Class-conditional DCGAN (Mirza & Osindero 2014, with a DCGAN body).

- G embeds the label and concatenates it with z: ``G(z, y) = body([z, e(y)])``.
- D conditions either by **projection** (Miyato & Koyama 2018):

  .. math:: D(x, y) = \\psi(\\phi(x)) + \\langle e_D(y), \\textstyle\\sum_{h,w} \\phi(x) \\rangle

  or by **concatenation**: one-hot label maps stacked onto the image channels, the input of
  the original cGAN. Both return logits of shape (B,).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganedu.nets.dcgan import discriminator_features, generator_body, init_weights


class Generator(nn.Module):
    """(z (B, nz), y (B,)) -> image (B, nc, S, S) in [-1, 1]."""

    def __init__(
        self,
        num_classes: int = 10,
        nz: int = 100,
        embed_dim: int = 50,
        ngf: int = 64,
        nc: int = 1,
        image_size: int = 32,
    ):
        super().__init__()
        self.nz, self.num_classes, self.nc, self.image_size = nz, num_classes, nc, image_size
        self.embed = nn.Embedding(num_classes, embed_dim)  # (B, embed_dim)
        self.net = generator_body(nz + embed_dim, ngf, nc, image_size)
        self.apply(init_weights)
        nn.init.normal_(self.embed.weight, 0.0, 1.0)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        code = torch.cat([z.view(z.shape[0], self.nz), self.embed(y)], dim=1)  # (B, nz + embed_dim)
        return self.net(code[:, :, None, None])  # (B, nc, S, S)


class Discriminator(nn.Module):
    """(x (B, nc, S, S), y (B,)) -> logit (B,). ``mode`` is "projection" or "concat"."""

    def __init__(
        self,
        num_classes: int = 10,
        ndf: int = 64,
        nc: int = 1,
        image_size: int = 32,
        mode: str = "projection",
    ):
        super().__init__()
        if mode not in ("projection", "concat"):
            raise ValueError(f"mode must be 'projection' or 'concat', not {mode!r}")
        self.mode, self.num_classes = mode, num_classes
        in_channels = nc + (num_classes if mode == "concat" else 0)
        self.features, width = discriminator_features(in_channels, ndf, image_size)
        self.head = nn.Conv2d(width, 1, 4, 1, 0, bias=False)  # (B, 1, 1, 1): ψ
        self.apply(init_weights)
        if mode == "projection":
            self.embed = nn.Embedding(num_classes, width)  # (B, width): e_D(y)
            nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.mode == "concat":
            maps = F.one_hot(y, self.num_classes).to(x.dtype)[:, :, None, None]  # (B, K, 1, 1)
            x = torch.cat([x, maps.expand(-1, -1, *x.shape[2:])], dim=1)  # (B, nc + K, S, S)
        h = self.features(x)  # (B, width, 4, 4)
        logit = self.head(h).flatten()  # (B,)
        if self.mode == "projection":
            logit = logit + (self.embed(y) * h.sum(dim=(2, 3))).sum(dim=1)  # + <e_D(y), Σ φ(x)>
        return logit
