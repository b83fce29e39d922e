"""WGAN (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN"), chapter 4.

The critic D estimates the Wasserstein-1 distance through the Kantorovich–Rubinstein dual,

.. math::
    W_1(p_{data}, p_g) = \\sup_{\\lVert f \\rVert_L \\le 1} \\mathbb{E}_{x}[f(x)] - \\mathbb{E}_{z}[f(G(z))],

so D minimises :math:`\\mathbb{E}[D(G(z))] - \\mathbb{E}[D(x)]` and G minimises
:math:`-\\mathbb{E}[D(G(z))]`. Weight clipping to :math:`[-c, c]` after every critic step keeps
D Lipschitz (crudely). Paper settings: RMSprop 5e-5, c = 0.01, 5 critic steps per G step.

The critic is the authors' DCGAN critic with BatchNorm (``norm=batch``; ``norm=none`` takes it
out). With it, this recipe covered every class in five minutes and reached 0.95× and 0.87× the
DCGAN's FD of the same sitting after ten (fp32 with AVX2 kernels only, two seeds), against 2.90×
without it (one seed); under the paper's settings, chapter 4's four minutes gave FD 365 with it
and 803 without (benchmarks/README.md, "Ten fp32 minutes with AVX2 kernels"). One difference
from the authors' code, named: they run 100 critic steps for the first 25 generator steps and
every 500th; ``warmup=1`` turns that schedule on.

Three departures from the paper, for a recipe that learns within minutes on a CPU
(benchmarks/README.md, "WGAN and WGAN-GP per CPU minute"; 3-minute runs, bf16, 2 cores, FD in
classifier features, DCGAN 114, measured with a critic without BatchNorm):

- ``n_critic = 1``, not 5: five times the generator steps per minute (RMSprop 5e-5, c = 0.01,
  one critic step: FD 573, 9 classes).
- ``lr = 2e-4``, not 5e-5 (462).
- ``clip = 0.1``, not 0.01 (c = 0.03: 233; c = 0.1: 179). At c = 0.01 most weights sit on
  ±c and the critic is nearly linear (chapter 4); a wider box leaves it room to be a critic.

``options=PAPER`` (CLI: ``--option n_critic=5 --option lr=5e-5 --option clip=0.01``) gives the
paper's recipe.
"""

from __future__ import annotations

from ganedu import losses
from ganedu.gan import GAN
from ganedu.models import dcgan
from ganedu.models.base import ModelSpec, image_data
from ganedu.models.catalog import WGANOptions as Options
from ganedu.optim import rmsprop
from ganedu.penalties import WeightClipping

PAPER = {"n_critic": 5, "lr": 5e-5, "clip": 0.01}
"""The paper's settings where the defaults depart from them: ``RunConfig("wgan", options=PAPER)``."""


class WGAN(GAN):
    """A :class:`GAN` whose critic steps follow the authors' schedule when ``warmup`` is on."""

    def __init__(self, *args, warmup: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.warmup, self.base_n_critic = warmup, self.n_critic

    def train_step(self, data, batch_size: int):
        """As :meth:`GAN.train_step`, with 100 critic updates on the authors' steps."""
        if self.warmup:
            self.n_critic = 100 if (self.step < 25 or self.step % 500 == 0) else self.base_n_critic
        return super().train_step(data, batch_size)


def build(config, options: Options, dev) -> GAN:
    """WGAN: Wasserstein losses, clipping after every critic step, RMSprop."""
    G, D = dcgan.networks(config, options.norm, options.spectral_norm, options.mbstd)
    lr_g, lr_d = options.learning_rates()
    return WGAN(
        G, D, rmsprop(G.parameters(), lr=lr_g), rmsprop(D.parameters(), lr=lr_d),
        losses.wasserstein_d, losses.wasserstein_g, nz=dcgan.NZ, n_critic=options.n_critic,
        after_d_step=[WeightClipping(options.clip)], warmup=options.warmup,
        precision=config.precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec.declared("wgan", build, image_data)
