r"""Editing real images with a trained StyleGAN: inversion into W and W+, and class directions in W.

**Inversion by optimisation** (Abdal, Qin & Wonka 2019, "Image2StyleGAN"; Karras et al. 2020 §5):
find the latent whose image is the target,

.. math::
    w^\star = \arg\min_w\; \underbrace{\tfrac{1}{CHW}\lVert g(w) - x\rVert^2}_{\text{pixels}}
    + \lambda\, \underbrace{\tfrac{1}{F}\lVert \varphi(g(w)) - \varphi(x)\rVert^2}_{\text{features}},

starting from the mean latent :math:`\bar w` and running Adam on :math:`w` alone (the generator
is frozen, its noise fixed with ``noise_mode="const"``). :math:`\varphi` is the course's
Fashion-MNIST classifier's penultimate layer (:class:`ganedu.metrics.ClassifierFeatures`), standing
in for the VGG/LPIPS features of the papers, which cannot be downloaded here.

* **W**: one :math:`w \in \mathbb{R}^{512}` per image, copied to every layer: only images the
  generator can make are reachable.
* **W+**: one :math:`w_l` per synthesis layer (``G.num_ws`` of them): many more degrees of freedom,
  closer reconstructions, latents that may leave the distribution of the mapping network.

**Class directions** (Shen et al. 2020, "InterFaceGAN", with class means in place of an SVM):
:math:`d = \mathbb{E}[w \mid \text{class } b] - \mathbb{E}[w \mid \text{class } a]` over sampled
:math:`w = f(z)`, the class read by the classifier; :math:`w + \alpha d` walks from a to b.
On the shipped generator the mean difference beat a logistic-regression normal (the SVM's
role), and walking plus the truncation trick centred on class b's mean,
:math:`\bar w_b + \psi\,(w + \alpha d - \bar w_b)`, turns far more sneakers into boots than
either alone (``benchmarks/modern.py edit``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ganedu.data.convert import to_uint8
from ganedu.errors import GaneduError

SPACES = ("w", "w+")


def classifier_feature_fn(classifier) -> callable:
    """A differentiable φ: float images (B, 1, 32, 32) or (B, 1, 28, 28) in [-1, 1] → the classifier's features.

    ``classifier`` is a :class:`ganedu.metrics.ClassifierFeatures`; its own ``features`` runs in
    inference mode (no gradients), this one does not. 32×32 images are cropped to their centre 28×28.
    """
    network = classifier.network

    def features(x: Tensor) -> Tensor:
        if x.shape[-1] == 32:
            x = x[..., 2:30, 2:30]  # (B, 1, 28, 28)
        return network.features(x)  # (B, F)

    return features


def inversion_loss(recon: Tensor, target: Tensor, features, lam: float = 0.1) -> Tensor:
    r"""Per-image inversion loss, shape (B,): pixel MSE + λ · feature MSE.

    .. math:: \ell_i = \operatorname{mean}_{c,h,w}(\hat x_i - x_i)^2
        + \lambda\, \operatorname{mean}_k(\varphi(\hat x_i)_k - \varphi(x_i)_k)^2

    ``features`` is φ (e.g. :func:`classifier_feature_fn`), or ``None`` for pixels only.
    """
    loss = (recon - target).pow(2).flatten(1).mean(1)  # (B,)
    if features is not None and lam:
        loss = loss + lam * (features(recon) - features(target).detach()).pow(2).flatten(1).mean(1)
    return loss


@dataclass
class Inversion:
    """What :func:`invert` found.

    Attributes:
        ws: the latents, (B, num_ws, w_dim), the same w in every layer for space "w".
        images: their images g(w), (B, C, 32, 32) in [-1, 1], detached.
        losses: the mean loss over the batch at every step, ``steps`` floats.
        pixel_mse: each image's final pixel MSE, (B,).
    """

    ws: Tensor
    images: Tensor
    losses: list[float]
    pixel_mse: Tensor


def invert(
    G: nn.Module,
    target: Tensor,
    space: str = "w",
    steps: int = 200,
    lr: float = 0.05,
    lam: float = 0.1,
    features=None,
) -> Inversion:
    """Invert ``target`` (B, C, 32, 32) float in [-1, 1] into ``G``'s W or W+ by Adam on the latent.

    Args:
        G: a StyleGAN :class:`ganedu.nets.stylegan.Generator` (``mapping.w_avg``, ``synthesis``, ``num_ws``).
        target: the images to reconstruct, on G's device.
        space: ``"w"`` (one w per image) or ``"w+"`` (one w per layer).
        steps, lr: Adam steps and learning rate.
        lam: λ, the weight of the feature loss.
        features: φ for the feature loss (:func:`classifier_feature_fn`), ``None`` for pixels only.

    Returns:
        An :class:`Inversion`. G's weights are not changed.
    """
    if space not in SPACES:
        raise GaneduError(f"unknown latent space {space!r}: use one of {', '.join(SPACES)}")
    was_training, needed = G.training, [p.requires_grad for p in G.parameters()]
    G.eval().requires_grad_(False)
    B, num_ws = target.shape[0], G.num_ws
    start = G.mapping.w_avg.detach().float()  # (w_dim,) = w̄
    shape = (B, 1, start.numel()) if space == "w" else (B, num_ws, start.numel())
    w = start.expand(shape).clone().requires_grad_(True)  # (B, 1 or num_ws, w_dim)
    opt = torch.optim.Adam([w], lr=lr)
    losses = []
    try:
        for _ in range(steps):
            recon = G.synthesis(w.expand(B, num_ws, -1), noise_mode="const")  # (B, C, 32, 32)
            loss = inversion_loss(recon, target, features, lam).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with torch.no_grad():
            ws = w.detach().expand(B, num_ws, -1).clone()  # (B, num_ws, w_dim)
            images = G.synthesis(ws, noise_mode="const")
    finally:
        G.train(was_training)
        for p, flag in zip(G.parameters(), needed, strict=True):
            p.requires_grad_(flag)
    return Inversion(ws, images, losses, (images - target).pow(2).flatten(1).mean(1))


@torch.no_grad()
def sample_ws(G: nn.Module, n: int, seed: int = 0, psi: float = 1.0) -> tuple[Tensor, Tensor]:
    """``n`` latents w = f(z) (n, w_dim) and their images (n, C, 32, 32), z drawn with ``seed``, noise const."""
    device = G.mapping.w_avg.device
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed)).to(device)  # (n, z_dim)
    w = G.mapping(z, psi)  # (n, w_dim)
    return w, G.synthesis(w[:, None].expand(-1, G.num_ws, -1), noise_mode="const")


@torch.no_grad()
def render(G: nn.Module, w: Tensor) -> Tensor:
    """The images of latents ``w`` (B, w_dim) in W: (B, C, 32, 32) in [-1, 1], noise const."""
    return G.synthesis(w[:, None].expand(-1, G.num_ws, -1), noise_mode="const")


def class_means(G: nn.Module, classifier, n: int = 2000, seed: int = 0, psi: float = 1.0) -> Tensor:
    r"""Each class's mean latent :math:`\bar w_c`, shape (num_classes, w_dim), over ``n`` sampled w.

    The class of a sample is what the ``classifier`` (:class:`ganedu.metrics.ClassifierFeatures`)
    calls its image. A class no sample was given has a row of NaN.
    """
    w, images = sample_ws(G, n, seed, psi)
    labels = classifier.predict(to_uint8(images, crop_to=28)).to(w.device)  # (n,)
    means = torch.full((classifier.network.head.out_features, w.shape[1]), float("nan"), device=w.device)
    for c in labels.unique().tolist():
        means[c] = w[labels == c].mean(0)
    return means


def class_direction(
    G: nn.Module, classifier, a: int, b: int, n: int = 2000, seed: int = 0, psi: float = 1.0
) -> Tensor:
    r"""The direction from class ``a`` to class ``b`` in W: :math:`d = \bar w_b - \bar w_a`, shape (w_dim,).

    :math:`\bar w_c` is the mean of the sampled w whose images the ``classifier``
    (:class:`ganedu.metrics.ClassifierFeatures`) labels c, over ``n`` samples (:func:`class_means`).
    """
    means = class_means(G, classifier, n, seed, psi)
    missing = [c for c in (a, b) if means[c].isnan().any()]
    if missing:
        raise GaneduError(f"no samples labelled {missing} among {n}: raise n or pick other classes")
    return means[b] - means[a]


def walk(
    G: nn.Module, w: Tensor, direction: Tensor, alphas, center: Tensor | None = None, psi: float = 1.0
) -> Tensor:
    r"""Images along the walk for each α: (len(alphas), B, C, 32, 32).

    .. math:: w_\alpha = c + \psi\,(w + \alpha d - c)

    With ``psi`` = 1 (the default) this is the plain walk :math:`w + \alpha d`. With ``center``
    = :math:`\bar w_b`, the target class's mean, and ψ < 1 it is chapter 8's truncation trick
    centred on the target class: each walked latent keeps a share ψ of what makes it differ
    from a typical b, so the edit lands inside the class more often and the image keeps less of
    its own detail.
    """
    if psi != 1.0 and center is None:
        raise GaneduError(
            "walk(psi=...) truncates towards a centre: pass center (e.g. the target class's mean w)"
        )
    ws = [w + alpha * direction for alpha in alphas]
    if center is not None:
        ws = [center + psi * (v - center) for v in ws]
    return torch.stack([render(G, v) for v in ws])
