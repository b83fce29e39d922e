"""Instance noise (Sønderby et al. 2017): Gaussian noise on D's inputs, annealed to zero."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class InstanceNoise(nn.Module):
    r"""Wraps D: ``D(x + σ·ε)``, ε ~ N(0, I), with σ falling linearly from ``sigma`` to 0 over ``anneal_steps``.

    Why: early in training the real and generated distributions barely overlap, D separates
    them perfectly and its gradient says little. Blurring both with the same noise makes the
    supports overlap, so D's judgement stays smooth; as G improves the noise is taken away.
    Real and fake images get noise alike (noise on one side only would give D a tell).
    Noise is added in training mode only; call :meth:`anneal` once per D step (e.g. as an
    ``after_d_step`` hook: ``GAN(..., D=noisy, after_d_step=[lambda D: D.anneal()])``).
    """

    def __init__(self, D: nn.Module, sigma: float = 0.1, anneal_steps: int = 2000):
        super().__init__()
        self.D, self.sigma0, self.anneal_steps = D, sigma, anneal_steps
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))

    @property
    def sigma(self) -> float:
        """The noise level now: ``sigma·max(0, 1 − steps/anneal_steps)``."""
        return self.sigma0 * max(0.0, 1.0 - int(self.steps) / max(self.anneal_steps, 1))

    def anneal(self, *_) -> None:
        self.steps += 1

    def forward(self, x: Tensor, *cond) -> Tensor:
        if self.training and self.sigma > 0:
            x = x + self.sigma * torch.randn_like(x)
        return self.D(x, *cond)
