r"""Chapter 8 exercises: StyleGAN (Karras et al. 2019) and StyleGAN2 (Karras et al. 2020).

Implement each function below; ``ganedu.grading.check("ex08_stylegan")`` in
``course/08_stylegan.ipynb`` grades them. Feature maps are (B, C, H, W); latents w are
(B, w_dim).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def adain(x: Tensor, style_scale: Tensor, style_bias: Tensor, eps: float = 1e-5) -> Tensor:
    r"""Adaptive instance normalisation (Huang & Belongie 2017), StyleGAN's first style operator.

    .. math:: \mathrm{AdaIN}(x_i, y) = y_{s,i}\,\frac{x_i - \mu(x_i)}{\sqrt{\sigma^2(x_i) + \epsilon}} + y_{b,i}

    :math:`\mu` and :math:`\sigma^2` are the mean and the (biased) variance of channel i of
    *one* sample over its H·W positions.

    Args:
        x: feature maps (B, C, H, W).
        style_scale, style_bias: :math:`y_s, y_b`, one value per sample and channel, (B, C).

    Returns:
        (B, C, H, W): each channel normalised, then given the style's scale and bias.
    """
    # BEGIN SOLUTION
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return style_scale[:, :, None, None] * (x - mean) / torch.sqrt(var + eps) + style_bias[:, :, None, None]
    # END SOLUTION


def modulated_conv2d(
    x: Tensor, weight: Tensor, styles: Tensor, demodulate: bool = True, padding: int = 1
) -> Tensor:
    r"""StyleGAN2's modulated convolution, with one weight tensor per sample.

    .. math::
        w'_{bjik} = s_{bi}\, w_{jik}, \qquad
        w''_{bjik} = w'_{bjik} \Big/ \sqrt{\textstyle\sum_{i,k} {w'_{bjik}}^2 + 10^{-8}}

    (j output channel, i input channel, k kernel position, b sample). Then convolve sample b
    with its own weights :math:`w''_b` (or :math:`w'_b` when ``demodulate`` is False). A
    grouped convolution does all samples at once: reshape x to (1, B·I, H, W), the weights
    to (B·O, I, k, k), use ``groups=B``, and reshape the result to (B, O, H', W').

    Args:
        x: (B, I, H, W).
        weight: (O, I, k, k).
        styles: s, (B, I).
        demodulate: whether to apply the second step.
        padding: of the convolution.

    Returns:
        (B, O, H', W'). With demodulation and unit-variance input, every output channel has
        (about) unit variance whatever the weights and styles.
    """
    # BEGIN SOLUTION
    B, I, H, W = x.shape
    O = weight.shape[0]
    w = weight[None] * styles[:, None, :, None, None]  # (B, O, I, k, k)
    if demodulate:
        w = w * torch.rsqrt(w.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    y = F.conv2d(x.reshape(1, B * I, H, W), w.reshape(B * O, I, *weight.shape[2:]), padding=padding, groups=B)
    return y.reshape(B, O, *y.shape[2:])
    # END SOLUTION


def truncate(w: Tensor, w_avg: Tensor, psi: float) -> Tensor:
    r"""The truncation trick: pull each latent towards the average latent.

    .. math:: w' = \bar w + \psi\,(w - \bar w)

    ψ = 1 leaves w unchanged, ψ = 0 gives :math:`\bar w` for every sample, ψ < 0 goes to the
    "opposite" side of the average.

    Args:
        w: (B, w_dim). w_avg: :math:`\bar w`, (w_dim,). psi: ψ.
    """
    # BEGIN SOLUTION
    return w_avg + psi * (w - w_avg)
    # END SOLUTION


def mix_styles(w1: Tensor, w2: Tensor, crossover: int, num_ws: int) -> Tensor:
    """Style mixing: one latent for the layers before ``crossover``, another from it on.

    Args:
        w1: the latents of the coarse layers (B, w_dim).
        w2: the latents of the later layers (B, w_dim).
        crossover: the first layer that reads ``w2`` (0 means only w2, ``num_ws`` only w1).
        num_ws: the number of layers that read a w.

    Returns:
        (B, num_ws, w_dim): row ``l`` of sample ``b`` is ``w1[b]`` for ``l < crossover``,
        else ``w2[b]``.
    """
    # BEGIN SOLUTION
    ws = w2[:, None].repeat(1, num_ws, 1)
    ws[:, :crossover] = w1[:, None]
    return ws
    # END SOLUTION


def update_w_avg(w_avg: Tensor, w: Tensor, beta: float = 0.995) -> Tensor:
    r"""The running average :math:`\bar w` the truncation trick needs, updated with one batch.

    .. math:: \bar w \leftarrow \beta\,\bar w + (1 - \beta)\,\mathrm{mean}_b(w_b)

    Returns the new average (w_dim,); it must not carry gradients.
    """
    # BEGIN SOLUTION
    return (beta * w_avg + (1 - beta) * w.detach().mean(dim=0)).detach()
    # END SOLUTION
