r"""Chapter 7 exercises: CycleGAN (Zhu et al. 2017).

Implement each function below; ``ganedu.grading.check("ex07_cyclegan")`` in
``course/07_cyclegan.ipynb`` grades them. Images are float tensors (B, C, H, W) in [-1, 1];
G translates A → B, F translates B → A. Stuck? ``HINTS`` below holds, for each function, a nudge
first and then the key line.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

HINTS = {
    "cycle_consistency_loss": [
        "An L1 distance: absolute values, averaged over every pixel.",
        "(reconstructed - real).abs().mean()",
    ],
    "identity_loss": ["The same distance as the cycle loss.", "(same - real).abs().mean()"],
    "generator_objective": [
        "Pair every image with its own reconstruction or identity mapping; the identity weight is a fraction of λ.",
        "adv_ab + adv_ba + lambda_cycle * cycle + lambda_identity * lambda_cycle * same",
    ],
    "ImagePool.query": [
        "Walk through the batch one image at a time (for image in images.detach()) and build a list, "
        "then torch.stack it.",
        "elif torch.rand(()) < 0.5: i = int(torch.randint(self.size, ())); out.append(self.images[i]); "
        "self.images[i] = image.clone()",
    ],
    "learning_rate_factor": [
        "Two cases, and the decay never goes below 0.",
        "max(0.0, 1.0 - (step - constant_steps) / decay_steps)",
    ],
    "discriminator_step": [
        "Fakes go through the pool (without a graph into G), then the least-squares loss with targets 1 and 0.",
        "loss = 0.5 * (((D(real) - 1) ** 2).mean() + (D(pool.query(fake.detach())) ** 2).mean())",
    ],
}


def cycle_consistency_loss(real: Tensor, reconstructed: Tensor) -> Tensor:
    r"""The cycle-consistency loss for one direction.

    .. math:: L_{cyc} = \mathbb{E}\,\lVert F(G(a)) - a \rVert_1

    the mean absolute difference per pixel (``reconstructed`` is F(G(a)), ``real`` is a).

    Returns:
        A scalar tensor that gradients can flow through.
    """
    # BEGIN SOLUTION
    return (reconstructed - real).abs().mean()
    # END SOLUTION


def identity_loss(real: Tensor, same: Tensor) -> Tensor:
    r"""The identity loss for one generator: fed an image of its own target domain, it should change nothing.

    .. math:: L_{id} = \mathbb{E}\,\lVert G(b) - b \rVert_1

    (``same`` is G(b), ``real`` is b), the mean absolute difference per pixel.
    """
    # BEGIN SOLUTION
    return (same - real).abs().mean()
    # END SOLUTION


def generator_objective(
    adv_ab: Tensor,
    adv_ba: Tensor,
    a: Tensor,
    rec_a: Tensor,
    b: Tensor,
    rec_b: Tensor,
    idt_a: Tensor,
    idt_b: Tensor,
    lambda_cycle: float = 10.0,
    lambda_identity: float = 0.5,
) -> Tensor:
    r"""CycleGAN's full generator loss for both directions.

    .. math::
        L = L_{adv}^{AB} + L_{adv}^{BA}
            + \lambda\,(\lVert F(G(a)) - a\rVert_1 + \lVert G(F(b)) - b\rVert_1)
            + \lambda_{id}\,\lambda\,(\lVert F(a) - a\rVert_1 + \lVert G(b) - b\rVert_1)

    Note that ``lambda_identity`` is a fraction of λ, as in the paper's code (0.5 · 10 = 5).

    Args:
        adv_ab, adv_ba: the two adversarial generator losses (scalars), already computed.
        a, rec_a: images of A and their round trips F(G(a)).
        b, rec_b: images of B and their round trips G(F(b)).
        idt_a: F(a), B→A's generator fed images of A. idt_b: G(b).
        lambda_cycle: λ.
        lambda_identity: the identity weight as a fraction of λ.

    Returns:
        The scalar loss.
    """
    # BEGIN SOLUTION
    cycle = cycle_consistency_loss(a, rec_a) + cycle_consistency_loss(b, rec_b)
    same = identity_loss(a, idt_a) + identity_loss(b, idt_b)
    return adv_ab + adv_ba + lambda_cycle * cycle + lambda_identity * lambda_cycle * same
    # END SOLUTION


class ImagePool:
    """A history of generated images for the discriminator (Shrivastava et al. 2017).

    ``self.images`` is a list of at most ``size`` single images (C, H, W). :meth:`query`
    takes a batch of new fakes and returns a batch of the same shape, image by image:

    * while the pool holds fewer than ``size`` images, the new image is stored (a detached
      copy) and returned itself;
    * once it is full, with probability ½ a stored image chosen uniformly among all ``size``
      slots is returned and the new image takes its slot; otherwise the new image is returned
      and the pool is left alone.

    ``size = 0`` turns the pool off: return the batch unchanged. Returned images are detached
    (the discriminator's loss must not reach the generator through old fakes).
    """

    def __init__(self, size: int = 50):
        self.size = size
        self.images: list[Tensor] = []

    def query(self, images: Tensor) -> Tensor:
        """Return a batch like ``images``: new fakes mixed with older ones from the pool."""
        # BEGIN SOLUTION
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(()) < 0.5:
                i = int(torch.randint(self.size, ()))
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)
        # END SOLUTION


def learning_rate_factor(step: int, constant_steps: int, decay_steps: int) -> float:
    r"""The learning-rate multiplier: constant, then a linear decay to zero.

    .. math:: f(t) = \begin{cases} 1 & t < T_c \\ \max\big(0,\ 1 - (t - T_c)/T_d\big) & t \ge T_c \end{cases}

    (the paper: 100 epochs at the initial rate, then 100 epochs decaying linearly to 0).
    """
    # BEGIN SOLUTION
    if step < constant_steps:
        return 1.0
    return max(0.0, 1.0 - (step - constant_steps) / decay_steps)
    # END SOLUTION


def discriminator_step(
    D: nn.Module, opt_d: torch.optim.Optimizer, real: Tensor, fake: Tensor, pool: ImagePool
) -> dict[str, float]:
    r"""One update of one CycleGAN discriminator, on real images and fakes drawn through the history pool.

    The fakes pass through ``pool.query`` first (D sees a mix of new and older fakes), and D
    minimises the least-squares loss with the paper's factor ½ (which slows D relative to G):

    .. math::
        L_D = \tfrac12\Big(\mathbb{E}_b\big[(D(b) - 1)^2\big] + \mathbb{E}\big[D(\mathrm{pool}(G(a)))^2\big]\Big)

    The means run over every output of D (a PatchGAN gives a map per image). No gradient may
    reach the generator, whatever the pool returns; ``opt_d`` steps once from zeroed gradients.

    Args:
        D: the discriminator of the fakes' domain (D_B for G(a)).
        opt_d: its optimizer.
        real: real images of that domain (B, C, H, W).
        fake: the generator's translations into that domain (B, C, H, W); they may still be
            attached to the generator's graph.
        pool: that domain's :class:`ImagePool`.

    Returns:
        ``{"loss_d": float}``, the loss as computed before the update (a Python float).
    """
    # BEGIN SOLUTION
    fake = pool.query(fake.detach())
    loss = 0.5 * (((D(real) - 1) ** 2).mean() + (D(fake) ** 2).mean())
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    return {"loss_d": loss.item()}
    # END SOLUTION
