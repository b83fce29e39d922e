r"""Adversarial losses as pure functions of discriminator **logits**.

A discriminator returns a logit :math:`\ell = D(x)`; the probability "real" is
:math:`\sigma(\ell)`. Working with logits instead of probabilities lets us use the
numerically stable identities

.. math::
    -\log \sigma(\ell) = \operatorname{softplus}(-\ell), \qquad
    -\log(1 - \sigma(\ell)) = \operatorname{softplus}(\ell),

which never take the log of a number that has rounded to 0 (the classic failure of a
``Sigmoid`` layer followed by ``BCELoss``, which also breaks under autocast).

Every function returns a scalar to be **minimised** by the player it is named after:
``*_d`` losses by the discriminator (critic), ``*_g`` losses by the generator.
``real`` and ``fake`` are the logits of a batch of real and generated samples.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def minimax_d(real: Tensor, fake: Tensor) -> Tensor:
    r"""Discriminator loss of the original GAN (Goodfellow et al. 2014).

    .. math:: L_D = -\mathbb{E}_x[\log D(x)] - \mathbb{E}_z[\log(1 - D(G(z)))]

    which is the binary cross-entropy with targets 1 for real and 0 for fake.
    """
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def minimax_g(fake: Tensor) -> Tensor:
    r"""The saturating generator loss: G minimises the same value D maximises.

    .. math:: L_G = \mathbb{E}_z[\log(1 - D(G(z)))] = -\mathbb{E}_z[\operatorname{softplus}(\ell)]

    Its gradient vanishes when D confidently rejects the fakes (early training),
    which is why :func:`nonsaturating_g` is used in practice.
    """
    return -F.softplus(fake).mean()


def nonsaturating_g(fake: Tensor) -> Tensor:
    r"""The non-saturating generator loss (Goodfellow et al. 2014, section 3).

    .. math:: L_G = -\mathbb{E}_z[\log D(G(z))] = \mathbb{E}_z[\operatorname{softplus}(-\ell)]

    Same fixed point as the minimax game, strong gradients when D wins.
    """
    return F.softplus(-fake).mean()


def wasserstein_d(real: Tensor, fake: Tensor) -> Tensor:
    r"""Wasserstein critic loss (Arjovsky et al. 2017).

    .. math:: L_D = \mathbb{E}_z[D(G(z))] - \mathbb{E}_x[D(x)]

    Minimising it maximises the Kantorovich–Rubinstein estimate of :math:`W_1(p_{data}, p_g)`
    for a 1-Lipschitz critic (enforced by clipping or a gradient penalty, see ``ganedu.penalties``).
    """
    return fake.mean() - real.mean()


def wasserstein_g(fake: Tensor) -> Tensor:
    r"""Wasserstein generator loss: :math:`L_G = -\mathbb{E}_z[D(G(z))]`."""
    return -fake.mean()


def hinge_d(real: Tensor, fake: Tensor) -> Tensor:
    r"""Hinge discriminator loss (Lim & Ye 2017; Miyato et al. 2018).

    .. math:: L_D = \mathbb{E}_x[\max(0, 1 - D(x))] + \mathbb{E}_z[\max(0, 1 + D(G(z)))]
    """
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def hinge_g(fake: Tensor) -> Tensor:
    r"""Hinge generator loss: :math:`L_G = -\mathbb{E}_z[D(G(z))]` (the same as Wasserstein's)."""
    return -fake.mean()


def least_squares_d(real: Tensor, fake: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    r"""Least-squares discriminator loss (Mao et al. 2017, eq. 2 with the 0-1 coding).

    .. math:: L_D = \tfrac12\mathbb{E}_x[(D(x) - b)^2] + \tfrac12\mathbb{E}_z[(D(G(z)) - a)^2]

    ``a`` is the target for fakes, ``b`` for reals. D's output is used as is (no sigmoid).
    """
    return 0.5 * ((real - b) ** 2).mean() + 0.5 * ((fake - a) ** 2).mean()


def least_squares_g(fake: Tensor, c: float = 1.0) -> Tensor:
    r"""Least-squares generator loss: :math:`L_G = \tfrac12\mathbb{E}_z[(D(G(z)) - c)^2]`, ``c`` = 1."""
    return 0.5 * ((fake - c) ** 2).mean()


def smoothed_minimax_d(real: Tensor, fake: Tensor, real_target: float = 0.9) -> Tensor:
    r"""Minimax D loss with one-sided label smoothing (Salimans et al. 2016).

    Real targets become ``real_target`` (e.g. 0.9) while fake targets stay 0:

    .. math:: L_D = \mathbb{E}_x[\mathrm{BCE}(\ell, t)] + \mathbb{E}_z[\operatorname{softplus}(\ell)]

    Smoothing only the real side keeps D from rewarding G for staying where it is.
    """
    target = torch.full_like(real, real_target)
    return F.binary_cross_entropy_with_logits(real, target) + F.softplus(fake).mean()


def relativistic_d(real: Tensor, fake: Tensor) -> Tensor:
    r"""Discriminator loss of the relativistic pairing GAN, RpGAN (Jolicoeur-Martineau 2019), as
    R3GAN uses it (Huang, Gokaslan, Kuleshov & Tompkin 2024, eq. 2).

    .. math:: L_D = \mathbb{E}_{x, z}\big[\operatorname{softplus}\big(-(D(x) - D(G(z)))\big)\big]

    D is asked whether a real image looks *more real than its paired fake*, not whether each
    one is real on its own. ``real`` and ``fake`` are paired element by element, so they must
    have the same shape; the mean runs over the pairs.
    """
    return F.softplus(-(real - fake)).mean()


def relativistic_g(real: Tensor, fake: Tensor) -> Tensor:
    r"""Generator loss of RpGAN: D's loss with real and fake swapped.

    .. math:: L_G = \mathbb{E}_{x, z}\big[\operatorname{softplus}\big(-(D(G(z)) - D(x))\big)\big]

    Unlike every other generator loss here it needs the logits of real images too: G is pushed
    to make each fake look more real than a real image, so :class:`ganedu.models.r3gan.R3GAN`
    evaluates the (frozen) D on a real batch in its generator step.
    """
    return F.softplus(-(fake - real)).mean()


LOSSES = {
    "minimax": (minimax_d, minimax_g),
    "nonsaturating": (minimax_d, nonsaturating_g),
    "wasserstein": (wasserstein_d, wasserstein_g),
    "hinge": (hinge_d, hinge_g),
    "least-squares": (least_squares_d, least_squares_g),
}
"""Named (discriminator loss, generator loss) pairs whose generator loss takes the fake logits alone.

The relativistic pair (:func:`relativistic_d`, :func:`relativistic_g`) is not among them: its
generator loss also takes the real logits.
"""
