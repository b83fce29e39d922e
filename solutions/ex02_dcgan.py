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

    Four transposed convolutions, each of them ``bias=False`` with kernel 4:

    ========================================  ==========================  ======================
    layer                                     output shape                 followed by
    ========================================  ==========================  ======================
    ConvTranspose2d(nz, ngf·4, 4, 1, 0)       (B, ngf·4, 4, 4)             BatchNorm2d, ReLU
    ConvTranspose2d(ngf·4, ngf·2, 4, 2, 1)    (B, ngf·2, 8, 8)             BatchNorm2d, ReLU
    ConvTranspose2d(ngf·2, ngf, 4, 2, 1)      (B, ngf, 16, 16)             BatchNorm2d, ReLU
    ConvTranspose2d(ngf, nc, 4, 2, 1)         (B, nc, 32, 32)              Tanh (no BatchNorm)
    ========================================  ==========================  ======================

    A transposed convolution with kernel k, stride s, padding p maps size n to
    :math:`(n - 1)s - 2p + k`: :math:`1 \to 4` for (4, 1, 0) and :math:`n \to 2n` for (4, 2, 1).

    Returns:
        The generator, an ``nn.Sequential`` of exactly these layers in this order.
    """
    # BEGIN SOLUTION
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),  # (B, ngf·4, 4, 4)
        nn.BatchNorm2d(ngf * 4),
        nn.ReLU(inplace=True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),  # (B, ngf·2, 8, 8)
        nn.BatchNorm2d(ngf * 2),
        nn.ReLU(inplace=True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),  # (B, ngf, 16, 16)
        nn.BatchNorm2d(ngf),
        nn.ReLU(inplace=True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),  # (B, nc, 32, 32)
        nn.Tanh(),
    )
    # END SOLUTION


def build_discriminator(nc: int = 1, ndf: int = 64) -> nn.Sequential:
    r"""The 32×32 DCGAN discriminator as an ``nn.Sequential`` from images (B, nc, 32, 32) to logits (B,).

    Four convolutions, each ``bias=False`` with kernel 4:

    ========================================  ==========================  ===========================
    layer                                     output shape                 followed by
    ========================================  ==========================  ===========================
    Conv2d(nc, ndf, 4, 2, 1)                  (B, ndf, 16, 16)             LeakyReLU(0.2) (no BatchNorm)
    Conv2d(ndf, ndf·2, 4, 2, 1)               (B, ndf·2, 8, 8)             BatchNorm2d, LeakyReLU(0.2)
    Conv2d(ndf·2, ndf·4, 4, 2, 1)             (B, ndf·4, 4, 4)             BatchNorm2d, LeakyReLU(0.2)
    Conv2d(ndf·4, 1, 4, 1, 0)                 (B, 1, 1, 1)                 ``nn.Flatten(0)`` → (B,)
    ========================================  ==========================  ===========================

    No sigmoid: D returns logits, the losses take logits.

    Returns:
        The discriminator, an ``nn.Sequential``.
    """
    # BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),  # (B, ndf, 16, 16)
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),  # (B, ndf·2, 8, 8)
        nn.BatchNorm2d(ndf * 2),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),  # (B, ndf·4, 4, 4)
        nn.BatchNorm2d(ndf * 4),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False),  # (B, 1, 1, 1)
        nn.Flatten(0),  # (B,)
    )
    # END SOLUTION


def init_weights(module: nn.Module) -> None:
    r"""DCGAN initialisation of one module, used as ``net.apply(init_weights)``.

    - ``Conv2d`` / ``ConvTranspose2d``: weights :math:`\sim \mathcal{N}(0, 0.02^2)` (mean 0,
      standard deviation 0.02); biases, if any, 0.
    - ``BatchNorm2d``: scale γ :math:`\sim \mathcal{N}(1, 0.02^2)`, shift β = 0.
    - Any other module: leave it as it is.

    ``nn.init.normal_(tensor, mean, std)`` takes the mean first.
    """
    # BEGIN SOLUTION
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
    # END SOLUTION


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z: Tensor,
) -> dict[str, float]:
    r"""One DCGAN update: first D, then G, with the losses of chapter 1 on logits.

    1. D step: fakes ``G(z)`` with **no gradient into G** (``detach()`` or ``torch.no_grad()``),
       :math:`L_D = \mathrm{mean}\,\operatorname{softplus}(-D(x)) + \mathrm{mean}\,\operatorname{softplus}(D(G(z)))`;
       zero D's gradients, backward, ``opt_d.step()``.
    2. G step: :math:`L_G = \mathrm{mean}\,\operatorname{softplus}(-D(G(z)))` through the updated D,
       with the same ``z``; zero G's gradients, backward, ``opt_g.step()``. Only G's weights
       may change here.

    Each optimizer steps exactly once.

    Args:
        G, D: the networks (in training mode).
        opt_g, opt_d: their optimizers.
        real: a batch of real images (B, C, H, W).
        z: the codes for this step, (B, nz) or whatever ``G`` takes.

    Returns:
        ``{"loss_d": float, "loss_g": float}``, the two losses as computed before each update.
    """
    # BEGIN SOLUTION
    fake = G(z)
    loss_d = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    loss_g = F.softplus(-D(fake)).mean()
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}
    # END SOLUTION


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
    # BEGIN SOLUTION
    target = torch.full_like(real_logits, real_target)
    return F.binary_cross_entropy_with_logits(real_logits, target) + F.softplus(fake_logits).mean()
    # END SOLUTION
