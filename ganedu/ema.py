"""Exponential moving average of the generator's weights (Karras et al. 2018; Yazıcı et al. 2019).

.. math:: \\theta_{EMA} \\leftarrow \\beta\\,\\theta_{EMA} + (1 - \\beta)\\,\\theta, \\qquad
          \\beta = 0.5^{\\,B / h_t}, \\quad h_t = \\min(h,\\; r \\cdot n_t)

with ``B`` the images of this update, half-life ``h`` in images and, as in StyleGAN2-ADA, a ramp-up: after
``n_t`` images the half-life is at most ``r·n_t`` (``r`` = 0.05), so the average forgets the
random initial weights quickly instead of dragging them along for the first ``h`` images.
Samples from the averaged G are smoother and usually score better than the raw G, at no
training cost. Buffers (BatchNorm running statistics) are copied from the live G.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Keeps ``self.model``, a frozen copy of ``model`` whose weights track an exponential average.

    Args:
        model: the network to average (usually G).
        half_life_images: ``h``, the half-life in images once the ramp-up is over.
        rampup: ``r``; ``None`` turns the ramp-up off.
    """

    def __init__(self, model: nn.Module, half_life_images: float = 10_000, rampup: float | None = 0.05):
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.half_life, self.rampup = half_life_images, rampup
        self.images_seen = 0

    def beta(self, images: int) -> float:
        """The decay for an update of ``images`` new images (after ``images_seen`` counts them)."""
        half_life = self.half_life
        if self.rampup is not None:
            half_life = min(half_life, self.rampup * self.images_seen)
        return 0.5 ** (images / max(half_life, 1e-8))

    @torch.no_grad()
    def update(self, model: nn.Module, images: int) -> None:
        """Move the average towards ``model``'s current weights after a step on ``images`` images."""
        self.images_seen += images
        beta = self.beta(images)
        for avg, p in zip(self.model.parameters(), model.parameters(), strict=True):
            avg.lerp_(p.detach(), 1.0 - beta)
        for avg, b in zip(self.model.buffers(), model.buffers(), strict=True):
            avg.copy_(b)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "images_seen": self.images_seen}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.images_seen = int(state["images_seen"])
