# Generated from solutions/ex06_lsgan.py by `python -m ganedu.grading make-stubs`.
# Replace each `raise NotImplementedError(...)` with your code; grade with
# `ganedu.grading.check('ex06_lsgan')` in the notebook or `pytest exercises/test_ex06_lsgan.py`.
r"""Chapter 6 exercises: least-squares losses (Mao et al. 2017) and spectral normalisation (Miyato et al. 2018).

Implement each function below; ``ganedu.grading.check("ex06_lsgan")`` in ``course/06_lsgan.ipynb``
grades them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def ls_discriminator_loss(real_out: Tensor, fake_out: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    r"""LSGAN's discriminator loss: :math:`\tfrac12\mathbb{E}_x[(D(x) - b)^2] + \tfrac12\mathbb{E}_z[(D(G(z)) - a)^2]`.

    ``b`` is the target for real samples, ``a`` for fakes. D's output is used as is: no sigmoid.

    Args:
        real_out, fake_out: D's outputs, shape (B,) or (B, 1) (the two may differ).

    Returns:
        A scalar tensor.
    """
    raise NotImplementedError("ls_discriminator_loss: not implemented yet, see its docstring")


def ls_generator_loss(fake_out: Tensor, c: float = 1.0) -> Tensor:
    r"""LSGAN's generator loss: :math:`\tfrac12\mathbb{E}_z[(D(G(z)) - c)^2]`, ``c`` the value G wants D to believe."""
    raise NotImplementedError("ls_generator_loss: not implemented yet, see its docstring")


def spectral_norm_power_iteration(
    weight: Tensor, u: Tensor | None = None, n_iters: int = 1
) -> tuple[Tensor, Tensor]:
    r"""Estimate the largest singular value :math:`\sigma(W)` by power iteration.

    A convolution weight ``(out, in, kh, kw)`` is first reshaped to the matrix ``W`` of shape
    ``(out, in·kh·kw)``; a linear weight ``(out, in)`` is used as is. Starting from ``u``
    (shape ``(out,)``; a random normal vector, normalised, when ``None``), repeat ``n_iters``
    times:

    .. math::
        v \leftarrow \frac{W^\top u}{\lVert W^\top u \rVert}, \qquad
        u \leftarrow \frac{W v}{\lVert W v \rVert}

    then :math:`\sigma = u^\top W v`. The iteration itself carries no gradient (run it under
    ``torch.no_grad()``); only the final :math:`u^\top W v` may depend on ``weight`` with a gradient.

    Returns:
        ``(sigma, u)``: a scalar tensor, and the new ``u`` (detached) to start from next time.
    """
    raise NotImplementedError("spectral_norm_power_iteration: not implemented yet, see its docstring")


def spectral_normalize(weight: Tensor, n_iters: int = 100) -> Tensor:
    r"""``weight`` divided by its largest singular value (estimated by :func:`spectral_norm_power_iteration`), same shape.

    The result has spectral norm ≈ 1: the layer can no longer stretch any input by more than 1.
    """
    raise NotImplementedError("spectral_normalize: not implemented yet, see its docstring")
