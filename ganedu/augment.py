r"""Differentiable augmentation of everything the discriminator sees (DiffAugment, ADA).

With little data D memorises the training set and its feedback to G stops being useful.
Augmenting the images D sees makes memorising harder, but only if the augmentation does not
change the distribution G is asked to match. The rule (Zhao et al. 2020, "Differentiable
Augmentation for Data-Efficient GAN Training"; Karras et al. 2020, StyleGAN2-ADA):

* augment **real and fake** images alike, in **both** players' steps: D judges
  :math:`D(T(x))` and :math:`D(T(G(z)))`; augmenting only the reals teaches G to produce
  augmented images (cutout holes, shifted borders);
* every transform :math:`T` is **differentiable** in its input, so G's gradient flows back
  through :math:`T(G(z))`.

This module holds the three DiffAugment transforms (:func:`colour`, :func:`translation`,
:func:`cutout`), :func:`diff_augment` that chains them, each applied to each image with
probability ``p``, the callable :class:`DiffAugment` a bundle takes as ``augment=``, and
StyleGAN2-ADA's controller of ``p`` (:class:`AdaptiveProbability`).

Randomness: every function takes an optional ``torch.Generator`` (on the images' device);
the same generator state gives the same transform, so two calls can share their parameters.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def _uniform(x: Tensor, generator: torch.Generator | None, low: float = 0.0, high: float = 1.0) -> Tensor:
    """One U[low, high) number per image, shaped (B, 1, 1, 1) to broadcast over C, H, W."""
    u = torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype, generator=generator)
    return low + (high - low) * u


def colour(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    r"""DiffAugment's colour transform: random brightness, saturation and contrast per image.

    .. math::
        x \leftarrow x + b,\ b \sim U[-\tfrac12, \tfrac12); \quad
        x \leftarrow \bar x_c + s\,(x - \bar x_c),\ s \sim U[0, 2); \quad
        x \leftarrow \bar x + c\,(x - \bar x),\ c \sim U[\tfrac12, \tfrac32)

    with :math:`\bar x_c` the mean over channels (per pixel) and :math:`\bar x` the mean over
    C·H·W. Saturation needs colour channels: a grayscale image (C = 1) gets brightness and
    contrast only. ``x``: (B, C, H, W) in [-1, 1]; returns the same shape.
    """
    x = x + _uniform(x, generator, -0.5, 0.5)  # brightness
    if x.shape[1] > 1:
        mean = x.mean(dim=1, keepdim=True)  # (B, 1, H, W)
        x = mean + _uniform(x, generator, 0.0, 2.0) * (x - mean)  # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    return mean + _uniform(x, generator, 0.5, 1.5) * (x - mean)  # contrast


def translate(x: Tensor, shifts: Tensor) -> Tensor:
    r"""Shift each image by whole pixels, filling the uncovered border with zeros.

    ``shifts`` (B, 2) holds integer (down, right) shifts: output pixel (i, j) of image b is
    input pixel (i − dy_b, j − dx_b), or 0 outside the image. Differentiable in ``x`` (it is
    a gather from the zero-padded image). ``x``: (B, C, H, W); returns the same shape.
    """
    B, C, H, W = x.shape
    s = int(shifts.abs().max().item()) if shifts.numel() else 0
    padded = F.pad(x, (s, s, s, s))  # (B, C, H + 2s, W + 2s)
    rows = torch.arange(H, device=x.device)[None, :] + s - shifts[:, 0:1]  # (B, H)
    cols = torch.arange(W, device=x.device)[None, :] + s - shifts[:, 1:2]  # (B, W)
    batch = torch.arange(B, device=x.device)[:, None, None]  # (B, 1, 1)
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2)  # (B, C, H, W)


def translation(x: Tensor, ratio: float = 0.125, generator: torch.Generator | None = None) -> Tensor:
    r"""DiffAugment's translation: each image shifted by up to ``ratio`` of its side, zeros filled in.

    Shifts are whole pixels, drawn uniformly from :math:`\{-r, \dots, r\}`, r = round(ratio·H)
    (4 pixels of a 32×32 image), independently per image and axis (:func:`translate`).
    """
    r = int(x.shape[2] * ratio + 0.5)
    shifts = torch.randint(-r, r + 1, (x.shape[0], 2), device=x.device, generator=generator)  # (B, 2)
    return translate(x, shifts)


def cutout(x: Tensor, ratio: float = 0.5, generator: torch.Generator | None = None) -> Tensor:
    r"""DiffAugment's cutout (DeVries & Taylor 2017): a square of side ``ratio``·H set to zero in each image.

    The square's centre is uniform over the image, so the square may hang over the border.
    :math:`T(x) = m \odot x` with a 0/1 mask m, differentiable in x.
    """
    B, _, H, W = x.shape
    size = int(H * ratio + 0.5)
    centre = torch.rand(B, 2, device=x.device, generator=generator)  # (B, 2) in [0, 1)
    top = (centre[:, 0:1] * H).long() - size // 2  # (B, 1)
    left = (centre[:, 1:2] * W).long() - size // 2
    rows, cols = torch.arange(H, device=x.device)[None, :], torch.arange(W, device=x.device)[None, :]
    in_rows = (rows >= top) & (rows < top + size)  # (B, H)
    in_cols = (cols >= left) & (cols < left + size)  # (B, W)
    keep = ~(in_rows[:, :, None] & in_cols[:, None, :])  # (B, H, W)
    return x * keep[:, None].to(x.dtype)


TRANSFORMS: dict[str, Callable[..., Tensor]] = {
    "colour": colour,
    "translation": translation,
    "cutout": cutout,
}
"""DiffAugment's transforms by name, in the order :func:`diff_augment` applies them."""


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"colour,translation"`` as a tuple of transform names; ``ValueError`` naming the valid ones."""
    names = tuple(name.strip() for name in policy.split(",") if name.strip())
    unknown = [name for name in names if name not in TRANSFORMS]
    if unknown or not names:
        raise ValueError(
            f"augmentation policy {policy!r}: use a comma-separated list of {', '.join(TRANSFORMS)}"
        )
    return names


def diff_augment(
    x: Tensor,
    policy: str = "colour,translation,cutout",
    p: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""The transforms of ``policy`` in turn, each applied to each image with probability ``p``.

    ``p`` = 1 is DiffAugment (Zhao et al. 2020), every image always transformed; ``p`` < 1 is
    how StyleGAN2-ADA doses augmentation (:class:`AdaptiveProbability`): each image keeps
    :math:`x` or takes :math:`T(x)`, chosen by its own coin. The same ``generator`` state gives
    the same output. ``x``: (B, C, H, W); returns the same shape, differentiable in ``x``.
    """
    for name in parse_policy(policy):
        if p <= 0:
            break
        out = TRANSFORMS[name](x, generator=generator)
        if p < 1:
            chosen = torch.rand(x.shape[0], 1, 1, 1, device=x.device, generator=generator) < p  # (B, 1, 1, 1)
            out = torch.where(chosen, out, x)
        x = out
    return x


