"""Pictures of a GAN: sample grids, loss curves, latent interpolations, modes covered on toy data.

Images are either float tensors in [-1, 1] or uint8 tensors in [0, 255], shape (N, C, H, W).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import Tensor

from ganedu.grids import image_grid, save_grid, to_display  # noqa: F401  (save_grid re-exported)


def show_grid(
    images: Tensor,
    nrow: int | None = None,
    ax=None,
    title: str | None = None,
    row_labels: Sequence[str] | None = None,
):
    """Draw a grid of images on ``ax`` (a new figure if ``None``); returns the axes.

    ``row_labels`` names the rows of ``nrow`` images each, written on the left.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    grid = image_grid(images, nrow)
    ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    if row_labels:
        padding, height = 2, images.shape[-2]  # image_grid's padding
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks(
            [padding + height / 2 + r * (height + padding) for r in range(len(row_labels))], row_labels
        )
        ax.tick_params(left=False)
        for side in ax.spines.values():
            side.set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def plot_losses(history: dict[str, list[float]], ax=None, keys=None, smooth: int = 1):
    """Plot logged values against step; ``smooth`` > 1 applies a running mean of that width."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    steps = history.get("step", [])
    for key in keys or [k for k in history if k != "step"]:
        values = np.asarray(history[key], dtype=float)
        if smooth > 1 and len(values) >= smooth:
            values = np.convolve(values, np.ones(smooth) / smooth, mode="valid")
        ax.plot(steps[len(steps) - len(values) :], values, label=key)
    ax.set_xlabel("step")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_coverage(samples: Tensor, toy, ax=None, title: str | None = None, n_real: int = 2000):
    """Scatter 2D ``samples`` (red) over a toy mixture's data (grey) and count its modes.

    ``toy`` is a :class:`ganedu.data.ToyBatches`. The title gets the
    :func:`ganedu.metrics.mode_coverage` result as a second line; samples outside the frame
    (1.5 times the outermost centre) are drawn on its edge. Returns the ``ModeCoverage``.
    """
    # imported here: ganedu.metrics loads scipy and the feature networks, and every training
    # run imports viz (through callbacks) without ever drawing a coverage plot
    from ganedu.metrics.modes import mode_coverage

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    samples = samples.detach().float().cpu()
    result = mode_coverage(samples, toy.centers, toy.std)
    lim = 1.5 * toy.centers.abs().max().item()
    ax.scatter(*toy.points[:n_real].cpu().T, s=1, c="lightgray")
    ax.scatter(*samples.clamp(-lim, lim).T, s=1, c="tab:red", alpha=0.4)
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xticks=[], yticks=[])
    ax.set_title(f"{title}\n{result}" if title else str(result), fontsize="small")
    return result


def slerp(z0: Tensor, z1: Tensor, t: float | Tensor) -> Tensor:
    r"""Spherical interpolation (White 2016): follows the shell where Gaussian codes live.

    .. math:: \mathrm{slerp}(z_0, z_1; t) = \frac{\sin((1-t)\Omega)}{\sin\Omega} z_0
              + \frac{\sin(t\Omega)}{\sin\Omega} z_1, \quad
              \cos\Omega = \frac{z_0 \cdot z_1}{\lVert z_0\rVert\,\lVert z_1\rVert}
    """
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device).reshape(-1, *([1] * (z0.dim())))
    cos = (z0 * z1).sum(-1, keepdim=True) / (z0.norm(dim=-1, keepdim=True) * z1.norm(dim=-1, keepdim=True))
    omega = torch.acos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    out = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
    return out.squeeze(0) if out.shape[0] == 1 else out


def interpolate(z0: Tensor, z1: Tensor, steps: int = 8, spherical: bool = True) -> Tensor:
    """``steps`` codes from ``z0`` to ``z1`` (each of shape (nz,)), stacked as (steps, nz)."""
    t = torch.linspace(0, 1, steps, device=z0.device)
    if spherical:
        return slerp(z0[None], z1[None], t).reshape(steps, -1)
    return torch.lerp(z0[None], z1[None], t[:, None])
