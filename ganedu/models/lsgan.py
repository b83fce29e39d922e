"""LSGAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks"), chapter 6.

D regresses its output towards b on real data and a on fakes; G pushes fakes towards c:

.. math::
    L_D = \\tfrac12 \\mathbb{E}_x[(D(x) - b)^2] + \\tfrac12 \\mathbb{E}_z[(D(G(z)) - a)^2], \\qquad
    L_G = \\tfrac12 \\mathbb{E}_z[(D(G(z)) - c)^2]

with a = 0, b = c = 1 here (the paper's 0-1 coding; its χ² analysis uses b − c = 1,
b − a = 2). On the 32×32 DCGAN pair with Adam(2e-4, 0.5). ``loss=hinge`` swaps in the hinge
loss (Lim & Ye 2017; SN-GAN, SAGAN) on the same networks, for chapter 6's comparison.

One deviation from the paper, measured: a least-squares D has **no BatchNorm** (``norm=auto``
gives none for least squares; the paper's D has it, ``--option norm=batch`` restores it).
BatchNorm normalises D's all-real and all-fake batches separately, and a D regressed onto fixed
targets 0 and 1 then settles on its targets and pushes every fake the same way. On a 2-core
AVX2 CPU (fp32, 10 minutes) the least-squares pair's FD was 5.4× the DCGAN's with BatchNorm and
1.43× and 1.85× without it (two seeds; ``benchmarks/README.md``, "Why LSGAN lags";
``benchmarks/lsgan_ablation.py``), and chapter 6's half minute gives 636 and 717 without it
against 1,636 and 1,638 with it. At four times the AVX2 steps (6,000, a CPU with bf16 units)
the order flips: 37.8 and 33.3 with BatchNorm (1.42× and 2.34× the DCGAN of the same sitting)
against 71.4 and 51.1 without ("Ten minutes with the D options, two seeds").

The hinge D keeps BatchNorm (``norm=auto`` gives batch for ``loss=hinge``, none with
``spectral_norm``, as in SN-GAN): it covered every class in chapter 6's half minute on two seeds
(FD 932 and 767, against 903 and 901 with 7 and 9 classes without it); in ten fp32 minutes
with AVX2 kernels only (emulated on an EPYC) it reached 1.04× and 1.03× the DCGAN's FD of the
same sitting, against 2.28× without it (one seed, 9 classes at five minutes); in ten bf16
minutes 0.49× and 0.83× ("Ten fp32 minutes with AVX2 kernels").
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


NORM_BY_LOSS = {"least-squares": "none", "hinge": "batch"}
"""D's normalisation under ``norm=auto``, per loss (measured: see the module docstring)."""


@dataclass
class Options(CriticOptions):
    loss: str = option("least-squares", "the loss pair", choices=tuple(LOSSES))
    norm: str = option(
        "auto",
        "D's hidden normalisation; auto: none for least squares, batch for hinge, none with "
        "spectral_norm (the paper's: batch)",
        choices=("auto", *NORMS),
    )

    def d_norm(self) -> str:
        """The normalisation D gets: ``norm``, or for ``auto`` the one measured best for ``loss``."""
        if self.norm != "auto":
            return self.norm
        return "none" if self.spectral_norm else NORM_BY_LOSS[self.loss]


def build(config, options: Options, dev) -> GAN:
    """LSGAN (or hinge) on the DCGAN pair, Adam(2e-4, β1 = 0.5)."""
    G, D = dcgan.networks(config, options.d_norm(), options.spectral_norm, options.mbstd)
    lr_g, lr_d = options.learning_rates()
    return GAN(
        G, D,
        adam(G.parameters(), lr_g),
        adam(D.parameters(), lr_d),
        *LOSSES[options.loss], nz=dcgan.NZ, n_critic=options.n_critic,
        precision=config.precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec("lsgan", "Mao et al. 2017, Least Squares GANs", Options, build, image_data)
