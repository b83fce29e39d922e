"""LSGAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks"), chapter 6.

D regresses its output towards b on real data and a on fakes; G pushes fakes towards c:

.. math::
    L_D = \\tfrac12 \\mathbb{E}_x[(D(x) - b)^2] + \\tfrac12 \\mathbb{E}_z[(D(G(z)) - a)^2], \\qquad
    L_G = \\tfrac12 \\mathbb{E}_z[(D(G(z)) - c)^2]

with a = 0, b = c = 1 here (the paper's 0-1 coding; its χ² analysis uses b − c = 1,
b − a = 2). On the 32×32 DCGAN pair with Adam(2e-4, 0.5). ``loss=hinge`` swaps in the hinge
loss (Lim & Ye 2017; SN-GAN, SAGAN) on the same networks, for chapter 6's comparison.

One deviation from the paper, measured: D has **no BatchNorm** (``norm=none``; the paper's D
has it, ``--option norm=batch`` restores it). BatchNorm normalises D's all-real and all-fake
batches separately, and a D regressed onto fixed targets 0 and 1 then settles on its targets
and pushes every fake the same way. On a 2-core AVX2 CPU (fp32, 10 minutes) the least-squares
pair's FD was 5.4× the DCGAN's with BatchNorm and 1.43× and 1.85× without it (two seeds;
``benchmarks/README.md``, "Why LSGAN lags"; ``benchmarks/lsgan_ablation.py``). At four times
those steps (6,200, a CPU with bf16 units) the order flips: 35.6 with BatchNorm, 71.4 without
(one seed; "What keeps the DCGAN improving late"). In ten bf16 minutes on two seeds, the
hinge loss with the BatchNorm D (``--option loss=hinge norm=batch``) reached 0.49× and 0.83×
the DCGAN's FD of the same sitting, least squares with it 1.42× and 2.34× ("Ten minutes with
the D options, two seeds").
"""

from __future__ import annotations

from dataclasses import dataclass

from ganedu import losses
from ganedu.gan import GAN
from ganedu.models import dcgan
from ganedu.models.base import ModelSpec, image_data
from ganedu.models.critic import NORMS, CriticOptions
from ganedu.models.options import option
from ganedu.optim import adam

LOSSES = {
    "least-squares": (losses.least_squares_d, losses.least_squares_g),
    "hinge": (losses.hinge_d, losses.hinge_g),
}


@dataclass
class Options(CriticOptions):
    loss: str = option("least-squares", "the loss pair", choices=tuple(LOSSES))
    norm: str = option("none", "D's hidden normalisation (the paper's: batch)", choices=NORMS)


def build(config, options: Options, dev) -> GAN:
    """LSGAN (or hinge) on the DCGAN pair, Adam(2e-4, β1 = 0.5)."""
    G, D = dcgan.networks(config, options.norm, options.spectral_norm, options.mbstd)
    lr_g, lr_d = options.learning_rates()
    return GAN(
        G, D,
        adam(G.parameters(), lr_g),
        adam(D.parameters(), lr_d),
        *LOSSES[options.loss], nz=dcgan.NZ, n_critic=options.n_critic,
        precision=config.precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec("lsgan", "Mao et al. 2017, Least Squares GANs", Options, build, image_data)
