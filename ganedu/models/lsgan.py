"""LSGAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks"), chapter 6.

D regresses its output towards b on real data and a on fakes; G pushes fakes towards c:

.. math::
    L_D = \\tfrac12 \\mathbb{E}_x[(D(x) - b)^2] + \\tfrac12 \\mathbb{E}_z[(D(G(z)) - a)^2], \\qquad
    L_G = \\tfrac12 \\mathbb{E}_z[(D(G(z)) - c)^2]

with a = 0, b = c = 1 here (the paper's 0-1 coding; its χ² analysis uses b − c = 1,
b − a = 2). On the 32×32 DCGAN pair, D with BatchNorm as in the paper, and Adam(1e-3, β1 = 0.5),
the authors' learning rate (their code, ``xudonmao/LSGAN``: ``learning_rate`` 0.001 for both
players), five times the DCGAN's. ``loss=hinge`` swaps in the hinge loss (Lim & Ye 2017;
SN-GAN, SAGAN) on the same networks, for chapter 6's comparison, at the DCGAN's 2e-4.

Measured (``benchmarks/README.md``, "LSGAN at the authors' learning rate"): ten fp32 minutes,
FD against the DCGAN of the same sitting, two seeds:

- the paper's recipe: 1.79× and 1.50× on a 2-core Intel Xeon (about 4,300 steps), 1.91× and
  1.72× on the same CPU held to AVX2 kernels (about 2,700 steps), every class at five minutes;
  1.16× and 1.44× at the 7,400 steps a CPU with fast bf16 makes ("The bf16 EPYC's ten minutes,
  replayed by steps");
- the D without BatchNorm at 2e-4, this recipe's default before: 2.30× and 2.85× on the Xeon,
  2.09× and 1.46× with AVX2 kernels (earlier sittings);
- at the DCGAN's 2e-4 the BatchNorm D starts slowly ("Why LSGAN lags": regressed onto fixed
  targets while BatchNorm normalises the all-real and all-fake batches apart, it settles on
  its targets);
- at 1e-3 the D without BatchNorm collapses (2 classes), so ``lr`` defaults to 1e-3 only for
  the paper's D and to 2e-4 for every other (hinge, ``norm=none``, ``spectral_norm``).

Chapter 6's half minute (about 200 steps) still favours the D without BatchNorm at 2e-4 (FD
778 and 849 against 1,556 and 1,523), so the chapter trains both; ``--option norm=none`` gives it.

The hinge D keeps BatchNorm too (``norm=auto``: batch, none with ``spectral_norm`` as in
SN-GAN): it covered every class in chapter 6's half minute on two seeds (FD 932 and 767, against
903 and 901 with 7 and 9 classes without it); in ten fp32 minutes with AVX2 kernels only
(emulated on an EPYC) it reached 1.04× and 1.03× the DCGAN's FD of the same sitting, against
2.28× without it; in ten bf16 minutes 0.49× and 0.83× ("Ten fp32 minutes with AVX2 kernels").
"""

from __future__ import annotations

from ganedu import losses
from ganedu.gan import GAN
from ganedu.models import dcgan
from ganedu.models.base import ModelSpec, image_data
from ganedu.models.catalog import LSGANOptions as Options
from ganedu.optim import adam

LOSSES = {  # by the names of --option loss (catalog.LSGAN_LOSSES)
    "least-squares": (losses.least_squares_d, losses.least_squares_g),
    "hinge": (losses.hinge_d, losses.hinge_g),
}


def build(config, options: Options, dev) -> GAN:
    """LSGAN (or hinge) on the DCGAN pair, Adam(β1 = 0.5) at ``options.lr`` (1e-3 for the paper's D, else 2e-4)."""
    G, D = dcgan.networks(config, options.norm, options.spectral_norm, options.mbstd)
    lr_g, lr_d = options.learning_rates()
    return GAN(
        G, D,
        adam(G.parameters(), lr_g),
        adam(D.parameters(), lr_d),
        *LOSSES[options.loss], nz=dcgan.NZ, n_critic=options.n_critic,
        precision=config.precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec.declared("lsgan", build, image_data)
