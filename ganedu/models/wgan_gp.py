"""WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs"), chapter 5.

The Wasserstein losses of WGAN, with the Lipschitz constraint enforced softly by a two-sided
gradient penalty at random interpolates between real and fake samples (eq. 3):

.. math::
    L_D = \\mathbb{E}[D(G(z))] - \\mathbb{E}[D(x)]
          + \\lambda\\, \\mathbb{E}_{\\hat x}\\big[(\\lVert \\nabla_{\\hat x} D(\\hat x) \\rVert_2 - 1)^2\\big],
    \\qquad \\hat x = \\alpha x + (1 - \\alpha) G(z),\\ \\alpha \\sim U[0, 1] \\text{ per sample}

Paper settings: λ = 10, Adam(1e-4, β = (0, 0.9)), 5 critic steps, a layer-normalised critic.
The critic normalises each sample on its own, never with BatchNorm: the penalty is per sample
and BatchNorm couples the samples of a batch. The penalty runs in fp32 even under bf16
autocast (:mod:`ganedu.penalties`).

Five departures from the paper, named, for a recipe that learns within minutes on a CPU
(measured in benchmarks/README.md, "WGAN and WGAN-GP per CPU minute", "Adam's β₂ for
WGAN-GP" and "Instance normalisation in the WGAN-GP critic"):

- ``n_critic = 1``, not 5: one critic step per generator step, as with the two time-scale
  update rule (Heusel et al. 2017), which lets the critic keep up through its optimizer
  rather than through extra steps. Five critic steps made 1.6 generator steps per second
  where one makes 6.0 (bf16, 2 cores; 9.4 with the lazy penalty below).
- ``lr = 2e-4``, not 1e-4, for both players (DCGAN's rate; β₁ stays 0: the DCGAN's β₁ = 0.5,
  option ``beta1``, was far worse).
- ``gp_every = 4``: the penalty, with its double backward in fp32, on every 4th critic step
  only and weighed by 4 (lazy regularisation, StyleGAN2), so its average strength stays λ.
- ``beta2 = 0.99``, not 0.9 (StyleGAN2's β₂): Adam's scale for each weight averages over about
  100 steps instead of 10. At equal steps, on three seeds, it is 4-18% behind the paper's 0.9
  over the first 2,000 steps and 13-29% ahead from 3,700 on: at about 6,000 steps (ten minutes
  of a CPU with bf16 units) FD 23.6, 26.5 and 26.7 against 33.5, 33.5 and 32.2. 0.999 was worse.
- ``norm = "instance"``, not layer normalisation: each channel of each sample normalised over
  its own H·W (still per sample, so the penalty stays a property of one input). At equal steps
  on two seeds it is 10-23% ahead of layer normalisation from 2,300 steps on: FD 18.3 and 22.3
  against 23.6 and 26.5 at about 6,000 steps, for 5% of the steps.

``options=PAPER`` (CLI: ``--option n_critic=5 --option lr=1e-4 --option gp_every=1 --option
beta2=0.9 --option norm=layer``) gives the paper's recipe. ``--option mbstd=4`` adds ProGAN's
minibatch-stddev channel to the critic (Karras et al. 2018, who trained WGAN-GP with it): FD
23.6 against 29.7 at about 6,200 steps on one seed with β₂ = 0.9 (benchmarks/README.md, "What
keeps the DCGAN improving late"); with β₂ = 0.99 and the layer-normalised critic it ends at
28.7 and 25.9 against 23.6 and 26.5 on two seeds ("Two more tries at WGAN-GP's late gap"), and
with the instance-normalised one 21.6 and 26.6 against 18.3 and 22.3 ("Instance normalisation in
the WGAN-GP critic"): no gain, for 5% of the steps, so it stays an option.
``gp_every=8`` buys 7-8% more steps and ends 40% worse at equal steps.

Measured against the DCGAN's FD after ten minutes of each CPU, two seeds, at the steps that
CPU makes in ten minutes ("Instance normalisation in the WGAN-GP critic"): 1.28× and 0.98×
where a CPU runs fp32 with AVX2 kernels (about 2,300 generator steps), 1.15× and 1.73× in fp32
with AVX-512 (about 3,700), 1.40× and 1.87× with bf16 units (about 6,000 steps, replayed in
fp32; about 1.5× and 2.0× once instance normalisation's 5% fewer steps are counted); every
class at five minutes. With layer normalisation the last were 1.80× and 2.23×, and with
β₂ = 0.9 as well 2.55× and 2.82×.
"""

from __future__ import annotations

from ganedu import losses
from ganedu.gan import GAN
from ganedu.models import dcgan
from ganedu.models.base import ModelSpec, image_data
from ganedu.models.catalog import WGANGPOptions as Options
from ganedu.optim import adam
from ganedu.penalties import GradientPenalty

PAPER = {"n_critic": 5, "lr": 1e-4, "gp_every": 1, "beta2": 0.9, "norm": "layer"}
"""The paper's settings where the defaults depart from them: ``RunConfig("wgan-gp", options=PAPER)``."""


def build(config, options: Options, dev) -> GAN:
    """WGAN-GP: Wasserstein losses plus λ·GP (lazy, every ``gp_every`` critic steps), Adam(lr, (β₁, β₂))."""
    G, D = dcgan.networks(config, options.norm, options.spectral_norm, options.mbstd)
    lr_g, lr_d = options.learning_rates()
    betas = (options.beta1, options.beta2)
    return GAN(
        G, D,
        adam(G.parameters(), lr_g, betas),
        adam(D.parameters(), lr_d, betas),
        losses.wasserstein_d, losses.wasserstein_g, nz=dcgan.NZ, n_critic=options.n_critic,
        penalties={"GP": GradientPenalty(options.gp_weight, every=options.gp_every)},
        precision=config.precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec.declared("wgan-gp", build, image_data)
