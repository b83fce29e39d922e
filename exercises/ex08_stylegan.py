# Generated from solutions/ex08_stylegan.py by `python -m ganedu.grading make-stubs`.
# Replace each `raise NotImplementedError(...)` with your code; grade with
# `ganedu.grading.check('ex08_stylegan')` in the notebook or `pytest exercises/test_ex08_stylegan.py`.
r"""Chapter 8 exercises: StyleGAN (Karras et al. 2019) and StyleGAN2 (Karras et al. 2020).

Implement each function below; ``ganedu.grading.check("ex08_stylegan")`` in
``course/08_stylegan.ipynb`` grades them. Feature maps are (B, C, H, W); latents w are
(B, w_dim). Stuck? ``HINTS`` below holds, for each function, a nudge first and then the key line.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

HINTS = {
    "adain": [
        "Statistics over dims (2, 3) with keepdim=True; the biased variance; epsilon inside the square root.",
        "style_scale[:, :, None, None] * (x - mean) / torch.sqrt(var + eps) + style_bias[:, :, None, None]",
    ],
    "modulated_conv2d": [
        "Build the (B, O, I, k, k) weights by broadcasting: weight[None] * styles[:, None, :, None, None]; "
        "demodulate by summing over dims (2, 3, 4).",
        "F.conv2d(x.reshape(1, B * I, H, W), w.reshape(B * O, I, k, k), padding=padding, groups=B), "
        "then reshape to (B, O, H', W')",
    ],
    "truncate": ["A point on the line through w̄ and w.", "w_avg + psi * (w - w_avg)"],
    "mix_styles": [
        "Start from w2 copied to every layer, then overwrite the first crossover layers with w1.",
        "ws = w2[:, None].repeat(1, num_ws, 1); ws[:, :crossover] = w1[:, None]",
    ],
    "update_w_avg": [
        "Average over the batch dimension only.",
        "(beta * w_avg + (1 - beta) * w.detach().mean(dim=0)).detach()",
    ],
    "r1_penalty": [
        "Take the gradient at a detached copy of the reals that requires a gradient, keeping its graph.",
        "(grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True); "
        "gamma / 2 * grad.flatten(1).square().sum(1).mean()",
    ],
    "train_step": [
        "Make the fakes once from mixed latents; D step with R1 added only when step % r1_every == 0 "
        "(times r1_every); then the G step on the same fakes through the updated D.",
        "ws = mix_styles(G.mapping(z), G.mapping(z_mix), crossover, G.num_ws); "
        "if step % r1_every == 0: loss = loss + r1_every * r1_penalty(D, real, r1_gamma)",
    ],
}


def adain(x: Tensor, style_scale: Tensor, style_bias: Tensor, eps: float = 1e-5) -> Tensor:
    r"""Adaptive instance normalisation (Huang & Belongie 2017), StyleGAN's first style operator.

    .. math:: \mathrm{AdaIN}(x_i, y) = y_{s,i}\,\frac{x_i - \mu(x_i)}{\sqrt{\sigma^2(x_i) + \epsilon}} + y_{b,i}

    :math:`\mu` and :math:`\sigma^2` are the mean and the (biased, 1/(H·W)) variance of channel i
    of *one* sample over its H·W positions; :math:`\epsilon` sits inside the square root. A
    constant channel (:math:`\sigma^2 = 0`) must come out as exactly :math:`y_{b,i}`, with a
    finite gradient: a network trains through this.

    Args:
        x: feature maps (B, C, H, W).
        style_scale, style_bias: :math:`y_s, y_b`, one value per sample and channel, (B, C).

    Returns:
        (B, C, H, W): each channel normalised, then given the style's scale and bias.
    """
    raise NotImplementedError("adain: not implemented yet, see its docstring")


def modulated_conv2d(
    x: Tensor, weight: Tensor, styles: Tensor, demodulate: bool = True, padding: int = 1
) -> Tensor:
    r"""StyleGAN2's modulated convolution, with one weight tensor per sample.

    .. math::
        w'_{bjik} = s_{bi}\, w_{jik}, \qquad
        w''_{bjik} = w'_{bjik} \Big/ \sqrt{\textstyle\sum_{i,k} {w'_{bjik}}^2 + 10^{-8}}

    (j output channel, i input channel, k kernel position, b sample). Then convolve sample b
    with its own weights :math:`w''_b` (or :math:`w'_b` when ``demodulate`` is False). Do all
    samples in one convolution (a grouped convolution with one group per sample), not a loop.
    A sample whose styles are all 0 gets all-zero weights and must give an all-zero output,
    not NaN (the :math:`10^{-8}`).

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
    raise NotImplementedError("modulated_conv2d: not implemented yet, see its docstring")


