r"""The stabilisation toolbox: tricks the classic GAN guides recommend, each small and tested.

Already elsewhere: one-sided label smoothing (:func:`ganedu.losses.smoothed_minimax_d`), the
gradient penalty, R1 and weight clipping (:mod:`ganedu.penalties`), spectral normalisation,
self-attention and minibatch standard deviation (:mod:`ganedu.nets.layers`). Here:

- :class:`InstanceNoise`: Gaussian noise on D's inputs, annealed to zero (Sønderby et al. 2017).
- :func:`feature_matching_loss` and :class:`FeatureMatchingGAN`: G matches the mean of D's
  features on real data instead of fooling D's output (Salimans et al. 2016).
- :func:`ttur_optimizers`: the two time-scale update rule, D learning faster than G
  (Heusel et al. 2017).
- :class:`UnrolledGAN`: G's loss taken against D unrolled k steps ahead (Metz et al. 2017).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.func import functional_call

from ganedu.gan import GAN


class InstanceNoise(nn.Module):
    r"""Wraps D: ``D(x + σ·ε)``, ε ~ N(0, I), with σ falling linearly from ``sigma`` to 0 over ``anneal_steps``.

    Why: early in training the real and generated distributions barely overlap, D separates
    them perfectly and its gradient says little. Blurring both with the same noise makes the
    supports overlap, so D's judgement stays smooth; as G improves the noise is taken away.
    Real and fake images get noise alike (noise on one side only would give D a tell).
    Noise is added in training mode only; call :meth:`anneal` once per D step (e.g. as an
    ``after_d_step`` hook: ``GAN(..., D=noisy, after_d_step=[lambda D: D.anneal()])``).
    """

    def __init__(self, D: nn.Module, sigma: float = 0.1, anneal_steps: int = 2000):
        super().__init__()
        self.D, self.sigma0, self.anneal_steps = D, sigma, anneal_steps
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))

    @property
    def sigma(self) -> float:
        """The noise level now: ``sigma·max(0, 1 − steps/anneal_steps)``."""
        return self.sigma0 * max(0.0, 1.0 - int(self.steps) / max(self.anneal_steps, 1))

    def anneal(self, *_) -> None:
        self.steps += 1

    def forward(self, x: Tensor, *cond) -> Tensor:
        if self.training and self.sigma > 0:
            x = x + self.sigma * torch.randn_like(x)
        return self.D(x, *cond)


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    r"""Feature matching (Salimans et al. 2016): :math:`\lVert \mathbb{E}_x f(x) - \mathbb{E}_z f(G(z)) \rVert_2^2`.

    ``f`` is an intermediate layer of D, features of shape (B, ...). The real mean is a fixed
    target (detached): only G moves. G is no longer asked to fool D on each sample but to
    produce data whose statistics match the real data's, a goal that does not move as fast
    when D changes.
    """
    real_mean = real_features.detach().flatten(1).float().mean(0)  # (F,)
    fake_mean = fake_features.flatten(1).float().mean(0)  # (F,)
    return (real_mean - fake_mean).square().sum()


class FeatureMatchingGAN(GAN):
    """A :class:`GAN` whose generator minimises :func:`feature_matching_loss` on ``D.features``.

    D trains as usual; G's step needs real data, so :meth:`g_step` draws a real batch for it.
    ``D`` must have a ``features`` sub-module (as :class:`ganedu.nets.dcgan.Discriminator`).
    """

    def g_step(self, data, batch_size: int) -> dict[str, Tensor]:
        """G's update on :func:`feature_matching_loss` against a fresh real batch from ``data``."""
        real, _ = data.sample(batch_size)
        self.D.requires_grad_(False)
        with self.autocast():
            fake = self.G(self.sample_z(batch_size))
            with torch.no_grad():
                real_features = self.D.features(self._layout(real))
            fake_features = self.D.features(fake)
        loss = feature_matching_loss(real_features, fake_features)
        self.update_generator(loss)
        return {"loss_G": loss.detach()}


def ttur_optimizers(
    G: nn.Module, D: nn.Module, lr_g: float = 1e-4, lr_d: float = 4e-4, betas=(0.0, 0.9)
) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for G and D with separate learning rates (TTUR, Heusel et al. 2017): D at 4× G's by default.

    Heusel et al. prove that with separate step sizes the pair converges to a local Nash
    equilibrium; in practice a faster D replaces ``n_critic`` > 1 at a fraction of the cost.
    """
    return (
        torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas, foreach=True),
        torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas, foreach=True),
    )


class UnrolledGAN(GAN):
    r"""Unrolled GAN (Metz et al. 2017): G's loss against D after ``unroll`` look-ahead steps.

    .. math::
        \theta_D^{0} = \theta_D,\qquad
        \theta_D^{k+1} = \theta_D^{k} - \eta\,\nabla_{\theta_D} L_D(\theta_D^{k}, \theta_G),\qquad
        L_G^{\text{unrolled}} = L_G\big(\theta_G, \theta_D^{K}\big)

    G asks not "what fools D now?" but "what still fools D after D has reacted?". A G that
    piles onto one mode sees D move to reject that mode within the look-ahead, so collapsing
    no longer pays. The look-ahead steps are plain gradient steps of size ``unroll_lr`` on
    a functional copy of D's weights (D itself is not changed); with ``second_order`` the
    gradient flows through the unrolling into G (the paper's full method), otherwise each
    look-ahead step is treated as a constant (cheaper, most of the benefit on toy data).
    For the small MLPs of the 2D toy problems; every G step costs ``unroll`` extra D passes.
    """

    def __init__(self, *args, unroll: int = 5, unroll_lr: float = 1e-3, second_order: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.unroll, self.unroll_lr, self.second_order = unroll, unroll_lr, second_order

    def g_step(self, data, batch_size: int) -> dict[str, Tensor]:
        """G's update on its loss against D unrolled ``unroll`` steps ahead on real batches from ``data``."""
        params = {k: p.detach().requires_grad_(True) for k, p in self.D.named_parameters()}
        buffers = dict(self.D.named_buffers())
        fake = self.G(self.sample_z(batch_size))
        for _ in range(self.unroll):
            real, _ = data.sample(batch_size)
            fake_k = fake if self.second_order else fake.detach()
            d_loss = self.d_loss(
                functional_call(self.D, (params, buffers), (real,)),
                functional_call(self.D, (params, buffers), (fake_k,)),
            )
            grads = torch.autograd.grad(d_loss, list(params.values()), create_graph=self.second_order)
            params = {k: p - self.unroll_lr * g for (k, p), g in zip(params.items(), grads, strict=True)}
        loss = self.g_loss(functional_call(self.D, (params, buffers), (fake,)))
        self.update_generator(loss)  # D's own weights get no gradient: the look-ahead used detached copies
        return {"loss_G": loss.detach()}
