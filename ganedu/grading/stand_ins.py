"""What a notebook trains with in a student release while the learner's exercise still fails.

In the course repository :func:`ganedu.grading.use` hands back the reference
``solutions/<name>.py`` until the learner's file passes. A student release has no
``solutions/``, so there it hands back a stand-in made here from the package's own reference
code: the same function names and contracts as the exercise, built from ``ganedu.losses``,
``ganedu.penalties``, ``ganedu.nets`` and ``ganedu.models``, which the notebooks import anyway.
They cover only what a chapter's training cell calls (the ``train_step`` of most chapters,
DCGAN's builders, CycleGAN's pieces), so the rest of each exercise stays the learner's to write.

Each stand-in passes its chapter's tests of those functions (``tests/test_release.py`` checks
it), so a notebook trains the same way whichever of the two it got.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import torch
from torch import Tensor, nn

from ganedu import losses
from ganedu.models import cyclegan
from ganedu.nets import dcgan
from ganedu.nets.stylegan import mix_styles
from ganedu.penalties import GradientPenalty, R1Penalty, WeightClipping


def _update(opt: torch.optim.Optimizer, loss: Tensor) -> float:
    """One step of ``opt`` on ``loss`` from zeroed gradients; returns the loss as a float."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


def _through_frozen(D: nn.Module, fn: Callable[[], Tensor]) -> Tensor:
    """``fn()`` with D's weights needing no gradient (G's phase: gradients pass through D to G)."""
    D.requires_grad_(False)
    try:
        return fn()
    finally:
        D.requires_grad_(True)


def _d_then_g(G, D, opt_g, opt_d, real, fake, d_loss, g_loss, cond_real=(), cond_fake=()) -> dict[str, float]:
    """D's update on ``real`` and the detached ``fake`` (attached to G), then G's on ``fake`` through the new D."""
    loss_d = _update(opt_d, d_loss(D(real, *cond_real), D(fake.detach(), *cond_fake)))
    loss_g = _update(opt_g, _through_frozen(D, lambda: g_loss(D(fake, *cond_fake))))
    return {"loss_d": loss_d, "loss_g": loss_g}


def _gan_basics_step(G, D, opt_g, opt_d, real, sample_z) -> dict[str, float]:
    b = real.shape[0]
    loss_d = _update(opt_d, losses.minimax_d(D(real), D(G(sample_z(b)).detach())))
    loss_g = _update(opt_g, _through_frozen(D, lambda: losses.nonsaturating_g(D(G(sample_z(b))))))
    return {"loss_d": loss_d, "loss_g": loss_g}


def _dcgan_step(G, D, opt_g, opt_d, real, z) -> dict[str, float]:
    return _d_then_g(G, D, opt_g, opt_d, real, G(z), losses.minimax_d, losses.nonsaturating_g)


def _dcgan_discriminator(nc: int = 1, ndf: int = 64) -> nn.Sequential:
    features, width = dcgan.discriminator_features(nc, ndf, image_size=32)
    return nn.Sequential(*features, nn.Conv2d(width, 1, 4, 1, 0, bias=False), nn.Flatten(0))  # (B,)


