r"""R3GAN (Huang, Gokaslan, Kuleshov & Tompkin 2024, "The GAN is dead; long live the GAN! A Modern
Baseline GAN", NeurIPS), chapter 10, small enough for 32×32 on a CPU.

The paper's claim: a GAN needs no bag of tricks once its loss is well behaved. Its loss:

* **RpGAN**, the relativistic pairing loss (:func:`ganedu.losses.relativistic_d`, ``_g``):
  each real image is compared with a fake, :math:`\operatorname{softplus}(-(D(x) - D(G(z))))`
  for D and the same with real and fake swapped for G. Its landscape has no mode-dropping
  local minima of the kind the non-saturating loss has (§2.1). G's loss needs D(x), so the
  generator step here evaluates the frozen D on a real batch too (:class:`R3GAN`).
* **R1 + R2**: zero-centred gradient penalties on the reals *and* on the fakes, each
  :math:`\tfrac{\gamma}{2}\mathbb{E}\lVert\nabla D\rVert^2`, on every step
  (:class:`ganedu.penalties.R1Penalty`, :class:`ganedu.penalties.R2Penalty`). With both, RpGAN
  converges locally (§2.2).

With that loss, the networks modernise freely (:mod:`ganedu.nets.r3gan`). Training uses Adam
with β1 = 0 and, in the paper, cosine ramps over 20M images of the learning rate, γ, β2 and
the augmentation probability (:func:`paper_schedule`); ``schedule=paper`` follows them,
``schedule=constant`` (the CPU default) holds the values of the options. Augmentation of
everything D sees (``augment``) is :mod:`ganedu.augment`'s DiffAugment, optionally with
StyleGAN2-ADA's adaptive probability.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from ganedu import losses
from ganedu.augment import AdaptiveProbability, DiffAugment, parse_policy
from ganedu.gan import GAN
from ganedu.models.base import ModelSpec, image_data
from ganedu.models.catalog import PAPER_RAMP_IMAGES
from ganedu.models.catalog import R3GANOptions as Options
from ganedu.models.options import OptionError
from ganedu.nets.r3gan import Discriminator, Generator
from ganedu.optim import adam
from ganedu.penalties import R1Penalty, R2Penalty

PAPER_RAMPS = {"lr": (2e-4, 5e-5), "gamma": (0.05, 0.005), "beta2": (0.9, 0.99), "augment_p": (0.0, 0.55)}
"""R3GAN's CIFAR-10 schedule: each value's (start, end), reached after :data:`PAPER_RAMP_IMAGES`."""


def cosine_ramp(images: float, start: float, end: float, duration: float) -> float:
    r"""A value that moves from ``start`` to ``end`` along half a cosine over ``duration`` images, then stays.

    .. math:: v(t) = v_0 + (v_1 - v_0)\,\tfrac12\big(1 - \cos(\pi \min(t, T) / T)\big)

    (R3GAN's ``cosine_decay_with_warmup`` without warm-up.) Flat at both ends, fastest midway.
    """
    t = min(max(images, 0.0), duration) / duration
    return start + (end - start) * 0.5 * (1.0 - math.cos(math.pi * t))


def paper_schedule(images: float, duration: float = PAPER_RAMP_IMAGES) -> dict[str, float]:
    """The paper's lr, γ, β2 and augmentation probability after ``images`` training images (:data:`PAPER_RAMPS`)."""
    return {name: cosine_ramp(images, a, b, duration) for name, (a, b) in PAPER_RAMPS.items()}


class R3GAN(GAN):
    """The R3GAN bundle: RpGAN loss, R1 + R2 on every step, a generator step that sees real images.

    Args:
        G, D: the networks (any pair: :mod:`ganedu.nets.r3gan`, or an MLP on toy data).
        opt_g, opt_d: their optimizers (Adam with β1 = 0 in the paper).
        nz: latent dimension.
        gamma: γ of R1 and of R2 (each weighs γ/2).
        augment: a :class:`ganedu.augment.DiffAugment` for every image D sees, or ``None``.
        adaptive: a :class:`ganedu.augment.AdaptiveProbability` that sets ``augment.p`` from
            D's logits on the real batch of each generator step (StyleGAN2-ADA), or ``None``.
        schedule: ``schedule(images) -> {"lr", "gamma", "beta2", "augment_p"}`` applied before
            each step (any subset of the keys; e.g. :func:`paper_schedule`), or ``None``.
        ema_half_life, precision, device: as in :class:`GAN`.
    """

    def __init__(
        self,
        G: nn.Module,
        D: nn.Module,
        opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer,
        nz: int,
        gamma: float = 0.05,
        augment: DiffAugment | None = None,
        adaptive: AdaptiveProbability | None = None,
        schedule: Callable[[float], dict[str, float]] | None = None,
        ema_half_life: float | None = 10_000,
        precision: str = "fp32",
        device: torch.device | str = "cpu",
    ):
        if adaptive is not None and augment is None:
            raise ValueError("an adaptive augmentation probability needs augment=DiffAugment(...) to act on")
        super().__init__(
            G, D, opt_g, opt_d, losses.relativistic_d, losses.relativistic_g, nz=nz,
            penalties={"R1": R1Penalty(gamma), "R2": R2Penalty(gamma)}, augment=augment,
            ema_half_life=ema_half_life, precision=precision, device=device,
        )  # fmt: skip
        self.adaptive, self.schedule = adaptive, schedule
        if adaptive is not None:
            augment.p = adaptive.p

    def set_hyperparameters(self, values: dict[str, float]) -> None:
        """Set lr and β2 of both optimizers, γ of R1 and R2, and the augmentation probability from ``values``."""
        for opt in self.optimizers().values():
            for group in opt.param_groups:
                if "lr" in values:
                    group["lr"] = values["lr"]
                if "beta2" in values:
                    group["betas"] = (group["betas"][0], values["beta2"])
        if "gamma" in values:
            for penalty in self.penalties.values():
                penalty.gamma = values["gamma"]
        if "augment_p" in values and self.augment is not None and self.adaptive is None:
            self.augment.p = values["augment_p"]

    def train_step(self, data, batch_size: int) -> dict[str, Tensor]:
        """The scheduled hyper-parameters for the images seen so far, then :meth:`GAN.train_step`."""
        if self.schedule is not None:
            self.set_hyperparameters(self.schedule(self.step * batch_size))
        logs = super().train_step(data, batch_size)
        if self.augment is not None:
            logs["augment p"] = torch.tensor(float(self.augment.p))
        return logs

    def g_step(self, data, batch_size: int) -> dict[str, Tensor]:
        r"""One generator update on :math:`\operatorname{softplus}(-(D(G(z)) - D(x)))`, D frozen.

        Draws a real batch from ``data``: each fake is paired with a real image. D's logits on
        those reals also feed the adaptive augmentation probability, at no extra cost.
        """
        real, labels = data.sample(batch_size)
        labels = labels if self.num_classes else None
        cond = self._cond(labels)
        self.D.requires_grad_(False)  # gradients flow through D to G; D's own weights need none
        with self.autocast():
            real_logits = self.D(self.seen_by_d(self.in_layout(real)), *cond)  # no graph: nothing needs grad
            fake_logits = self.D(self.seen_by_d(self.generate(batch_size, labels)), *cond)
        loss = self.g_loss(real_logits.float(), fake_logits.float())
        self.update_generator(loss)
        if self.adaptive is not None:
            self.augment.p = self.adaptive.update(real_logits)
        return {"loss_G": loss.detach()}

    def state_dict(self) -> dict:
        """:meth:`GAN.state_dict`, with the adaptive augmentation's state when there is one."""
        state = super().state_dict()
        if self.adaptive is not None:
            state["adaptive"] = self.adaptive.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if self.adaptive is not None and "adaptive" in state:
            self.adaptive.load_state_dict(state["adaptive"])
            self.augment.p = self.adaptive.p


def build(config, options: Options, dev) -> R3GAN:
    """R3GAN for ``config``'s images padded to 32×32: modern ConvNets, RpGAN + R1 + R2, Adam(β1 = 0)."""
    try:
        policy = ",".join(parse_policy(options.augment_policy))
    except ValueError as e:
        raise OptionError(f"option 'augment_policy' of r3gan: {e}") from None
    nets = dict(width=options.width, max_width=options.max_width, expansion=options.expansion,
                group_width=options.group_width)  # fmt: skip
    # R1 and R2 take a double backward through D on every step, so D's blocks at 32×32 cost as much
    # as all the rest: one step at batch 64 on one CPU thread took 1.9-2.4 s with them, 0.94 s
    # without (DCGAN: 0.49-0.54 s)
    d_blocks = [options.blocks] * 3 + [options.d_blocks_32]
    try:
        G = Generator(options.nz, config.channels, blocks=options.blocks, **nets)
        D = Discriminator(config.channels, blocks=d_blocks, **nets)
    except ValueError as e:
        raise OptionError(f"r3gan: {e}") from None
    paper = options.schedule == "paper"
    start = (
        paper_schedule(0, options.ramp_images) if paper
        else {"lr": options.lr, "beta2": options.beta2, "gamma": options.gamma, "augment_p": options.augment_p}
    )  # fmt: skip
    augment = DiffAugment(policy, start["augment_p"]) if options.augment != "none" else None
    adaptive = AdaptiveProbability(target=options.ada_target) if options.augment == "adaptive" else None

    def optimizer(net: nn.Module) -> torch.optim.Adam:
        return adam(net.parameters(), start["lr"], (0.0, start["beta2"]))

    # "auto" picks fp32 on a CPU: R1 and R2 run in fp32 whatever the precision, and the grouped
    # convs are slower in bf16 there (one step at batch 64 on one thread: 0.89 s bf16, 0.61 s fp32)
    precision = "fp32" if config.precision == "auto" and dev.type == "cpu" else config.precision
    return R3GAN(
        G, D, optimizer(G), optimizer(D), nz=options.nz, gamma=start["gamma"], augment=augment, adaptive=adaptive,
        schedule=(lambda images: paper_schedule(images, options.ramp_images)) if paper else None,
        ema_half_life=options.ema_half_life or None, precision=precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec.declared("r3gan", build, image_data)