def truncate(w: Tensor, w_avg: Tensor, psi: float) -> Tensor:
    r"""The truncation trick: pull each latent towards the average latent.

    .. math:: w' = \bar w + \psi\,(w - \bar w)

    ψ = 1 leaves w unchanged, ψ = 0 gives :math:`\bar w` for every sample, ψ < 0 goes to the
    "opposite" side of the average.

    Args:
        w: (B, w_dim). w_avg: :math:`\bar w`, (w_dim,). psi: ψ.
    """
    raise NotImplementedError("truncate: not implemented yet, see its docstring")


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
    raise NotImplementedError("mix_styles: not implemented yet, see its docstring")


def update_w_avg(w_avg: Tensor, w: Tensor, beta: float = 0.995) -> Tensor:
    r"""The running average :math:`\bar w` the truncation trick needs, updated with one batch.

    .. math:: \bar w \leftarrow \beta\,\bar w + (1 - \beta)\,\mathrm{mean}_b(w_b)

    :math:`\mathrm{mean}_b` averages over the batch only: each of the w_dim coordinates keeps
    its own average.

    Returns the new average (w_dim,); it must not carry gradients.
    """
    raise NotImplementedError("update_w_avg: not implemented yet, see its docstring")


def r1_penalty(D: nn.Module, real: Tensor, gamma: float = 10.0) -> Tensor:
    r"""The R1 penalty on real images (Mescheder, Geiger & Nowozin 2018).

    .. math:: R_1 = \frac{\gamma}{2}\, \mathbb{E}_{x \sim p_{data}}\big[\lVert \nabla_x D(x) \rVert_2^2\big]

    The squared norm of each sample's input gradient runs over all its dimensions (C·H·W),
    then the mean over the batch. The penalty is added to D's loss and differentiated, so it
    must keep a graph to D's weights. ``real`` itself is left as it is (the caller's batch does
    not start requiring a gradient).

    Args:
        D: maps (B, ...) to logits (B,).
        real: real samples (B, ...).
        gamma: γ.

    Returns:
        A scalar tensor, differentiable with respect to D's parameters.
    """
    raise NotImplementedError("r1_penalty: not implemented yet, see its docstring")


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z: Tensor,
    z_mix: Tensor,
    crossover: int,
    step: int,
    r1_gamma: float = 10.0,
    r1_every: int = 16,
) -> dict[str, float]:
    r"""One StyleGAN2 update: D with lazy R1, then G, on fakes made with style mixing.

    1. Fakes: :math:`w = \mathrm{mapping}(z)`, :math:`w' = \mathrm{mapping}(z_{mix})`, per-layer
       latents from :func:`mix_styles` (w before ``crossover``, w′ from it on), then
       ``G.synthesis`` of them. ``crossover = G.num_ws`` means no mixing.
    2. D step, with no gradient into G:
       :math:`L_D = \mathrm{mean}\operatorname{softplus}(-D(x)) + \mathrm{mean}\operatorname{softplus}(D(\tilde x))`,
       plus, **lazily**, :math:`k \cdot R_1` with your :func:`r1_penalty` (γ = ``r1_gamma``) on
       the steps where ``step`` is a multiple of k = ``r1_every`` only: the penalty is skipped on
       the other k − 1 steps, and scaled by k when it runs, so on average it weighs the same.
       ``opt_d`` steps once from zeroed gradients.
    3. G step through the updated D on the same fakes:
       :math:`L_G = \mathrm{mean}\operatorname{softplus}(-D(\tilde x))`; only G's weights change.

    Args:
        G: a generator with ``G.mapping`` (z → w, (B, w_dim)), ``G.synthesis`` ((B, num_ws, w_dim)
            → images) and ``G.num_ws``.
        D: the discriminator, images → logits (B,).
        opt_g, opt_d: their optimizers.
        real: a real batch, ``data.sample(batch_size)[0]``.
        z, z_mix: two code batches, ``gan.sample_z(batch_size)`` each.
        crossover: the first layer that reads ``z_mix``'s latent (drawn by the caller).
        step: the index of this step (0, 1, 2, ...): R1 runs when ``step % r1_every == 0``.
        r1_gamma, r1_every: γ and k.

    Returns:
        Python floats: ``{"loss_d": L_D without the penalty, "r1": R_1 (unscaled; 0.0 on
        steps without it), "loss_g": L_G}``.
    """
    raise NotImplementedError("train_step: not implemented yet, see its docstring")
