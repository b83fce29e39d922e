# Generated from solutions/ex01_gan_basics.py by `python -m ganedu.grading make-stubs`.
# Replace each `raise NotImplementedError(...)` with your code; grade with
# `ganedu.grading.check('ex01_gan_basics')` in the notebook or `pytest exercises/test_ex01_gan_basics.py`.
r"""Chapter 1 exercises: the pieces of the original GAN (Goodfellow et al. 2014).

Implement each function below; ``ganedu.grading.check("ex01_gan_basics")`` in
``course/01_gan_basics.ipynb`` grades them. A discriminator returns a **logit**
:math:`\ell`, and :math:`D(x) = \sigma(\ell)`; never put a sigmoid in front of a loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def sample_noise(
    batch_size: int, nz: int, device: torch.device | str = "cpu", generator: torch.Generator | None = None
) -> Tensor:
    r"""Draw the generator's input: :math:`z \sim \mathcal{N}(0, I_{nz})`, one row per sample.

    Args:
        batch_size: number of codes B.
        nz: latent dimension.
        device: where the tensor is created.
        generator: a ``torch.Generator`` to draw with (``None``: the global one). Pass it on to
            the PyTorch sampling function, so the same generator state gives the same codes.

    Returns:
        float32 tensor of shape (B, nz) on ``device``.
    """
    raise NotImplementedError("sample_noise: not implemented yet, see its docstring")


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    r"""The discriminator's minimax loss, from logits.

    .. math::
        L_D = -\frac1B\sum_i \log \sigma(\ell^{real}_i) - \frac1B\sum_i \log(1 - \sigma(\ell^{fake}_i))

    Use the stable forms :math:`-\log\sigma(\ell) = \operatorname{softplus}(-\ell)` and
    :math:`-\log(1-\sigma(\ell)) = \operatorname{softplus}(\ell)` (or
    ``F.binary_cross_entropy_with_logits``). ``torch.sigmoid`` followed by a log or by
    ``BCELoss`` rounds to 0 for large logits and loses the gradient.

    Args:
        real_logits: D's logits on real samples, shape (B,).
        fake_logits: D's logits on generated samples, shape (B',).

    Returns:
        A scalar tensor (shape ()), the loss D minimises.
    """
    raise NotImplementedError("discriminator_loss: not implemented yet, see its docstring")


def generator_loss(fake_logits: Tensor) -> Tensor:
    r"""The generator's non-saturating loss, from logits.

    .. math:: L_G = -\frac1B\sum_i \log \sigma(\ell^{fake}_i) = \frac1B\sum_i \operatorname{softplus}(-\ell^{fake}_i)

    Not the saturating :math:`\frac1B\sum_i \log(1 - \sigma(\ell_i))`, whose gradient vanishes
    exactly when D rejects the fakes confidently, at the start of training.

    Args:
        fake_logits: D's logits on generated samples, shape (B,).

    Returns:
        A scalar tensor, the loss G minimises.
    """
    raise NotImplementedError("generator_loss: not implemented yet, see its docstring")


def optimal_discriminator(p_data: Tensor, p_g: Tensor) -> Tensor:
    r"""The best discriminator for a fixed generator, evaluated pointwise.

    .. math:: D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}

    Args:
        p_data: the data density at some points x, shape (N,), non-negative.
        p_g: the generator's density at the same points, shape (N,), non-negative.

    Returns:
        :math:`D^*(x)` at each point, shape (N,), in [0, 1]. Where both densities are 0 the
        value does not matter for the game; return 0.5 there (not NaN).
    """
    raise NotImplementedError("optimal_discriminator: not implemented yet, see its docstring")


def jensen_shannon(p: Tensor, q: Tensor, dx: float) -> Tensor:
    r"""Jensen–Shannon divergence of two densities tabulated on an even grid, in nats.

    .. math::
        \mathrm{JS}(p\,\|\,q) = \tfrac12 \mathrm{KL}(p\,\|\,m) + \tfrac12 \mathrm{KL}(q\,\|\,m),
        \quad m = \tfrac{p + q}{2}, \quad \mathrm{KL}(p\,\|\,m) \approx \sum_j p_j \log\frac{p_j}{m_j}\,dx

    Terms with :math:`p_j = 0` contribute 0 (the limit of :math:`p \log p`). The result lies in
    :math:`[0, \log 2]`: 0 for equal densities, :math:`\log 2` for densities that never overlap.

    Args:
        p, q: density values on the same grid points, shape (N,).
        dx: the grid spacing.

    Returns:
        A scalar tensor.
    """
    raise NotImplementedError("jensen_shannon: not implemented yet, see its docstring")