class DiffAugment:
    """The augmentation a bundle applies to every image D sees: ``GAN(..., augment=DiffAugment())``.

    ``p`` may change during training (a schedule, or :class:`AdaptiveProbability`).

    Args:
        policy: comma-separated transforms of :data:`TRANSFORMS`, e.g. ``"colour,translation,cutout"``.
        p: probability that a transform is applied to an image.
    """

    def __init__(self, policy: str = "colour,translation,cutout", p: float = 1.0):
        self.policy = ",".join(parse_policy(policy))
        self.p = p

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return diff_augment(x, self.policy, self.p, generator)


class AdaptiveProbability:
    r"""StyleGAN2-ADA's controller of the augmentation probability p (Karras et al. 2020, §3).

    D overfitting shows in its outputs on the training images: it grows sure of all of them.
    The heuristic :math:`r_t = \mathbb{E}[\operatorname{sign} D(x)]` over the real logits of the
    last ``interval`` batches is 0 when D cannot tell, 1 when it is sure of every real. Every
    ``interval`` updates p moves towards holding :math:`r_t` at ``target`` (0.6):

    .. math:: p \leftarrow \operatorname{clip}_{[0, 1]}\Big(p + \operatorname{sign}(r_t - \text{target})
        \cdot \frac{N}{\text{speed\_images}}\Big)

    with N the real images counted since the last adjustment, so p could go from 0 to 1 in
    ``speed_images`` images (500k in the paper).
    """

    def __init__(self, target: float = 0.6, interval: int = 4, speed_images: int = 500_000, p: float = 0.0):
        if not 0 < target < 1:
            raise ValueError(f"the target of r_t must lie in (0, 1), not {target}")
        self.target, self.interval, self.speed_images, self.p = target, interval, speed_images, p
        self.signs, self.count, self.updates = 0.0, 0, 0

    def update(self, real_logits: Tensor) -> float:
        """Count the signs of one batch of D's logits on (augmented) reals; returns p, adjusted every ``interval`` calls."""
        self.signs += float(torch.sign(real_logits.detach().float()).sum())
        self.count += real_logits.numel()
        self.updates += 1
        if self.updates % self.interval == 0:
            r_t = self.signs / self.count
            step = (1.0 if r_t > self.target else -1.0 if r_t < self.target else 0.0) * self.count
            self.p = min(max(self.p + step / self.speed_images, 0.0), 1.0)
            self.signs, self.count = 0.0, 0
        return self.p

    def state_dict(self) -> dict:
        return {"p": self.p, "signs": self.signs, "count": self.count, "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.p, self.signs = float(state["p"]), float(state["signs"])
        self.count, self.updates = int(state["count"]), int(state["updates"])
