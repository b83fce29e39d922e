r"""Training a StyleGAN2 (Karras et al. 2020), the parts that live outside the networks.

* Non-saturating logistic losses (:mod:`ganedu.losses`).
* **Lazy R1** (Mescheder et al. 2018; StyleGAN2 §B): the penalty
  :math:`\tfrac{\gamma}{2}\,\mathbb{E}_x\lVert\nabla_x D(x)\rVert^2` on real images is computed
  only every ``k`` = 16 discriminator steps and multiplied by ``k``, so on average it weighs
  the same as if it ran every step. Adam's hyper-parameters are corrected for the extra
  gradient step: :math:`\eta \to c\,\eta`, :math:`\beta \to \beta^c` with :math:`c = k/(k+1)`
  (:func:`lazy_adam`).
* **Style-mixing regularisation**: for 90% of generated images two latents drive the
  layers, switching at a random layer, so no layer can assume its neighbours share its style.
* **EMA of G** (half-life in images) and **truncation** at sampling time.

Borrowed from StyleGAN2-ADA's ``training/loss.py`` and ``training_loop.py``, in small form.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganedu import losses
from ganedu.data import to_uint8
from ganedu.gan import GAN
from ganedu.nets.stylegan import Discriminator, Generator, mix_styles


def r1_penalty(D, real: Tensor) -> Tensor:
    r"""R1 (Mescheder et al. 2018): :math:`\mathbb{E}_x \lVert \nabla_x D(x) \rVert_2^2` at real images, fp32.

    Returns the mean over the batch of the squared gradient norm over all of C·H·W; the caller
    weighs it by γ/2. ``create_graph=True`` so that the penalty itself can be differentiated.
    """
    real = real.detach().float().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(real).sum(), real, create_graph=True)
    return grad.square().sum(dim=(1, 2, 3)).mean()


def lazy_adam(params, lr: float, betas: tuple[float, float], interval: int | None) -> torch.optim.Adam:
    r"""Adam for a network regularised every ``interval`` steps: :math:`c\,\eta` and :math:`\beta^c`, :math:`c = k/(k+1)`."""
    c = interval / (interval + 1) if interval else 1.0
    return torch.optim.Adam(params, lr=lr * c, betas=(betas[0] ** c, betas[1] ** c), foreach=True)


class StyleGAN(GAN):
    """The StyleGAN2 bundle: non-saturating loss, lazy R1 on D, style mixing, EMA of G.

    Args:
        G: a :class:`ganedu.nets.stylegan.Generator`.
        D: a :class:`ganedu.nets.stylegan.Discriminator`.
        opt_g, opt_d: their optimizers (D's from :func:`lazy_adam` with the same interval).
        r1_gamma: γ of the R1 penalty.
        r1_interval: k, discriminator steps between R1 computations.
        mixing_prob: share of generated images that use two latents.
        ema_half_life, batch_size, precision, device: as in :class:`GAN`.
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
        batch_size: int = 64,
        precision: str = "fp32",
        device: torch.device | str = "cpu",
    ):
        super().__init__(
            G, D, opt_g, opt_d, losses.minimax_d, losses.nonsaturating_g, nz=G.z_dim,
            ema_half_life=ema_half_life, batch_size=batch_size, precision=precision, device=device,
        )  # fmt: skip
        self.r1_gamma, self.r1_interval, self.mixing_prob = r1_gamma, r1_interval, mixing_prob

    def mixed_ws(self, n: int) -> Tensor:
        """Per-layer latents (n, num_ws, w_dim); with probability ``mixing_prob`` a second z takes over at a random layer."""
        num_ws = self.G.num_ws
        w1, w2 = self.G.mapping(self.sample_z(n)), self.G.mapping(self.sample_z(n))
        crossover = torch.randint(1, num_ws, (n,), device=self.device)
        mixed = torch.rand(n, device=self.device) < self.mixing_prob
        crossover = torch.where(mixed, crossover, torch.full_like(crossover, num_ws))
        return mix_styles(w1, w2, crossover, num_ws)

    def d_step(self, real: Tensor, labels: Tensor | None = None) -> dict[str, Tensor]:
        """Logistic D loss on reals and fresh (mixed-style) fakes; every ``r1_interval`` steps also k·γ/2·R1."""
        real = self._layout(real)
        with torch.no_grad(), self.autocast():
            fake = self.G.synthesis(self.mixed_ws(real.shape[0]))
        with self.autocast():
            real_logits, fake_logits = self.D(real), self.D(fake)
        loss = self.d_loss(real_logits.float(), fake_logits.float())
        logs = {"loss_D": loss.detach()}
        if self.r1_interval and self.step % self.r1_interval == 0:
            r1 = r1_penalty(self.D, real)  # in fp32: a double backward
            loss = loss + self.r1_interval * self.r1_gamma / 2 * r1
            logs["R1"] = r1.detach()
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        logs["D(x)"] = real_logits.detach().float().mean()
        logs["D(G(z))"] = fake_logits.detach().float().mean()
        return logs

    def g_step(self, batch_size: int, labels: Tensor | None = None) -> dict[str, Tensor]:
        """Non-saturating G loss through the fixed D, with style mixing; then the EMA update."""
        self.D.requires_grad_(False)
        with self.autocast():
            fake_logits = self.D(self.G.synthesis(self.mixed_ws(batch_size)))
        loss = self.g_loss(fake_logits.float())
        self.update_generator(loss)
        return {"loss_G": loss.detach()}

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

    def export(self, n: int, data, seed: int = 0, truncation: float = 1.0) -> dict:
        """``n`` uint8 samples at the data's size for ``python -m ganedu sample [--truncation PSI]``."""
        chunks = [
            self.sample(min(500, n - start), seed=seed + i, truncation=truncation)
            for i, start in enumerate(range(0, n, 500))
        ]
        return {"images": to_uint8(torch.cat(chunks), crop_to=data.images.shape[-1]).cpu().numpy()}
