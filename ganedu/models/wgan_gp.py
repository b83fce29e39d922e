"""WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs"), chapter 5.

The Wasserstein losses of WGAN, with the Lipschitz constraint enforced softly by a two-sided
gradient penalty at random interpolates between real and fake samples (eq. 3):

.. math::
    L_D = \\mathbb{E}[D(G(z))] - \\mathbb{E}[D(x)]
          + \\lambda\\, \\mathbb{E}_{\\hat x}\\big[(\\lVert \\nabla_{\\hat x} D(\\hat x) \\rVert_2 - 1)^2\\big],
    \\qquad \\hat x = \\alpha x + (1 - \\alpha) G(z),\\ \\alpha \\sim U[0, 1] \\text{ per sample}

Paper settings: λ = 10, Adam(1e-4, β = (0, 0.9)), 5 critic steps. The critic uses layer
normalisation, never BatchNorm: the penalty is per sample and BatchNorm couples the samples
of a batch. The penalty runs in fp32 even under bf16 autocast (:mod:`ganedu.penalties`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganedu import losses
from ganedu.gan import GAN
from ganedu.models import dcgan
from ganedu.models.base import ModelSpec, image_data
from ganedu.models.critic import CriticOptions
from ganedu.models.options import option
from ganedu.penalties import GradientPenalty


@dataclass
class Options(CriticOptions):
    lr: float = option(1e-4, "Adam learning rate of both players", min=0)
    n_critic: int = option(5, "critic updates per generator update", min=1)
    norm: str = option("layer", "the critic's hidden normalisation (never batch: the penalty is per sample)",
                       choices=("layer", "instance", "none"))  # fmt: skip
    gp_weight: float = option(10.0, "λ, the weight of the gradient penalty", min=0)


def build(config, options: Options, dev) -> GAN:
    """WGAN-GP: Wasserstein losses plus λ·GP, Adam(1e-4, (0, 0.9))."""
    G, D = dcgan.networks(config, options.norm, options.spectral_norm)
    lr_g, lr_d = options.learning_rates()
    betas = (0.0, 0.9)
    return GAN(
        G, D,
        torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas, foreach=True),
        torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas, foreach=True),
        losses.wasserstein_d, losses.wasserstein_g, nz=dcgan.NZ, n_critic=options.n_critic,
        penalties={"GP": GradientPenalty(options.gp_weight)},
        precision=config.precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec(
    "wgan-gp", "Gulrajani et al. 2017, Improved Training of Wasserstein GANs", Options, build, image_data
)
