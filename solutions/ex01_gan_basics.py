r"""Chapter 1 exercises: the pieces of the original GAN (Goodfellow et al. 2014).

Implement each function below; ``ganedu.grading.check("ex01_gan_basics")`` in
``course/01_gan_basics.ipynb`` grades them. A discriminator returns a **logit**
:math:`\ell`, and :math:`D(x) = \sigma(\ell)`; never put a sigmoid in front of a loss.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

HINTS = {
    "sample_noise": [
        "PyTorch has one sampling function for the standard normal; it takes the shape, a device and a generator.",
        "torch.randn(batch_size, nz, device=device, generator=generator)",
    ],
    "discriminator_loss": [
        "-log(sigmoid(l)) = softplus(-l) and -log(1 - sigmoid(l)) = softplus(l): both stay exact for any logit.",
        "F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()  "
        "(or F.binary_cross_entropy_with_logits with targets 1 and 0)",
    ],
    "generator_loss": [
        "The non-saturating loss is the D loss's real-sample term applied to the fakes.",
        "F.softplus(-fake_logits).mean()",
    ],
    "optimal_discriminator": [
        "For fixed x, maximise a log y + b log(1 - y) over y in (0, 1): set the derivative a/y - b/(1 - y) to 0.",
        "The maximiser is y = a / (a + b). Divide only where a + b > 0 (torch.where) and keep the input dtype.",
    ],
    "jensen_shannon": [
        "Build m = (p + q) / 2, then one helper KL(a || m) = sum_j a_j log(a_j / m_j) dx that skips a_j = 0.",
        "ratio = torch.where(a > 0, a / m, 1.0) makes the skipped terms a_j log 1 = 0; "
        "then (a * ratio.log()).sum() * dx",
    ],
    "train_step": [
        "Two phases, each: compute its loss, zero that network's gradients, backward, step its optimizer. "
        "In D's phase the fakes are constants (G(z).detach()); G's phase draws new codes and goes through D.",
        "fake = G(sample_z(B)).detach(); loss_d = discriminator_loss(D(real), D(fake)); "
        "opt_d.zero_grad(); loss_d.backward(); opt_d.step(); then "
        "loss_g = generator_loss(D(G(sample_z(B)))); opt_g.zero_grad(); loss_g.backward(); opt_g.step(); "
        "return the two .item()s",
    ],
}


def sample_noise(
    batch_size: int, nz: int, device: torch.device | str = "cpu", generator: torch.Generator | None = None
) -> Tensor:
    r"""Draw the generator's input: :math:`z \sim \mathcal{N}(0, I_{nz})`, one row per sample.

    Args:
        batch_size: number of codes B.
        nz: latent dimension.
        device: where the tensor is created.
        generator: a ``torch.Generator`` to draw with (``None``: the global one); the same
            generator state must give the same codes.

    Returns:
        float32 tensor of shape (B, nz) on ``device``.
    """
    # BEGIN SOLUTION
    return torch.randn(batch_size, nz, device=device, generator=generator)
    # END SOLUTION


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    r"""The discriminator's minimax loss, from logits.

    .. math::
        L_D = -\frac1B\sum_i \log \sigma(\ell^{real}_i) - \frac1B\sum_i \log(1 - \sigma(\ell^{fake}_i))

    Compute it from the logits directly, in a form that stays exact for any logit:
    :math:`\sigma(\ell)` rounds to exactly 0 or 1 in float32 once :math:`|\ell|` is large
    (about 17 towards 1, about 104 towards 0), and a log taken after it loses the value and
    the gradient.

    Args:
        real_logits: D's logits on real samples, shape (B,).
        fake_logits: D's logits on generated samples, shape (B',).

    Returns:
        A scalar tensor (shape ()), the loss D minimises.
    """
    # BEGIN SOLUTION
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    # END SOLUTION


def generator_loss(fake_logits: Tensor) -> Tensor:
    r"""The generator's non-saturating loss, from logits.

    .. math:: L_G = -\frac1B\sum_i \log \sigma(\ell^{fake}_i) = \frac1B\sum_i \operatorname{softplus}(-\ell^{fake}_i)

    Not the saturating :math:`\frac1B\sum_i \log(1 - \sigma(\ell_i))`, whose gradient vanishes
    exactly when D rejects the fakes confidently, at the start of training.

    Args:
        fake_logits: D's logits on generated samples, shape (B,).

    Returns:
        A scalar tensor, the loss G minimises.
    """
    # BEGIN SOLUTION
    return F.softplus(-fake_logits).mean()
    # END SOLUTION


def optimal_discriminator(p_data: Tensor, p_g: Tensor) -> Tensor:
    r"""The best discriminator for a fixed generator, evaluated pointwise: derive it, then compute it.

    For a fixed G the discriminator maximises

    .. math:: V(G, D) = \int p_{data}(x) \log D(x) + p_g(x) \log(1 - D(x))\, dx.

    The integrand can be maximised separately at every x. Derive the maximiser :math:`D^*(x)`
    of :math:`a \log y + b \log(1 - y)` over :math:`y \in (0, 1)` for :math:`a, b \ge 0`, and
    return it with :math:`a = p_{data}(x)`, :math:`b = p_g(x)`. The grader checks that no other
    value of D does better at any point.

    Args:
        p_data: the data density at some points x, shape (N,), non-negative.
        p_g: the generator's density at the same points, shape (N,), non-negative.

    Returns:
        :math:`D^*(x)` at each point, shape (N,), in [0, 1], in the dtype of the inputs. Where
        both densities are 0 the value does not matter for the game; return 0.5 there (not NaN).
    """
    # BEGIN SOLUTION
    total = p_data + p_g
    return torch.where(total > 0, p_data / total.clamp_min(torch.finfo(total.dtype).tiny), 0.5)
    # END SOLUTION


def jensen_shannon(p: Tensor, q: Tensor, dx: float) -> Tensor:
    r"""Jensen–Shannon divergence of two densities tabulated on an even grid, in nats.

    .. math::
        \mathrm{JS}(p\,\|\,q) = \tfrac12 \mathrm{KL}(p\,\|\,m) + \tfrac12 \mathrm{KL}(q\,\|\,m),
        \quad m = \tfrac{p + q}{2}, \quad \mathrm{KL}(p\,\|\,m) \approx \sum_j p_j \log\frac{p_j}{m_j}\,dx

    Terms with :math:`p_j = 0` contribute 0 (the limit of :math:`p \log p`). The result lies in
    :math:`[0, \log 2]`: 0 for equal densities, :math:`\log 2` for densities that never overlap.

    Args:
        p, q: density values on the same grid points, shape (N,).
        dx: the grid spacing.

    Returns:
        A scalar tensor.
    """
    # BEGIN SOLUTION
    m = (p + q) / 2

    def kl_to_m(a: Tensor) -> Tensor:
        ratio = torch.where(a > 0, a / m.clamp_min(torch.finfo(m.dtype).tiny), 1.0)
        return (a * torch.log(ratio)).sum() * dx

    return 0.5 * kl_to_m(p) + 0.5 * kl_to_m(q)
    # END SOLUTION


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    sample_z: Callable[[int], Tensor],
) -> dict[str, float]:
    r"""One alternating update of the GAN: Algorithm 1 of Goodfellow et al. with one D step.

    1. **D's phase.** Draw B codes, make fakes :math:`\tilde x = G(z)` and treat them as
       constants (G is fixed here: no gradient may reach G). Take one step of ``opt_d`` on
       your :func:`discriminator_loss` of :math:`D(x)` and :math:`D(\tilde x)`.
    2. **G's phase.** Draw B *new* codes :math:`z'`, and take one step of ``opt_g`` on your
       :func:`generator_loss` of :math:`D(G(z'))`, through the D just updated. D's weights
       must not change in this phase.

    Before each backward pass clear the gradients of the network about to step: PyTorch adds
    new gradients to old ones, and G's phase also leaves gradients in D.

    Args:
        G: the generator, codes (B, nz) -> samples (B, 2).
        D: the discriminator, samples (B, 2) -> logits (B,).
        opt_g: G's optimizer; stepped exactly once.
        opt_d: D's optimizer; stepped exactly once.
        real: a batch of real samples, (B, 2).
        sample_z: ``sample_z(n)`` returns n fresh codes (n, nz), e.g. ``gan.sample_z``; call it
            once per phase.

    Returns:
        ``{"loss_d": float, "loss_g": float}``: each loss as computed in its phase, before that
        phase's update, as a Python float.
    """
    # BEGIN SOLUTION
    batch_size = real.shape[0]
    fake = G(sample_z(batch_size)).detach()  # (B, 2), a constant for D's phase
    loss_d = discriminator_loss(D(real), D(fake))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()

    loss_g = generator_loss(D(G(sample_z(batch_size))))  # through the updated D
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}
    # END SOLUTION
