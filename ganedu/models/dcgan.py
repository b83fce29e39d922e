"""DCGAN (Radford, Metz & Chintala 2016, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks"), chapter 2, at 32×32.

The architecture guidelines (strided convolutions, BatchNorm, ReLU in G and LeakyReLU in D,
no pooling, no fully connected hidden layers) live in :mod:`ganedu.nets.dcgan`; the recipe is
the non-saturating loss, Adam(2e-4, β1 = 0.5), N(0, 0.02) weights, plus an EMA of G.
The chapter 4–6 models reuse these networks (:func:`networks`). ``--option norm=none`` takes
BatchNorm out of D: chapter 10's D for little data, which memorises 1,000 images within a
10-minute run on a CPU with bf16 units (benchmarks/README.md, chapter 10).
"""

from __future__ import annotations

from ganedu import losses
from ganedu.gan import GAN
from ganedu.models.base import ModelSpec, check_minibatch_groups, image_data
from ganedu.models.catalog import DCGANOptions as Options
from ganedu.nets import dcgan as nets
from ganedu.nets.layers import spectral_norm_all
from ganedu.optim import adam

NZ = 100


def networks(config, norm: str = "batch", spectral_norm: bool = False, mbstd: int = 0):
    """The 32×32 DCGAN pair for ``config``'s channels.

    D's hidden normalisation ``norm``, optionally spectral-normalised, with a minibatch-stddev
    channel over groups of ``mbstd`` samples before its head if ``mbstd`` > 0: every training
    batch must then split into whole groups, checked here rather than at the first step.
    """
    if mbstd:
        check_minibatch_groups(config, mbstd, "mbstd")
    G = nets.Generator(nz=NZ, nc=config.channels, image_size=32)
    D = nets.Discriminator(nc=config.channels, image_size=32, norm=norm, mbstd=mbstd)
    return G, (spectral_norm_all(D) if spectral_norm else D)


def build(config, options: Options, dev) -> GAN:
    """DCGAN: non-saturating loss on logits, Adam(2e-4, 0.5), EMA of G."""
    G, D = networks(config, options.norm)
    return GAN(
        G, D, adam(G.parameters(), options.lr), adam(D.parameters(), options.lr),
        losses.minimax_d, losses.nonsaturating_g, nz=NZ, ema_half_life=options.ema_half_life or None,
        precision=config.precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec.declared("dcgan", build, image_data)
