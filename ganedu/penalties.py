r"""Regularisers of the discriminator (critic): gradient penalty, R1, R2, weight clipping.

Each penalty is a callable ``penalty(D, real, fake, labels) -> scalar`` that
:class:`ganedu.gan.GAN` adds to D's loss, in fp32 and outside autocast (they take a
double backward). Weight clipping is an ``after_d_step`` hook instead.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def grad_of_critic(D: nn.Module, x: Tensor, labels: Tensor | None) -> Tensor:
    """∇ₓ Σ D(x) in fp32 with autocast off, keeping the graph for the double backward."""
    x = x.float().requires_grad_(True)
    with torch.autocast(x.device.type, enabled=False):
        out = D(x) if labels is None else D(x, labels)
        (grad,) = torch.autograd.grad(out.float().sum(), x, create_graph=True)
    return grad


class GradientPenalty:
    r"""WGAN-GP's two-sided penalty (Gulrajani et al. 2017, eq. 3).

    .. math::
        \lambda\, \mathbb{E}_{\hat x}\big[(\lVert \nabla_{\hat x} D(\hat x) \rVert_2 - 1)^2\big],
        \qquad \hat x = \alpha x + (1 - \alpha)\, G(z),\ \alpha \sim U[0, 1]

    - one :math:`\alpha` **per sample**, shape (B, 1, 1, 1): each :math:`\hat x` lies on the
      segment between one real and one fake image (a per-pixel α leaves that segment);
    - the norm is taken over **all** of C·H·W of each sample (``flatten(1)``), not one axis;
    - ``create_graph=True`` so the penalty's own gradient reaches D's weights.

    With ``every`` = k > 1 it is lazy, as R1 is in StyleGAN2 (Karras et al. 2020, §3.1): taken
    on every k-th critic update only and weighed by k, so its average strength stays λ. This is
    not in the WGAN-GP paper; it cuts the double backward, the costliest part of a critic step,
    to one step in k.

    ``centre=0`` pulls the gradient towards zero instead of norm 1: the zero-centred penalty of
    Thanh-Tung et al. (2019), also not in the WGAN-GP paper.

    Args:
        weight: λ (10 in the paper).
        generator: optional ``torch.Generator`` for α, for reproducible tests.
        every: k, the penalty's interval in critic updates (1 in the paper).
        centre: the gradient norm the penalty pulls towards (1 in the paper).
    """

    def __init__(
        self,
        weight: float = 10.0,
        generator: torch.Generator | None = None,
        every: int = 1,
        centre: float = 1.0,
    ):
        self.weight, self.generator, self.every, self.centre = weight, generator, every, centre

    def __call__(self, D: nn.Module, real: Tensor, fake: Tensor, labels: Tensor | None = None) -> Tensor:
        real, fake = real.float(), fake.detach().float()
        shape = (real.shape[0],) + (1,) * (real.dim() - 1)  # (B, 1, 1, 1)
        alpha = torch.rand(shape, device=real.device, generator=self.generator)
        grad = grad_of_critic(D, alpha * real + (1 - alpha) * fake, labels)  # (B, C, H, W)
        norms = grad.flatten(1).norm(2, dim=1)  # (B,): ‖∇D(x̂)‖ over C·H·W
        return self.weight * self.every * ((norms - self.centre) ** 2).mean()


class R1Penalty:
    r"""R1 regularisation on real data (Mescheder, Geiger & Nowozin 2018).

    .. math:: \frac{\gamma}{2}\, \mathbb{E}_{x \sim p_{data}}\big[\lVert \nabla_x D(x) \rVert^2\big]

    With ``every`` = k > 1 it is lazy (StyleGAN2): :class:`ganedu.gan.GAN` computes it on every
    k-th discriminator update only, and it weighs itself by k so its average strength stays the
    same. (Pair it with :func:`ganedu.models.stylegan.lazy_adam` for the optimizer correction.)
    """

    def __init__(self, gamma: float = 10.0, every: int = 1):
        self.gamma, self.every = gamma, every

    def __call__(self, D: nn.Module, real: Tensor, fake: Tensor, labels: Tensor | None = None) -> Tensor:
        grad = grad_of_critic(D, real.detach(), labels)  # (B, C, H, W)
        return 0.5 * self.gamma * self.every * grad.flatten(1).pow(2).sum(1).mean()


class R2Penalty:
    r"""R2 regularisation on generated data (Mescheder, Geiger & Nowozin 2018; R3GAN, Huang et al. 2024).

    .. math:: \frac{\gamma}{2}\, \mathbb{E}_{z}\big[\lVert \nabla_{\tilde x} D(\tilde x) \rVert^2\big],
        \qquad \tilde x = G(z)\ \text{(detached: the penalty trains D only)}

    R1's twin, taken at the fakes instead of the reals. R3GAN uses both, each with weight
    γ/2 and on every step: with R1 alone the relativistic loss can still oscillate, with R1 + R2
    it converges locally (Huang et al. 2024, §2.2). ``every`` works as in :class:`R1Penalty`.
    """

    def __init__(self, gamma: float = 10.0, every: int = 1):
        self.gamma, self.every = gamma, every

    def __call__(self, D: nn.Module, real: Tensor, fake: Tensor, labels: Tensor | None = None) -> Tensor:
        grad = grad_of_critic(D, fake.detach(), labels)  # (B, C, H, W)
        return 0.5 * self.gamma * self.every * grad.flatten(1).pow(2).sum(1).mean()


class WeightClipping:
    r"""WGAN's crude Lipschitz constraint (Arjovsky et al. 2017): every weight into :math:`[-c, c]`.

    Use as an ``after_d_step`` hook: ``GAN(..., after_d_step=[WeightClipping(0.01)])``.
    """

    def __init__(self, c: float = 0.01):
        self.c = c

    @torch.no_grad()
    def __call__(self, D: nn.Module) -> None:
        for p in D.parameters():
            p.clamp_(-self.c, self.c)
