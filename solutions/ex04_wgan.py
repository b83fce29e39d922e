r"""Chapter 4 exercises: the Wasserstein GAN (Arjovsky, Chintala & Bottou 2017).

Implement each function below; ``ganedu.grading.check("ex04_wgan")`` in ``course/04_wgan.ipynb``
grades them. The critic returns an unbounded **score** :math:`f(x)` per sample, not a
probability: no sigmoid, no log, no BCE anywhere in this file.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

HINTS = {
    "critic_loss": [
        "Two means, one per batch (the batches may differ in size and shape), then their difference.",
        "fake_scores.mean() - real_scores.mean()",
    ],
    "generator_loss": [
        "G maximises the critic's mean score on its samples; a loss is minimised.",
        "-fake_scores.mean()",
    ],
    "clip_weights_": [
        "Loop over critic.parameters() inside torch.no_grad() and clamp each tensor in place (methods ending in _).",
        "with torch.no_grad(): for p in critic.parameters(): p.clamp_(-c, c)",
    ],
    "mode_coverage": [
        "Distances from every point to every centre (torch.cdist), the nearest per point, then counts per centre "
        "among the good points only (torch.bincount with minlength).",
        "distance, nearest = torch.cdist(points, centers).min(dim=1); good = distance <= 3 * std; "
        "counts = bincount(nearest[good], minlength=K); covered = (counts >= 0.01 * N).sum()",
    ],
    "wasserstein_1d": [
        "Between two consecutive values of the pooled, sorted samples both CDFs are constant: the integral is a "
        "sum of |F_x - F_y| times the gap. F_x(t) = (number of x_i <= t) / N: torch.searchsorted(sorted x, t, "
        "right=True) counts them.",
        "t = torch.cat([x, y]).sort().values; F_x = searchsorted(x.sort().values, t, right=True) / N (in t's dtype); "
        "likewise F_y; ((F_x - F_y).abs()[:-1] * t.diff()).sum()",
    ],
    "train_step": [
        "A loop of n_critic critic steps (each: new real batch, new fakes as constants, critic_loss, zero_grad, "
        "backward, step, then clip), then one G step on new codes with generator_loss.",
        "for _ in range(n_critic): real = next_real(); fake = G(sample_z(len(real))).detach(); "
        "loss_d = critic_loss(D(real), D(fake)); opt_d.zero_grad(); loss_d.backward(); opt_d.step(); "
        "clip_weights_(D, clip)  -- then loss_g = generator_loss(D(G(sample_z(len(real))))) and G's update",
    ],
}


def critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    r"""The critic's loss, minimised: the negative of the Wasserstein-1 estimate.

    .. math::
        L_f = \mathbb{E}_z[f(G(z))] - \mathbb{E}_x[f(x)]

    Minimising it pushes the critic's scores up on real data and down on generated data, so
    :math:`-L_f` estimates :math:`W_1(P_r, P_g)` (up to the critic's Lipschitz constant).

    Args:
        real_scores: critic outputs on real samples, shape (B,) or (B, 1).
        fake_scores: critic outputs on generated samples, shape (B,) or (B, 1).

    Returns:
        A scalar tensor.
    """
    # BEGIN SOLUTION
    return fake_scores.mean() - real_scores.mean()
    # END SOLUTION


def generator_loss(fake_scores: Tensor) -> Tensor:
    r"""The generator's loss, minimised: :math:`L_G = -\mathbb{E}_z[f(G(z))]`.

    The generator wants its samples to score high under the critic.

    Args:
        fake_scores: critic outputs on generated samples, shape (B,) or (B, 1).

    Returns:
        A scalar tensor.
    """
    # BEGIN SOLUTION
    return -fake_scores.mean()
    # END SOLUTION


def clip_weights_(critic: nn.Module, c: float = 0.01) -> None:
    r"""Clip every parameter of ``critic`` into :math:`[-c, c]`, in place (WGAN's Lipschitz constraint).

    Every parameter, biases and norm scales included. Modify the existing tensors (the
    optimizer holds references to them): do not create new ``nn.Parameter`` objects, and do
    not record the operation in autograd. Returns nothing.
    """
    # BEGIN SOLUTION
    with torch.no_grad():
        for p in critic.parameters():
            p.clamp_(-c, c)
    # END SOLUTION


def mode_coverage(points: Tensor, centers: Tensor, std: float) -> tuple[int, float]:
    r"""How many modes of a 2D mixture the samples cover, and the share of good samples.

    A point is **high quality** when its distance to the nearest centre is at most
    :math:`3\sigma`. A mode is **covered** when at least 1% of *all* points are high-quality
    points whose nearest centre is that mode.

    Args:
        points: generated samples, shape (N, 2).
        centers: the mixture's centres, shape (K, 2).
        std: the standard deviation σ of each Gaussian.

    Returns:
        ``(covered, high_quality)``: an ``int`` in [0, K] and a ``float`` in [0, 1].
    """
    # BEGIN SOLUTION
    distance, nearest = torch.cdist(points.float(), centers.float()).min(dim=1)
    good = distance <= 3 * std
    counts = torch.bincount(nearest[good], minlength=len(centers))
    return int((counts >= 0.01 * len(points)).sum()), good.float().mean().item()
    # END SOLUTION


def wasserstein_1d(x: Tensor, y: Tensor) -> Tensor:
    r"""The Wasserstein-1 distance between two empirical distributions on the real line.

    In one dimension the optimal transport plan matches quantiles, and
    :math:`W_1(P, Q) = \int_{-\infty}^{\infty} |F_P(t) - F_Q(t)|\, dt`, with :math:`F` the
    cumulative distribution functions. Derive it from the dual of chapter 4,
    :math:`W_1 = \sup_{\|f\|_L \le 1} \mathbb{E}_P f - \mathbb{E}_Q f`: integrate by parts to get
    :math:`\mathbb{E}_P f - \mathbb{E}_Q f = \int f'(t)\,(F_Q(t) - F_P(t))\, dt`, and see which
    slope :math:`|f'| \le 1` makes it largest. The grader checks your value against that
    optimal critic.

    For samples :math:`x_1..x_N` and :math:`y_1..y_M`, :math:`F_x(t) = \#\{i : x_i \le t\} / N`
    is a step function, constant between consecutive values of the pooled sorted samples, so
    the integral is an exact finite sum. N and M may differ.

    Args:
        x: samples of P, shape (N,).
        y: samples of Q, shape (M,).

    Returns:
        A scalar tensor in the dtype of the samples.
    """
    # BEGIN SOLUTION
    t = torch.cat([x, y]).sort().values  # (N + M,) every point where a CDF jumps
    cdf_x = torch.searchsorted(x.sort().values, t, right=True).to(t.dtype) / len(x)  # F_x(t_k)
    cdf_y = torch.searchsorted(y.sort().values, t, right=True).to(t.dtype) / len(y)  # F_y(t_k)
    return ((cdf_x - cdf_y).abs()[:-1] * t.diff()).sum()  # sum_k |F_x - F_y| (t_{k+1} - t_k)
    # END SOLUTION


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    next_real: Callable[[], Tensor],
    sample_z: Callable[[int], Tensor],
    n_critic: int = 5,
    clip: float = 0.01,
) -> dict[str, float]:
    r"""One WGAN update (Algorithm 1 of Arjovsky et al.): ``n_critic`` critic steps, then one G step.

    Each critic step takes a new real batch :math:`x` (B samples) and new fakes
    :math:`\tilde x = G(z)` held constant (no gradient into G), takes one step of ``opt_d`` on
    your :func:`critic_loss` :math:`L_f = \mathbb{E}[f(\tilde x)] - \mathbb{E}[f(x)]`, and then
    clips every critic weight into :math:`[-c, c]` with your :func:`clip_weights_`, after
    **every** step: the Lipschitz bound must hold for each critic the loop produces, and in
    particular for the one G trains against.

    The G step draws B new codes and takes one step of ``opt_g`` on your :func:`generator_loss`
    :math:`L_G = -\mathbb{E}[f(G(z))]` through the clipped critic; the critic's weights must
    not change in it.

    Clear each network's gradients before its backward pass (PyTorch accumulates them).

    Args:
        G: the generator, codes (B, nz) -> samples.
        D: the critic, samples -> scores (B,).
        opt_g: G's optimizer; stepped once.
        opt_d: the critic's optimizer; stepped ``n_critic`` times.
        next_real: ``next_real()`` returns a new real batch (B, ...), e.g.
            ``lambda: data.sample(B)[0]``; call it once per critic step.
        sample_z: ``sample_z(n)`` returns n new codes (n, nz), e.g. ``gan.sample_z``; call it
            once per critic step and once for the G step.
        n_critic: critic steps per G step.
        clip: the clipping bound c.

    Returns:
        ``{"loss_d": float, "loss_g": float}``: the critic loss of the last critic step and the
        generator loss, each computed before its own update, as Python floats.
    """
    # BEGIN SOLUTION
    for _ in range(n_critic):
        real = next_real()  # (B, ...)
        fake = G(sample_z(real.shape[0])).detach()  # (B, ...), a constant for the critic
        loss_d = critic_loss(D(real), D(fake))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        clip_weights_(D, clip)

    loss_g = generator_loss(D(G(sample_z(real.shape[0]))))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}
    # END SOLUTION
