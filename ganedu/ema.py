"""Exponential moving average of the generator's weights (Karras et al. 2018; Yazıcı et al. 2019).

.. math:: \\theta_{EMA} \\leftarrow \\beta\\,\\theta_{EMA} + (1 - \\beta)\\,\\theta, \\qquad
          \\beta = 0.5^{\\,B / h}

with batch size ``B`` and half-life ``h`` in images, as StyleGAN2-ADA sets it: after ``h``
images the old weights count for half. Samples from the averaged G are smoother and usually
score better than the raw G, at no training cost. Buffers (BatchNorm statistics) are copied.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Keeps ``self.model``, a frozen copy of ``model`` whose weights track an exponential average."""

    def __init__(self, model: nn.Module, half_life_images: float = 10_000, batch_size: int = 64):
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.beta = 0.5 ** (batch_size / half_life_images)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average one step towards ``model``'s current weights."""
        for avg, p in zip(self.model.parameters(), model.parameters(), strict=True):
            avg.lerp_(p.detach(), 1.0 - self.beta)
        for avg, b in zip(self.model.buffers(), model.buffers(), strict=True):
            avg.copy_(b)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "beta": self.beta}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.beta = float(state["beta"])
