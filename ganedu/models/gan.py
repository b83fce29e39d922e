"""The first GAN (Goodfellow et al. 2014, "Generative Adversarial Nets"), chapter 1.

Fully connected G and D on flattened 28×28 images. D minimises the minimax loss on logits,
G the non-saturating loss:

.. math::
    L_D = -\\mathbb{E}_x \\log \\sigma(D(x)) - \\mathbb{E}_z \\log(1 - \\sigma(D(G(z)))), \\qquad
    L_G = -\\mathbb{E}_z \\log \\sigma(D(G(z)))
"""

from __future__ import annotations

from dataclasses import dataclass

from ganedu import losses
from ganedu.gan import GAN
from ganedu.models.base import ModelSpec, adam, flat_image_data
from ganedu.models.options import option
from ganedu.nets import mlp


@dataclass
class Options:
    nz: int = option(64, "latent dimension", min=1)
    hidden: int = option(512, "width of the hidden layers", min=1)
    lr: float = option(2e-4, "Adam learning rate of both players", min=0)


def build(config, options: Options, dev) -> GAN:
    """The MLP GAN with Adam(lr, β1 = 0.5) and the non-saturating loss."""
    shape = tuple(config.image_shape)
    G = mlp.Generator(options.nz, shape, hidden=options.hidden)
    D = mlp.Discriminator(shape, hidden=options.hidden)
    return GAN(
        G, D, adam(G.parameters(), options.lr), adam(D.parameters(), options.lr),
        losses.minimax_d, losses.nonsaturating_g, nz=options.nz,
        precision=config.precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec(
    "gan", "Goodfellow et al. 2014, Generative Adversarial Nets", Options, build, flat_image_data
)
