# Generated from solutions/ex05_wgan_gp.py by `python -m ganedu.grading make-stubs`.
# Replace each `raise NotImplementedError(...)` with your code; grade with
# `ganedu.grading.check('ex05_wgan_gp')` in the notebook or `pytest exercises/test_ex05_wgan_gp.py`.
r"""Chapter 5 exercises: the gradient penalty of WGAN-GP (Gulrajani et al. 2017).

Implement each function below; ``ganedu.grading.check("ex05_wgan_gp")`` in
``course/05_wgan_gp.ipynb`` grades them. The penalty is where most WGAN-GP bugs live: one
:math:`\alpha` per sample, the norm over everything but the batch, the critic evaluated at the
interpolates, and a graph kept so the penalty itself can be differentiated. Stuck? ``HINTS``
below holds, for each function, a nudge first and then the key line.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

HINTS = {
    "random_alpha": [
        "The shape keeps the batch size and puts a 1 in every other dimension, so it broadcasts.",
        "shape = (real.shape[0],) + (1,) * (real.dim() - 1); "
        "torch.rand(shape, device=real.device, dtype=real.dtype, generator=generator)",
    ],
    "interpolates": [
        "Cut both inputs off their graphs first, then ask autograd to track the result.",
        "(alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)",
    ],
    "critic_gradient_norms": [
        "torch.autograd.grad gives the gradient of a scalar; the sum of the critic's outputs has, "
        "for each sample, that sample's own gradient (samples do not interact).",
        "(grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True); "
        "then grad.flatten(1).norm(dim=1)",
    ],
    "gradient_penalty": [
        "Draw alpha if none is given, build x̂ with interpolates, take the norms there.",
        "weight * ((critic_gradient_norms(critic, x_hat) - 1) ** 2).mean()",
    ],
    "train_step": [
        "Loop n_critic times: draw, make fakes without a graph into G, critic loss plus your "
        "gradient_penalty, zero, backward, step. Then one generator update on fresh codes.",
        "loss_d = -(D(real).mean() - D(fake).mean()) + gradient_penalty(D, real, fake, weight=gp_weight); "
        "loss_g = -D(G(sample_z())).mean()",
    ],
}


def random_alpha(real: Tensor, generator: torch.Generator | None = None) -> Tensor:
    r"""Draw :math:`\alpha \sim U[0, 1)`, **one value per sample**, shaped to broadcast over ``real``.

    Images ``(B, C, H, W)`` get ``alpha`` of shape ``(B, 1, 1, 1)``; points ``(B, 2)`` get
    ``(B, 1)``. The values come from ``torch.rand`` with ``generator`` (``None``: the global
    random state), on ``real``'s device and in ``real``'s dtype (float64 in, float64 out).
    """
    raise NotImplementedError("random_alpha: not implemented yet, see its docstring")


def interpolates(real: Tensor, fake: Tensor, alpha: Tensor) -> Tensor:
    r"""Points on the segments between real and fake samples: :math:`\hat x = \alpha x + (1 - \alpha)\tilde x`.

    Args:
        real: real samples x, (B, ...).
        fake: generated samples x̃, same shape. They may still be attached to the generator's
            graph: the penalty must not send any gradient back into the generator.
        alpha: (B, 1, ...) from :func:`random_alpha`.

    Returns:
        x̂, (B, ...): a new leaf of the autograd graph that requires a gradient (the critic's
        gradient is taken with respect to it).
    """
    raise NotImplementedError("interpolates: not implemented yet, see its docstring")


def critic_gradient_norms(critic: nn.Module, x: Tensor) -> Tensor:
    r"""The norm of the critic's input gradient at each sample: :math:`\lVert \nabla_x f(x_i) \rVert_2`.

    The gradient of sample i is taken with respect to that sample's own input, and its norm
    runs over **all** of the sample's dimensions (C·H·W for images, not one axis).

    The norms are used inside a loss that is itself differentiated (the gradient penalty), so
    they must keep their graph: a backward pass through them has to reach the critic's weights.

    Args:
        critic: maps (B, ...) to scores (B,).
        x: the points, (B, ...). Must require a gradient (see :func:`interpolates`).

    Returns:
        (B,) norms, differentiable with respect to the critic's parameters.
    """
    raise NotImplementedError("critic_gradient_norms: not implemented yet, see its docstring")


def gradient_penalty(
    critic: nn.Module, real: Tensor, fake: Tensor, weight: float = 10.0, alpha: Tensor | None = None
) -> Tensor:
    r"""The WGAN-GP penalty, ready to add to the critic's loss.

    .. math::
        \lambda\, \mathbb{E}_{\hat x}\Big[\big(\lVert \nabla_{\hat x} f(\hat x) \rVert_2 - 1\big)^2\Big],
        \qquad \hat x = \alpha x + (1 - \alpha)\tilde x

    It is **two-sided**: a gradient norm of 0.5 is penalised as much as one of 1.5. α is
    ``alpha`` when given, otherwise drawn with :func:`random_alpha`; x̂ comes from
    :func:`interpolates`, the norms from :func:`critic_gradient_norms`; λ is ``weight``.

    Args:
        critic: the critic f, (B, ...) → (B,).
        real, fake: (B, ...) real and generated samples.
        weight: λ (10 in the paper).
        alpha: (B, 1, ...) or ``None``.

    Returns:
        A scalar tensor, in the dtype of ``real``, differentiable with respect to the
        critic's parameters and with no path back into the generator.
    """
    raise NotImplementedError("gradient_penalty: not implemented yet, see its docstring")


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    sample_real: Callable[[], Tensor],
    sample_z: Callable[[], Tensor],
    n_critic: int = 5,
    gp_weight: float = 10.0,
) -> dict[str, float]:
    r"""One WGAN-GP update: ``n_critic`` critic steps, then one generator step.

    Each critic step draws a real batch x and codes z, and minimises

    .. math::
        L_D = -\big(\mathbb{E}[D(x)] - \mathbb{E}[D(G(z))]\big) + \mathrm{GP}

    where GP is **your** :func:`gradient_penalty` of (D, x, G(z)) with λ = ``gp_weight``. No
    gradient may reach G in a critic step; each step starts from zeroed gradients and calls
    ``opt_d.step()`` once. The generator step then draws fresh codes z′ and minimises
    :math:`L_G = -\mathbb{E}[D(G(z'))]` through the updated critic; only G's weights change.

    Args:
        G, D: generator and critic.
        opt_g, opt_d: their optimizers.
        sample_real: called with no argument, returns a real batch (B, ...); called once per
            critic step. A notebook passes ``lambda: data.sample(batch_size)[0]``.
        sample_z: called with no argument, returns codes for G; called once per critic step
            and once more for the generator step (``lambda: gan.sample_z(batch_size)``).
        n_critic: critic steps per generator step.
        gp_weight: λ of the penalty.

    Returns:
        Python floats (not tensors): ``{"loss_d": L_D, "gp": GP, "wasserstein": the estimate
        E[D(x)] − E[D(G(z))]}`` of the last critic step, and ``"loss_g"``: L_G.
    """
    raise NotImplementedError("train_step: not implemented yet, see its docstring")
