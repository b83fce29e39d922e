r"""StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN"),
chapter 8, small enough for 32×32 on a CPU. The networks are in :mod:`ganedu.nets.stylegan`;
here is everything that lives outside them:

* Non-saturating logistic losses (:mod:`ganedu.losses`).
* **Lazy R1** (Mescheder et al. 2018; StyleGAN2 §B): the penalty
  :math:`\tfrac{\gamma}{2}\,\mathbb{E}_x\lVert\nabla_x D(x)\rVert^2` on real images is computed
  only every ``k`` = 16 discriminator steps and multiplied by ``k``, so on average it weighs
  the same as if it ran every step (:class:`ganedu.penalties.R1Penalty` with ``every=k``).
  Adam's hyper-parameters are corrected for the extra gradient step:
  :math:`\eta \to c\,\eta`, :math:`\beta \to \beta^c` with :math:`c = k/(k+1)` (:func:`lazy_adam`).
* **Style-mixing regularisation**: each generated image, with probability ``mixing_prob``
  (0.9), takes its styles from two latents, switching at a random layer, so no layer can
  assume its neighbours share its style.
* **EMA of G** (half-life in images) and **truncation** at sampling time.

Borrowed from StyleGAN2-ADA's ``training/loss.py`` and ``training_loop.py``, in small form.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganedu import losses
from ganedu.gan import GAN
from ganedu.models.base import ModelSpec, check_minibatch_groups, image_data
from ganedu.models.catalog import StyleGANOptions as Options
from ganedu.nets.stylegan import Discriminator, Generator, mix_styles
from ganedu.optim import adam
from ganedu.penalties import R1Penalty


def lazy_adam(params, lr: float, betas: tuple[float, float], interval: int | None) -> torch.optim.Adam:
    r"""Adam for a network regularised every ``interval`` steps: :math:`c\,\eta` and :math:`\beta^c`, :math:`c = k/(k+1)`."""
    c = interval / (interval + 1) if interval else 1.0
    return adam(params, lr * c, (betas[0] ** c, betas[1] ** c))


class StyleGAN(GAN):
    """The StyleGAN2 bundle: non-saturating loss, lazy R1 on D, style mixing, EMA of G.

    Args:
        G: a :class:`ganedu.nets.stylegan.Generator`.
        D: a :class:`ganedu.nets.stylegan.Discriminator`.
        opt_g, opt_d: their optimizers (D's from :func:`lazy_adam` with the same interval).
        r1_gamma: γ of the R1 penalty.
        r1_interval: k, discriminator steps between R1 computations.
        mixing_prob: share of generated images that use two latents.
        ema_half_life, precision, device: as in :class:`GAN`.
    """

    def __init__(
        self,
        G: Generator,
        D: Discriminator,
        opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer,
        r1_gamma: float = 0.01,
        r1_interval: int = 16,
        mixing_prob: float = 0.9,
        ema_half_life: float | None = 10_000,
        precision: str = "fp32",
        device: torch.device | str = "cpu",
    ):
        penalties = {"R1": R1Penalty(r1_gamma, every=r1_interval)} if r1_interval else {}
        super().__init__(
            G, D, opt_g, opt_d, losses.minimax_d, losses.nonsaturating_g, nz=G.z_dim,
            penalties=penalties, ema_half_life=ema_half_life, precision=precision, device=device,
        )  # fmt: skip
        self.mixing_prob = mixing_prob

    def mixed_ws(self, n: int) -> Tensor:
        """Per-layer latents (n, num_ws, w_dim); with probability ``mixing_prob`` a second z takes over at a random layer."""
        num_ws = self.G.num_ws
        w1, w2 = self.G.mapping(self.sample_z(n)), self.G.mapping(self.sample_z(n))
        crossover = torch.randint(1, num_ws, (n,), device=self.device)
        mixed = torch.rand(n, device=self.device) < self.mixing_prob
        crossover = torch.where(mixed, crossover, torch.full_like(crossover, num_ws))
        return mix_styles(w1, w2, crossover, num_ws)

    def generate(self, n: int, labels: Tensor | None = None) -> Tensor:
        """Fakes for a training step, every one from mixed styles (:meth:`mixed_ws`)."""
        return self.G.synthesis(self.mixed_ws(n))

    @torch.no_grad()
    def sample(
        self, n: int, labels=None, seed: int | None = None, ema: bool = True, truncation: float = 1.0
    ) -> Tensor:
        """``n`` images from the EMA generator with truncation ψ = ``truncation``; ``seed`` fixes z and the noise."""
        G = self.ema.model if (ema and self.ema is not None) else self.G
        was_training = G.training
        G.eval()
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices, enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            out = G(torch.randn(n, self.nz, device=self.device), psi=truncation).float()
        G.train(was_training)
        return out


def build(config, options: Options, dev) -> StyleGAN:
    """StyleGAN2 with lazy R1, style mixing and an EMA generator, for ``config``'s images padded to 32×32."""
    nc = config.channels
    G = Generator(options.z_dim, options.w_dim, nc, 32, options.mapping_layers, options.cbase, options.cmax)
    D = Discriminator(nc, 32, options.cbase, options.cmax)
    check_minibatch_groups(config, D.mbstd_group)
    # lr 0.01, not StyleGAN2-ADA's 0.0025 for long runs: over a 3-minute CPU budget (bf16, AMX)
    # 0.01 reached a classifier-feature FD of 243 against 318
    lr, betas, k = options.lr, (0.0, 0.99), options.r1_interval
    return StyleGAN(
        G, D, lazy_adam(G.parameters(), lr, betas, None), lazy_adam(D.parameters(), lr, betas, k or None),
        r1_gamma=options.r1_gamma, r1_interval=k, mixing_prob=options.mixing_prob,
        ema_half_life=options.ema_half_life or None, precision=config.precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec.declared("stylegan", build, image_data)
