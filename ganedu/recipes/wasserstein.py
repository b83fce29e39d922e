"""Recipes for chapters 4–6: WGAN, WGAN-GP and LSGAN on the 32×32 DCGAN architecture.

Each follows its paper's hyper-parameters. Options shared by all three (``--option KEY=VALUE``):
``spectral_norm`` (0/1: spectral normalisation on every layer of D), ``norm`` (D's hidden
normalisation: batch, layer, instance, none), ``lr_g``/``lr_d`` (separate learning rates,
i.e. TTUR) and ``n_critic``.
"""

from __future__ import annotations

import torch

from ganedu import losses
from ganedu.gan import GAN
from ganedu.nets import dcgan as dcgan_nets
from ganedu.nets.layers import spectral_norm_all
from ganedu.penalties import GradientPenalty, WeightClipping
from ganedu.recipes import RunConfig
from ganedu.recipes.classic import image_data
from ganedu.runtime import device as pick_device
from ganedu.runtime import seed_everything


def _flag(value) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


def _nets(config: RunConfig, nc: int, norm: str):
    opt = config.options
    G = dcgan_nets.Generator(nz=100, nc=nc, image_size=32)
    D = dcgan_nets.Discriminator(nc=nc, image_size=32, norm=opt.get("norm", norm))
    if _flag(opt.get("spectral_norm", 0)):
        D = spectral_norm_all(D)
    return G, D


def wgan(config: RunConfig):
    """WGAN (Arjovsky et al. 2017): Wasserstein losses, weights clipped to ±0.01, RMSprop 5e-5, 5 critic steps.

    The critic has no BatchNorm (``norm=none``): with clipping the weights are the only thing
    bounding D's slope, and per-batch statistics would undo that bound.
    """
    seed_everything(config.seed)
    dev = pick_device(config.device)
    data = image_data(config, dev)
    opt = config.options
    G, D = _nets(config, data.images.shape[1], "none")
    lr_g, lr_d = opt.get("lr_g", opt.get("lr", 5e-5)), opt.get("lr_d", opt.get("lr", 5e-5))
    bundle = GAN(
        G, D, torch.optim.RMSprop(G.parameters(), lr=lr_g), torch.optim.RMSprop(D.parameters(), lr=lr_d),
        losses.wasserstein_d, losses.wasserstein_g, nz=100, n_critic=int(opt.get("n_critic", 5)),
        after_d_step=[WeightClipping(opt.get("clip", 0.01))],
        batch_size=config.batch_size, precision=config.precision, device=dev,
    )  # fmt: skip
    return bundle, data


def wgan_gp(config: RunConfig):
    """WGAN-GP (Gulrajani et al. 2017): gradient penalty λ = 10 at interpolates, Adam(1e-4, β = (0, 0.9)), 5 critic steps.

    The critic uses layer normalisation (``norm=layer``), never BatchNorm: the penalty is a
    per-sample quantity and BatchNorm couples the samples of a batch. The penalty runs in
    fp32 even when the rest of the step is under bf16 autocast (:mod:`ganedu.penalties`).
    """
    seed_everything(config.seed)
    dev = pick_device(config.device)
    data = image_data(config, dev)
    opt = config.options
    norm = opt.get("norm", "layer")
    if norm == "batch":
        raise ValueError("a WGAN-GP critic must not use BatchNorm: the gradient penalty is per sample")
    G, D = _nets(config, data.images.shape[1], norm)
    betas = (0.0, 0.9)
    lr_g, lr_d = opt.get("lr_g", opt.get("lr", 1e-4)), opt.get("lr_d", opt.get("lr", 1e-4))
    bundle = GAN(
        G, D,
        torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas, foreach=True),
        torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas, foreach=True),
        losses.wasserstein_d, losses.wasserstein_g, nz=100, n_critic=int(opt.get("n_critic", 5)),
        penalties={"GP": GradientPenalty(opt.get("gp_weight", 10.0))},
        batch_size=config.batch_size, precision=config.precision, device=dev,
    )  # fmt: skip
    return bundle, data


def lsgan(config: RunConfig):
    """LSGAN (Mao et al. 2017): least-squares losses with targets a = 0, b = c = 1 on the DCGAN, Adam(2e-4, 0.5).

    ``--option loss=hinge`` swaps in the hinge loss (Lim & Ye 2017; SN-GAN, SAGAN) on the same
    networks, for the chapter 6 comparison.
    """
    seed_everything(config.seed)
    dev = pick_device(config.device)
    data = image_data(config, dev)
    opt = config.options
    G, D = _nets(config, data.images.shape[1], "batch")
    loss = opt.get("loss", "least-squares")
    pairs = {
        "least-squares": (losses.least_squares_d, losses.least_squares_g),
        "hinge": (losses.hinge_d, losses.hinge_g),
    }
    if loss not in pairs:
        raise ValueError(f"loss must be one of {', '.join(pairs)}, not {loss!r}")
    lr_g, lr_d = opt.get("lr_g", opt.get("lr", 2e-4)), opt.get("lr_d", opt.get("lr", 2e-4))
    bundle = GAN(
        G, D,
        torch.optim.Adam(G.parameters(), lr=lr_g, betas=(0.5, 0.999), foreach=True),
        torch.optim.Adam(D.parameters(), lr=lr_d, betas=(0.5, 0.999), foreach=True),
        *pairs[loss], nz=100, n_critic=int(opt.get("n_critic", 1)),
        batch_size=config.batch_size, precision=config.precision, device=dev,
    )  # fmt: skip
    return bundle, data
