# Generated from solutions/ex04_wgan.py by `python -m ganedu.grading make-stubs`.
# Replace each `raise NotImplementedError(...)` with your code; grade with
# `ganedu.grading.check('ex04_wgan')` in the notebook or `pytest exercises/test_ex04_wgan.py`.
r"""Chapter 4 exercises: the Wasserstein GAN (Arjovsky, Chintala & Bottou 2017).

Implement each function below; ``ganedu.grading.check("ex04_wgan")`` in ``course/04_wgan.ipynb``
grades them. The critic returns an unbounded **score** :math:`f(x)` per sample, not a
probability: no sigmoid, no log, no BCE anywhere in this file.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    r"""The critic's loss, minimised: the negative of the Wasserstein-1 estimate.

    .. math::
        L_f = \mathbb{E}_z[f(G(z))] - \mathbb{E}_x[f(x)]

    Minimising it pushes the critic's scores up on real data and down on generated data, so
    :math:`-L_f` estimates :math:`W_1(P_r, P_g)` (up to the critic's Lipschitz constant).

    Args:
        real_scores: critic outputs on real samples, shape (B,) or (B, 1).
        fake_scores: critic outputs on generated samples, shape (B,) or (B, 1).

    Returns:
        A scalar tensor.
    """
    raise NotImplementedError("critic_loss: not implemented yet, see its docstring")


def generator_loss(fake_scores: Tensor) -> Tensor:
    r"""The generator's loss, minimised: :math:`L_G = -\mathbb{E}_z[f(G(z))]`.

    The generator wants its samples to score high under the critic.

    Args:
        fake_scores: critic outputs on generated samples, shape (B,) or (B, 1).

    Returns:
        A scalar tensor.
    """
    raise NotImplementedError("generator_loss: not implemented yet, see its docstring")


def clip_weights_(critic: nn.Module, c: float = 0.01) -> None:
    r"""Clip every parameter of ``critic`` into :math:`[-c, c]`, in place (WGAN's Lipschitz constraint).

    Every parameter, biases and norm scales included. Modify the existing tensors (the
    optimizer holds references to them): do not create new ``nn.Parameter`` objects, and do
    not record the operation in autograd. Returns nothing.
    """
    raise NotImplementedError("clip_weights_: not implemented yet, see its docstring")


def mode_coverage(points: Tensor, centers: Tensor, std: float) -> tuple[int, float]:
    r"""How many modes of a 2D mixture the samples cover, and the share of good samples.

    A point is **high quality** when its distance to the nearest centre is at most
    :math:`3\sigma`. A mode is **covered** when at least 1% of *all* points are high-quality
    points whose nearest centre is that mode.

    Args:
        points: generated samples, shape (N, 2).
        centers: the mixture's centres, shape (K, 2).
        std: the standard deviation σ of each Gaussian.

    Returns:
        ``(covered, high_quality)``: an ``int`` in [0, K] and a ``float`` in [0, 1].
    """
    raise NotImplementedError("mode_coverage: not implemented yet, see its docstring")
