# Generated from solutions/ex05_wgan_gp.py by `python -m ganedu.grading make-stubs`.
# Replace each `raise NotImplementedError(...)` with your code; grade with
# `ganedu.grading.check('ex05_wgan_gp')` in the notebook or `pytest exercises/test_ex05_wgan_gp.py`.
r"""Chapter 5 exercises: the gradient penalty of WGAN-GP (Gulrajani et al. 2017).

Implement each function below; ``ganedu.grading.check("ex05_wgan_gp")`` in
``course/05_wgan_gp.ipynb`` grades them. The penalty is where most WGAN-GP bugs live: one
:math:`\alpha` per sample, the norm over everything but the batch, the critic evaluated at the
interpolates, and a graph kept so the penalty itself can be differentiated.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def random_alpha(real: Tensor, generator: torch.Generator | None = None) -> Tensor:
    r"""Draw :math:`\alpha \sim U[0, 1]`, **one value per sample**, shaped to broadcast over ``real``.

    For images ``(B, C, H, W)`` the result has shape ``(B, 1, 1, 1)``; for points ``(B, 2)``
    it has shape ``(B, 1)``. Draw it with ``torch.rand`` on ``real``'s device and dtype,
    passing ``generator`` on.
    """
    raise NotImplementedError("random_alpha: not implemented yet, see its docstring")


def interpolates(real: Tensor, fake: Tensor, alpha: Tensor) -> Tensor:
    r"""Points on the segments between real and fake samples: :math:`\hat x = \alpha x + (1 - \alpha)\tilde x`.

    Args:
        real: real samples x, (B, ...).
        fake: generated samples x̃, same shape. No gradient may flow back into the generator
            through them: detach.
        alpha: (B, 1, ...) from :func:`random_alpha`.

    Returns:
        x̂ with ``requires_grad=True`` (it is the point where the critic's gradient is taken).
    """
    raise NotImplementedError("interpolates: not implemented yet, see its docstring")


def gradient_penalty(
    critic: nn.Module, real: Tensor, fake: Tensor, weight: float = 10.0, alpha: Tensor | None = None
) -> Tensor:
    r"""The WGAN-GP penalty, ready to add to the critic's loss.

    .. math::
        \lambda\, \mathbb{E}_{\hat x}\Big[\big(\lVert \nabla_{\hat x} f(\hat x) \rVert_2 - 1\big)^2\Big]

    1. ``alpha`` given, or drawn with :func:`random_alpha`; x̂ from :func:`interpolates`.
    2. The critic's gradient at x̂: ``torch.autograd.grad(critic(x_hat).sum(), x_hat,
       create_graph=True)`` (summing gives each sample's own gradient, as samples do not
       interact; ``create_graph`` lets the penalty's gradient reach the critic's weights).
    3. Each sample's gradient norm over **all** its dimensions (C·H·W for images), then the
       mean of :math:`(\lVert g \rVert - 1)^2` over the batch, times λ = ``weight``.

    Returns:
        A scalar tensor that is differentiable with respect to the critic's parameters.
    """
    raise NotImplementedError("gradient_penalty: not implemented yet, see its docstring")
