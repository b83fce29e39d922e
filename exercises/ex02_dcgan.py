# Generated from solutions/ex02_dcgan.py by `python -m ganedu.grading make-stubs`.
# Replace each `raise NotImplementedError(...)` with your code; grade with
# `ganedu.grading.check('ex02_dcgan')` in the notebook or `pytest exercises/test_ex02_dcgan.py`.
r"""Chapter 2 exercises: build, initialise and train a DCGAN (Radford, Metz & Chintala 2016).

Implement each function below; ``ganedu.grading.check("ex02_dcgan")`` in
``course/02_dcgan.ipynb`` grades them. The networks are the 32×32 DCGAN of the chapter
(Fashion-MNIST padded from 28×28 to 32×32); ``ganedu.nets.dcgan`` holds the reference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

HINTS = {
    "build_generator": [
        "Start from z as a 1×1 image; each transposed convolution with kernel 4, stride 2, padding 1 "
        "doubles the size (the first, with stride 1 and no padding, makes 4×4 from 1×1). BatchNorm "
        "and ReLU after every layer but the last, which ends in Tanh for images in [-1, 1].",
        "nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True), "
        "... , nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()",
    ],
    "build_discriminator": [
        "The mirror image: convolutions with kernel 4, stride 2, padding 1 halve the size; LeakyReLU(0.2); "
        "no BatchNorm on the input layer; the last 4×4 convolution leaves one number per image, a logit "
        "(no Sigmoid).",
        "nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True), ..., "
        "nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False), nn.Flatten(0)",
    ],
    "init_weights": [
        "Called on every module by net.apply: check the module's type; convolutions (transposed too) "
        "get N(0, 0.02) weights, BatchNorm N(1, 0.02) scales and zero shifts.",
        "if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)): nn.init.normal_(module.weight, 0.0, 0.02)",
    ],
    "train_step": [
        "Two phases in order. D's phase must not send gradients into G: the fakes it sees are detached. "
        "Each phase zeroes its own optimizer's gradients before its backward.",
        "loss_d = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean(); ...; "
        "loss_g = F.softplus(-D(fake)).mean()",
    ],
    "smoothed_discriminator_loss": [
        "One-sided: only the real targets become 0.9; the fake targets stay 0. On logits, the binary "
        "cross-entropy with a soft target is a weighted sum of two softplus terms.",
        "F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_target)) "
        "+ F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))",
    ],
}


def build_generator(nz: int = 100, ngf: int = 64, nc: int = 1) -> nn.Sequential:
    r"""The 32×32 DCGAN generator as an ``nn.Sequential`` from z (B, nz, 1, 1) to images (B, nc, 32, 32).

    The paper's guidelines at 32×32: no pooling and no fully connected hidden layer; four
    transposed convolutions with kernel 4 and no bias (BatchNorm's shift replaces it). The first
    turns the 1×1 code into a 4×4 map of ``ngf·4`` channels; each of the next three doubles the
    size and halves the channels (``ngf·2``, ``ngf``, then ``nc`` at 32×32). BatchNorm and ReLU
    follow every layer but the last, which is followed by Tanh alone (images in [-1, 1]).
    Choose each layer's stride and padding from the size rule below.

    A transposed convolution with kernel k, stride s, padding p maps size n to
    :math:`(n - 1)s - 2p + k`: :math:`1 \to 4` for (4, 1, 0) and :math:`n \to 2n` for (4, 2, 1).

    Returns:
        The generator, an ``nn.Sequential`` of the layers in this order (convolution, then its
        BatchNorm and activation), nothing else.
    """
    raise NotImplementedError("build_generator: not implemented yet, see its docstring")


def build_discriminator(nc: int = 1, ndf: int = 64) -> nn.Sequential:
    r"""The 32×32 DCGAN discriminator as an ``nn.Sequential`` from images (B, nc, 32, 32) to logits (B,).

    The mirror image of the generator: four convolutions with kernel 4 and no bias. The first
    three halve the size (32 → 16 → 8 → 4) while the channels grow ``ndf``, ``ndf·2``, ``ndf·4``;
    the last turns the 4×4 map into one number per image, flattened to shape (B,). LeakyReLU with
    slope 0.2 after each of the first three; BatchNorm before the LeakyReLU of the second and
    third, none on the first layer (it sees the raw images). A convolution with kernel k,
    stride s, padding p maps size n to :math:`\lfloor (n + 2p - k) / s \rfloor + 1`.

    No sigmoid: D returns logits, the losses take logits.

    Returns:
        The discriminator, an ``nn.Sequential`` of the layers in this order, ending in ``nn.Flatten(0)``.
    """
    raise NotImplementedError("build_discriminator: not implemented yet, see its docstring")


def init_weights(module: nn.Module) -> None:
    r"""DCGAN initialisation of one module, used as ``net.apply(init_weights)``.

    - ``Conv2d`` / ``ConvTranspose2d``: weights :math:`\sim \mathcal{N}(0, 0.02^2)` (mean 0,
      standard deviation 0.02); biases, if any, 0.
    - ``BatchNorm2d``: scale γ :math:`\sim \mathcal{N}(1, 0.02^2)`, shift β = 0.
    - Any other module: leave it as it is.
    """
    raise NotImplementedError("init_weights: not implemented yet, see its docstring")


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z: Tensor,
) -> dict[str, float]:
    r"""One DCGAN update: first D, then G, with the losses of chapter 1 on logits.

    1. D's update on :math:`L_D = \mathrm{mean}\,\operatorname{softplus}(-D(x)) + \mathrm{mean}\,\operatorname{softplus}(D(G(z)))`.
       No gradient may reach G in this phase, and D's update must use this step's gradients only.
    2. G's update on :math:`L_G = \mathrm{mean}\,\operatorname{softplus}(-D(G(z)))` through the updated D,
       with the same ``z``. Only G's weights may change here, again from this step's gradients only.

    Each optimizer steps exactly once.

    Args:
        G, D: the networks (in training mode).
        opt_g, opt_d: their optimizers.
        real: a batch of real images (B, C, H, W).
        z: the codes for this step, (B, nz) or whatever ``G`` takes.

    Returns:
        ``{"loss_d": float, "loss_g": float}``, the two losses as computed before each update.
    """
    raise NotImplementedError("train_step: not implemented yet, see its docstring")


def smoothed_discriminator_loss(real_logits: Tensor, fake_logits: Tensor, real_target: float = 0.9) -> Tensor:
    r"""The minimax D loss with **one-sided** label smoothing (Salimans et al. 2016).

    Real samples get the soft target :math:`t` (``real_target``, e.g. 0.9); fakes keep target 0:

    .. math::
        L_D = \mathrm{mean}_i\,\mathrm{BCE}(\ell^{real}_i, t) + \mathrm{mean}_i\,\operatorname{softplus}(\ell^{fake}_i),
        \qquad \mathrm{BCE}(\ell, t) = t\,\operatorname{softplus}(-\ell) + (1 - t)\operatorname{softplus}(\ell)

    D's optimal logit on a real sample is then :math:`\log\frac{t}{1-t}` instead of
    :math:`+\infty`: D stops growing over-confident. Smoothing the fakes too would reward G
    for staying where it is.

    Returns:
        A scalar tensor.
    """
    raise NotImplementedError("smoothed_discriminator_loss: not implemented yet, see its docstring")
