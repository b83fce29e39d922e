r"""Chapter 10 exercises: the pieces of a modern GAN, and two ways to look at what it learned.

Implement each function below; ``ganedu.grading.check("ex10_modern_gans")`` in
``course/10_modern_gans.ipynb`` grades them. Logits are D's raw outputs, shape (B,); images
are float (B, C, H, W).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

HINTS = {
    "relativistic_d_loss": [
        "Pair each real logit with the fake logit at the same index; D wants the real one larger. "
        "Write -log σ(u) as softplus(-u), never as a log of a sigmoid.",
        "F.softplus(-(real_logits - fake_logits)).mean()",
    ],
    "relativistic_g_loss": [
        "The same pairs, the roles swapped: G wants its fake to look more real than the real. The "
        "gradient must reach the fake logits (G learns through them); the real logits need none.",
        "F.softplus(-(fake_logits - real_logits)).mean()",
    ],
    "r1_r2_penalty": [
        "Two gradients of D with respect to its input: one at the reals (R1), one at the fakes (R2). "
        "Sum D's outputs to get one scalar per batch, and keep the graph (create_graph=True) so the "
        "penalty itself can be differentiated with respect to D's weights. The fakes come detached: "
        "the penalty trains D only.",
        "grad = torch.autograd.grad(D(x).sum(), x, create_graph=True)[0]; "
        "grad.flatten(1).pow(2).sum(1).mean() for each of x = real, x = fake.detach(), times gamma / 2",
    ],
    "translate": [
        "Pad each image with max|shift| zeros on every side, then read the window that starts "
        "max|shift| - shift further in. Indexing keeps the gradient.",
        "padded = F.pad(x, (s, s, s, s)); out[b] = padded[b, :, s - dy : s - dy + H, s - dx : s - dx + W]",
    ],
    "augment_pair": [
        "Draw one (dy, dx) per image, each uniform over {-max_shift, ..., max_shift}. Both batches "
        "are augmented (D must never tell them apart by the augmentation); with same_shift the fake "
        "batch reuses the real batch's shifts, otherwise it draws its own.",
        "torch.randint(-max_shift, max_shift + 1, (B, 2), generator=generator)",
    ],
    "inversion_objective": [
        "Two mean squared errors per image, one over pixels and one over the feature vector, the "
        "second weighted by lam; then average over the batch. Compare features of the two images, "
        "not features of their difference.",
        "((recon - target) ** 2).flatten(1).mean(1) + lam * ((features(recon) - features(target)) ** 2)"
        ".flatten(1).mean(1), then .mean()",
    ],
    "memorisation_score": [
        "Two nearest-neighbour distances: from each generated sample to the closest training "
        "sample, and from each training sample to the closest *other* training sample (the point "
        "itself is at distance 0 and must be left out). Compare their medians.",
        "d = torch.cdist(gen, train).min(1).values; t = torch.cdist(train, train); "
        "t.fill_diagonal_(float('inf')); d.median() / t.min(1).values.median()",
    ],
}


def relativistic_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    r"""D's relativistic pairing loss, RpGAN (Jolicoeur-Martineau 2019; R3GAN, Huang et al. 2024, eq. 2).

    .. math:: L_D = \mathbb{E}\big[\operatorname{softplus}\big(-(D(x_i) - D(G(z_i)))\big)\big]
        = -\mathbb{E}\big[\log \sigma(D(x_i) - D(G(z_i)))\big]

    Args:
        real_logits, fake_logits: D's logits of a real and a fake batch, (B,); pair i is
            (real_logits[i], fake_logits[i]).

    Returns:
        The scalar loss, the mean over the B pairs.
    """
    # BEGIN SOLUTION
    return F.softplus(-(real_logits - fake_logits)).mean()
    # END SOLUTION


def relativistic_g_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    r"""G's relativistic pairing loss: each fake should look more real than its paired real.

    .. math:: L_G = \mathbb{E}\big[\operatorname{softplus}\big(-(D(G(z_i)) - D(x_i))\big)\big]

    The gradient must flow into ``fake_logits``: that is how G learns.

    Returns:
        The scalar loss, the mean over the B pairs.
    """
    # BEGIN SOLUTION
    return F.softplus(-(fake_logits - real_logits)).mean()
    # END SOLUTION


def r1_r2_penalty(D: nn.Module, real: Tensor, fake: Tensor, gamma: float = 10.0) -> Tensor:
    r"""R1 + R2 (Mescheder et al. 2018; R3GAN, Huang et al. 2024 §2.2): D's input gradient at the reals and at the fakes.

    .. math::
        \frac{\gamma}{2}\Big(\mathbb{E}_x\lVert \nabla_x D(x) \rVert^2
        + \mathbb{E}_z\lVert \nabla_{\tilde x} D(\tilde x) \rVert^2\Big), \qquad \tilde x = G(z)

    The squared norm is over all of C·H·W of each sample, the expectation the batch mean. The
    penalty trains D only (take the fakes detached), and must be differentiable with respect to
    D's weights (``create_graph=True``).

    Args:
        D: maps (B, C, H, W) → logits (B,).
        real, fake: batches (B, C, H, W); ``fake`` may carry G's graph.
        gamma: γ.

    Returns:
        The scalar penalty.
    """
    # BEGIN SOLUTION
    total = real.new_zeros(())
    for x in (real.detach(), fake.detach()):
        x = x.requires_grad_(True)
        (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)  # (B, C, H, W)
        total = total + grad.flatten(1).pow(2).sum(1).mean()
    return 0.5 * gamma * total
    # END SOLUTION


def translate(x: Tensor, shifts: Tensor) -> Tensor:
    r"""Shift each image by whole pixels, filling the uncovered border with zeros (DiffAugment's translation).

    Output pixel (i, j) of image b is input pixel (i − dy_b, j − dx_b), or 0 when that lies
    outside the image. Differentiable in ``x``.

    Args:
        x: images (B, C, H, W).
        shifts: int64 (B, 2), row b = (dy_b, dx_b): down and right by that many pixels.

    Returns:
        The shifted images, (B, C, H, W).
    """
    # BEGIN SOLUTION
    B, C, H, W = x.shape
    s = int(shifts.abs().max()) if len(shifts) else 0
    padded = F.pad(x, (s, s, s, s))  # (B, C, H + 2s, W + 2s)
    rows = []
    for b in range(B):
        dy, dx = int(shifts[b, 0]), int(shifts[b, 1])
        rows.append(padded[b, :, s - dy : s - dy + H, s - dx : s - dx + W])  # (C, H, W)
    return torch.stack(rows)
    # END SOLUTION


def augment_pair(
    real: Tensor,
    fake: Tensor,
    max_shift: int,
    generator: torch.Generator | None = None,
    same_shift: bool = False,
) -> tuple[Tensor, Tensor]:
    r"""Random translations of a real and a fake batch, as DiffAugment applies them to everything D sees.

    Each image gets its own shift (dy, dx), each uniform over :math:`\{-r, \dots, r\}`, r =
    ``max_shift``. Draw the real batch's shifts first, then (unless ``same_shift``) the fake
    batch's, both with ``generator``. With ``same_shift=True`` the fake image i gets the same
    shift as real image i. The fakes stay differentiable (G learns through the augmentation).

    Returns:
        ``(translate(real, shifts_real), translate(fake, shifts_fake))``.
    """
    # BEGIN SOLUTION
    B = real.shape[0]
    shifts_real = torch.randint(-max_shift, max_shift + 1, (B, 2), generator=generator)  # (B, 2)
    if same_shift:
        shifts_fake = shifts_real
    else:
        shifts_fake = torch.randint(-max_shift, max_shift + 1, (fake.shape[0], 2), generator=generator)
    return translate(real, shifts_real), translate(fake, shifts_fake)
    # END SOLUTION


def inversion_objective(recon: Tensor, target: Tensor, features, lam: float) -> Tensor:
    r"""The GAN-inversion loss: pixel MSE + λ · feature MSE, averaged over the batch.

    .. math:: L = \frac1B \sum_i \Big[\operatorname{mean}_{c,h,w}(\hat x_i - x_i)^2
        + \lambda\, \operatorname{mean}_k\big(\varphi(\hat x_i)_k - \varphi(x_i)_k\big)^2\Big]

    Args:
        recon: the generator's images :math:`\hat x = g(w)`, (B, C, H, W).
        target: the images to reconstruct, (B, C, H, W).
        features: φ, a function (B, C, H, W) → (B, K).
        lam: λ.

    Returns:
        The scalar loss, differentiable in ``recon``.
    """
    # BEGIN SOLUTION
    pixel = (recon - target).pow(2).flatten(1).mean(1)  # (B,)
    feature = (features(recon) - features(target)).pow(2).flatten(1).mean(1)  # (B,)
    return (pixel + lam * feature).mean()
    # END SOLUTION


def memorisation_score(generated: Tensor, train: Tensor) -> float:
    r"""How close the samples sit to the training set, relative to how close training images sit to each other.

    .. math::
        \frac{\operatorname{median}_j \min_i \lVert y_j - x_i \rVert}
             {\operatorname{median}_i \min_{k \ne i} \lVert x_i - x_k \rVert}

    About 1 for fresh samples of the data distribution, near 0 for copies of training images.

    Args:
        generated: features (or flattened images) of the samples, (N, D).
        train: those of the training set, (M, D).

    Returns:
        The ratio as a Python float.
    """
    # BEGIN SOLUTION
    generated, train = generated.double(), train.double()
    to_train = torch.cdist(generated, train).min(dim=1).values  # (N,)
    within = torch.cdist(train, train)  # (M, M)
    within.fill_diagonal_(float("inf"))  # a training image is not its own neighbour
    return float(to_train.median() / within.min(dim=1).values.median())
    # END SOLUTION
