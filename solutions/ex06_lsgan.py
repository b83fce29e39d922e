r"""Chapter 6 exercises: least-squares losses (Mao et al. 2017), relativistic pairing (Jolicoeur-Martineau
2019) and spectral normalisation (Miyato et al. 2018).

Implement each function below; ``ganedu.grading.check("ex06_lsgan")`` in ``course/06_lsgan.ipynb``
grades them. Stuck? ``HINTS`` below holds, for each function, a nudge first and then the key line.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

HINTS = {
    "ls_discriminator_loss": [
        "Two separate means, one over the real outputs and one over the fake ones.",
        "0.5 * ((real_out - b) ** 2).mean() + 0.5 * ((fake_out - a) ** 2).mean()",
    ],
    "ls_generator_loss": [
        "The same square as for D's fakes, with the target c.",
        "0.5 * ((fake_out - c) ** 2).mean()",
    ],
    "relativistic_d_loss": [
        "Pair sample i of the real outputs with sample i of the fakes; softplus(-t) is -log σ(t), computed stably.",
        "F.softplus(-(real_out - fake_out)).mean()",
    ],
    "relativistic_g_loss": [
        "The D loss with the roles of real and fake swapped.",
        "F.softplus(-(fake_out - real_out)).mean()",
    ],
    "train_step": [
        "As in chapter 2, but every loss comes from the two callables, and g_loss also gets D's outputs on "
        "the real batch, through the updated D.",
        "loss_d = d_loss(D(real), D(fake.detach())); after opt_d.step(): loss_g = g_loss(D(real), D(fake))",
    ],
    "optimal_ls_discriminator": [
        "Minimise ½p_d(D - b)² + ½p_g(D - a)² pointwise: set the derivative in D to 0.",
        "torch.where(total > 0, (b * p_data + a * p_g) / total, (a + b) / 2) with total = p_data + p_g "
        "(divide by a safe denominator where total is 0)",
    ],
    "lsgan_generator_value": [
        "Put the optimal D into both expectations; an expectation over a discrete p is a weighted sum.",
        "0.5 * (p_data * (d - c) ** 2).sum() + 0.5 * (p_g * (d - c) ** 2).sum()",
    ],
    "pearson_chi2": [
        "Sum only where q > 0; where q is 0 the term is 0 if p is 0 too, and infinite otherwise.",
        "torch.where(q > 0, (p - q) ** 2 / q.clamp_min(tiny), torch.where(p > 0, inf, 0)).sum()",
    ],
    "spectral_norm_power_iteration": [
        "Flatten all but the first dimension of the weight; iterate without autograd; only the last product "
        "u·(W v) carries a gradient.",
        "with torch.no_grad(): v = F.normalize(W.t() @ u, dim=0); u = F.normalize(W @ v, dim=0); then sigma = u @ W @ v",
    ],
    "spectral_normalize": [
        "Divide by σ, keeping σ's gradient.",
        "weight / spectral_norm_power_iteration(weight, n_iters=n_iters)[0]",
    ],
}


def ls_discriminator_loss(real_out: Tensor, fake_out: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    r"""LSGAN's discriminator loss: :math:`\tfrac12\mathbb{E}_x[(D(x) - b)^2] + \tfrac12\mathbb{E}_z[(D(G(z)) - a)^2]`.

    ``b`` is the target for real samples, ``a`` for fakes. D's output is used as is: no sigmoid.

    Args:
        real_out, fake_out: D's outputs, shape (B,) or (B, 1); the two may differ in shape and
            batch size.

    Returns:
        A scalar tensor.
    """
    # BEGIN SOLUTION
    return 0.5 * ((real_out - b) ** 2).mean() + 0.5 * ((fake_out - a) ** 2).mean()
    # END SOLUTION


def ls_generator_loss(fake_out: Tensor, c: float = 1.0) -> Tensor:
    r"""LSGAN's generator loss: :math:`\tfrac12\mathbb{E}_z[(D(G(z)) - c)^2]`, ``c`` the value G wants D to believe.

    Args:
        fake_out: D's outputs on fakes, (B,) or (B, 1).

    Returns:
        A scalar tensor.
    """
    # BEGIN SOLUTION
    return 0.5 * ((fake_out - c) ** 2).mean()
    # END SOLUTION


def relativistic_d_loss(real_out: Tensor, fake_out: Tensor) -> Tensor:
    r"""The relativistic pairing discriminator loss (RpGAN, Jolicoeur-Martineau 2019).

    D judges each real sample *relative to* a fake one: pair i is real sample i with fake i.

    .. math:: L_D = \frac1B \sum_i \operatorname{softplus}\big(-(D(x_i) - D(G(z_i)))\big)
              = -\frac1B \sum_i \log \sigma\big(D(x_i) - D(G(z_i))\big)

    It must stay finite and keep a useful gradient for any logits, even when the difference is
    far below -88, where :math:`\sigma` rounds to 0 in float32.

    Args:
        real_out, fake_out: D's logits, both (B,).

    Returns:
        A scalar tensor.
    """
    # BEGIN SOLUTION
    return F.softplus(-(real_out - fake_out)).mean()
    # END SOLUTION


def relativistic_g_loss(real_out: Tensor, fake_out: Tensor) -> Tensor:
    r"""The relativistic pairing generator loss: G wants each fake to look more real than its real partner.

    .. math:: L_G = \frac1B \sum_i \operatorname{softplus}\big(-(D(G(z_i)) - D(x_i))\big)

    Args:
        real_out, fake_out: D's logits, both (B,), paired by index.

    Returns:
        A scalar tensor.
    """
    # BEGIN SOLUTION
    return F.softplus(-(fake_out - real_out)).mean()
    # END SOLUTION


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z: Tensor,
    d_loss: Callable[[Tensor, Tensor], Tensor],
    g_loss: Callable[[Tensor, Tensor], Tensor],
) -> dict[str, float]:
    r"""One GAN update for any pair of losses: first D, then G.

    1. D step on the fakes G(z), with no gradient into G:
       :math:`L_D = \texttt{d\_loss}(D(x), D(G(z)))`; ``opt_d`` steps once from zeroed gradients.
    2. G step through the **updated** D, on the same fakes:
       :math:`L_G = \texttt{g\_loss}(D(x), D(G(z)))`; ``opt_g`` steps once from zeroed gradients,
       and only G's weights change. Both outputs are recomputed with the updated D: the
       relativistic loss compares each fake with its real partner.

    Works with least squares (``d_loss = ls_discriminator_loss``,
    ``g_loss = lambda real_out, fake_out: ls_generator_loss(fake_out)``), hinge, and the
    relativistic pair above.

    Args:
        G, D: the networks.
        opt_g, opt_d: their optimizers.
        real: a real batch (B, ...), e.g. ``data.sample(batch_size)[0]``.
        z: codes for G, e.g. ``gan.sample_z(batch_size)``.
        d_loss: ``d_loss(real_out, fake_out) -> scalar``, minimised by D.
        g_loss: ``g_loss(real_out, fake_out) -> scalar``, minimised by G (most losses ignore
            ``real_out``).

    Returns:
        ``{"loss_d": float, "loss_g": float}``: Python floats, each computed before its update.
    """
    # BEGIN SOLUTION
    fake = G(z)
    loss_d = d_loss(D(real), D(fake.detach()))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    loss_g = g_loss(D(real), D(fake))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}
    # END SOLUTION


def optimal_ls_discriminator(p_data: Tensor, p_g: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    r"""The discriminator that minimises LSGAN's D loss for fixed G, on a discrete space.

    .. math:: D^*(x) = \frac{b\,p_d(x) + a\,p_g(x)}{p_d(x) + p_g(x)}

    (derive it: minimise :math:`\tfrac12 p_d(x)(D - b)^2 + \tfrac12 p_g(x)(D - a)^2` at each x).
    Where both densities are exactly 0 no sample ever lands, the formula is 0/0: return
    :math:`(a + b)/2` there, never NaN.

    Args:
        p_data, p_g: probabilities over the same K points, (K,), each summing to 1.

    Returns:
        (K,) values of :math:`D^*`.
    """
    # BEGIN SOLUTION
    total = p_data + p_g
    safe = torch.where(total > 0, total, torch.ones_like(total))
    return torch.where(total > 0, (b * p_data + a * p_g) / safe, torch.full_like(total, (a + b) / 2))
    # END SOLUTION


def lsgan_generator_value(p_data: Tensor, p_g: Tensor, a: float, b: float, c: float) -> Tensor:
    r"""The generator's objective at the optimal discriminator (Mao et al. 2017, eq. 4-5).

    .. math::
        C(G) = \tfrac12\,\mathbb{E}_{x \sim p_d}\big[(D^*(x) - c)^2\big] + \tfrac12\,\mathbb{E}_{x \sim p_g}\big[(D^*(x) - c)^2\big]

    with :math:`D^*` from :func:`optimal_ls_discriminator`. (The first term does not depend on
    G; the paper adds it to get the theorem below.)

    **Derive, then check numerically**: with :math:`b - c = 1` and :math:`b - a = 2`,

    .. math:: 2\,C(G) = \sum_x \frac{\big(2p_g(x) - (p_d(x) + p_g(x))\big)^2}{p_d(x) + p_g(x)}

    which the paper writes :math:`\chi^2_{\mathrm{Pearson}}(p_d + p_g \,\Vert\, 2p_g)`; with the
    convention of :func:`pearson_chi2` it is ``pearson_chi2(2 * p_g, p_data + p_g)``. It is 0
    exactly when :math:`p_g = p_d`: LSGAN minimises a divergence.

    Args:
        p_data, p_g: (K,) probabilities. a, b, c: LSGAN's targets.

    Returns:
        A scalar tensor.
    """
    # BEGIN SOLUTION
    d = optimal_ls_discriminator(p_data, p_g, a, b)
    return 0.5 * (p_data * (d - c) ** 2).sum() + 0.5 * (p_g * (d - c) ** 2).sum()
    # END SOLUTION


def pearson_chi2(p: Tensor, q: Tensor) -> Tensor:
    r"""The Pearson :math:`\chi^2` divergence of non-negative measures on K points.

    .. math:: \chi^2(p \,\Vert\, q) = \sum_x \frac{(p(x) - q(x))^2}{q(x)}

    Points with :math:`q(x) = 0` add 0 when :math:`p(x) = 0` too (no mass on either side), and
    :math:`+\infty` when :math:`p(x) > 0`. Never NaN.

    Args:
        p, q: (K,) non-negative.

    Returns:
        A scalar tensor (possibly ``inf``).
    """
    # BEGIN SOLUTION
    safe = torch.where(q > 0, q, torch.ones_like(q))
    terms = torch.where(q > 0, (p - q) ** 2 / safe, torch.where(p > 0, torch.inf, 0.0).to(q))
    return terms.sum()
    # END SOLUTION


def spectral_norm_power_iteration(
    weight: Tensor, u: Tensor | None = None, n_iters: int = 1
) -> tuple[Tensor, Tensor]:
    r"""Estimate the largest singular value :math:`\sigma(W)` by power iteration.

    A convolution weight ``(out, in, kh, kw)`` is seen as the matrix ``W`` of shape
    ``(out, in·kh·kw)``; a linear weight ``(out, in)`` is used as is. Start from ``u`` (shape
    ``(out,)``; when ``None``, a random normal vector, normalised, in the weight's dtype and on
    its device) and repeat ``n_iters`` (≥ 1) times

    .. math::
        v \leftarrow \frac{W^\top u}{\lVert W^\top u \rVert}, \qquad
        u \leftarrow \frac{W v}{\lVert W v \rVert}

    then :math:`\sigma = u^\top W v` with the last u and v.

    Training differentiates σ (:func:`spectral_normalize` divides by it), and the gradient it
    needs is that of σ with u and v held fixed, :math:`\partial\sigma/\partial W = u v^\top`:
    the iteration itself must carry no gradient, only the final product does.

    Returns:
        ``(sigma, u)``: a scalar tensor with a gradient to ``weight``, and the new ``u``
        (no gradient) to start from next time.
    """
    # BEGIN SOLUTION
    W = weight.reshape(weight.shape[0], -1)
    with torch.no_grad():
        if u is None:
            u = F.normalize(torch.randn(W.shape[0], device=W.device, dtype=W.dtype), dim=0)
        for _ in range(n_iters):
            v = F.normalize(W.t() @ u, dim=0)
            u = F.normalize(W @ v, dim=0)
    sigma = u @ W @ v
    return sigma, u
    # END SOLUTION


def spectral_normalize(weight: Tensor, n_iters: int = 100) -> Tensor:
    r"""``weight`` divided by its largest singular value (estimated by :func:`spectral_norm_power_iteration`), same shape.

    .. math:: \bar W = W / \sigma(W)

    The result has spectral norm ≈ 1: the layer can no longer stretch any input by more than 1.
    A network trains through :math:`\bar W`, so its gradient with respect to W must include
    σ's own dependence on W.
    """
    # BEGIN SOLUTION
    sigma, _ = spectral_norm_power_iteration(weight, n_iters=n_iters)
    return weight / sigma
    # END SOLUTION
