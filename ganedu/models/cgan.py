"""Conditional GAN (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets"), chapter 3.

G(z, y) and D(x, y) both see the class label y. G embeds y and concatenates it to z; D
concatenates one-hot label maps to its input (the default) or uses the projection
discriminator of Miyato & Koyama 2018 (``conditioning=projection``), whose logit is
:math:`\\psi(\\phi(x)) + \\langle e_y, \\phi(x) \\rangle`. Measured on 2 CPU cores for 5 minutes
(benchmarks/README.md), projection in this BatchNorm DCGAN with the non-saturating loss (not
Miyato & Koyama's spectral norm and hinge loss) collapsed within each class (classifier-feature
FD 363) while concatenation kept the variety (FD 60) and drew the asked-for class 89% of the time.
"""

from __future__ import annotations

from ganedu import losses
from ganedu.gan import GAN
from ganedu.models.base import ModelSpec, image_data
from ganedu.models.catalog import CGANOptions as Options
from ganedu.models.dcgan import NZ
from ganedu.nets import conditional
from ganedu.optim import adam


def build(config, options: Options, dev) -> GAN:
    """The conditional DCGAN with the non-saturating loss and Adam(2e-4, 0.5)."""
    k = config.num_classes or 10
    G = conditional.Generator(num_classes=k, nz=NZ, nc=config.channels, image_size=32)
    D = conditional.Discriminator(num_classes=k, nc=config.channels, image_size=32, mode=options.conditioning)
    return GAN(
        G, D, adam(G.parameters(), options.lr), adam(D.parameters(), options.lr),
        losses.minimax_d, losses.nonsaturating_g, nz=NZ, num_classes=k,
        precision=config.precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec.declared("cgan", build, image_data)