def _dcgan_init(module: nn.Module) -> None:
    """The package's DCGAN initialisation, on convolutions and BatchNorm only (as the exercise asks)."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.BatchNorm2d):
        dcgan.init_weights(module)


def _conditional_step(G, D, opt_g, opt_d, real, labels, z, fake_labels) -> dict[str, float]:
    fake = G(z, fake_labels)
    return _d_then_g(
        G, D, opt_g, opt_d, real, fake, losses.minimax_d, losses.nonsaturating_g, (labels,), (fake_labels,)
    )


def _wgan_step(G, D, opt_g, opt_d, next_real, sample_z, n_critic: int = 5, clip: float = 0.01):
    clipping = WeightClipping(clip)
    for _ in range(n_critic):
        real = next_real()
        loss_d = _update(opt_d, losses.wasserstein_d(D(real), D(G(sample_z(real.shape[0])).detach())))
        clipping(D)
    loss_g = _update(opt_g, _through_frozen(D, lambda: losses.wasserstein_g(D(G(sample_z(real.shape[0]))))))
    return {"loss_d": loss_d, "loss_g": loss_g}


def _wgan_gp_step(G, D, opt_g, opt_d, sample_real, sample_z, n_critic: int = 5, gp_weight: float = 10.0):
    penalty = GradientPenalty(gp_weight)
    for _ in range(n_critic):
        real = sample_real()
        fake = G(sample_z()).detach()
        estimate = D(real).mean() - D(fake).mean()
        gp = penalty(D, real, fake)
        loss_d = _update(opt_d, gp - estimate)
    loss_g = _update(opt_g, _through_frozen(D, lambda: losses.wasserstein_g(D(G(sample_z())))))
    return {"loss_d": loss_d, "gp": gp.item(), "wasserstein": estimate.item(), "loss_g": loss_g}


def _lsgan_step(G, D, opt_g, opt_d, real, z, d_loss, g_loss) -> dict[str, float]:
    fake = G(z)
    loss_d = _update(opt_d, d_loss(D(real), D(fake.detach())))
    loss_g = _update(opt_g, _through_frozen(D, lambda: g_loss(D(real), D(fake))))
    return {"loss_d": loss_d, "loss_g": loss_g}


def _cyclegan_objective(
    adv_ab, adv_ba, a, rec_a, b, rec_b, idt_a, idt_b, lambda_cycle=10.0, lambda_identity=0.5
):
    cycles = cyclegan.cycle_loss(a, rec_a) + cyclegan.cycle_loss(b, rec_b)
    identities = cyclegan.identity_loss(a, idt_a) + cyclegan.identity_loss(b, idt_b)
    return adv_ab + adv_ba + lambda_cycle * (cycles + lambda_identity * identities)


def _cyclegan_discriminator_step(D, opt_d, real, fake, pool) -> dict[str, float]:
    pooled = pool.query(fake.detach())
    return {"loss_d": _update(opt_d, losses.least_squares_d(D(real), D(pooled)))}  # ½ of each mean


def _stylegan_step(G, D, opt_g, opt_d, real, z, z_mix, crossover, step, r1_gamma=10.0, r1_every=16):
    fake = G.synthesis(mix_styles(G.mapping(z), G.mapping(z_mix), crossover, G.num_ws))
    loss_d = losses.minimax_d(D(real), D(fake.detach()))
    r1 = R1Penalty(r1_gamma, every=r1_every)(D, real, fake) if step % r1_every == 0 else None
    _update(opt_d, loss_d if r1 is None else loss_d + r1)
    loss_g = _update(opt_g, _through_frozen(D, lambda: losses.nonsaturating_g(D(fake))))
    return {"loss_d": loss_d.item(), "r1": 0.0 if r1 is None else r1.item() / r1_every, "loss_g": loss_g}


STAND_INS = {
    "ex01_gan_basics": {"train_step": _gan_basics_step},
    "ex02_dcgan": {
        "build_generator": lambda nz=100, ngf=64, nc=1: dcgan.generator_body(nz, ngf, nc, image_size=32),
        "build_discriminator": _dcgan_discriminator,
        "init_weights": _dcgan_init,
        "train_step": _dcgan_step,
    },
    "ex03_conditional": {"train_step": _conditional_step},
    "ex04_wgan": {"train_step": _wgan_step},
    "ex05_wgan_gp": {"train_step": _wgan_gp_step},
    "ex06_lsgan": {
        "ls_discriminator_loss": losses.least_squares_d,
        "ls_generator_loss": losses.least_squares_g,
        "train_step": _lsgan_step,
    },
    "ex07_cyclegan": {
        "cycle_consistency_loss": cyclegan.cycle_loss,
        "generator_objective": _cyclegan_objective,
        "ImagePool": cyclegan.ImagePool,
        "learning_rate_factor": cyclegan.linear_decay,
        "discriminator_step": _cyclegan_discriminator_step,
    },
    "ex08_stylegan": {"train_step": _stylegan_step},
}


def stand_in(name: str) -> SimpleNamespace | None:
    """The package's stand-in for what exercise ``name``'s notebook trains with, or None (a
    chapter whose notebook trains with none of the learner's functions)."""
    functions = STAND_INS.get(name)
    return SimpleNamespace(**functions) if functions is not None else None
