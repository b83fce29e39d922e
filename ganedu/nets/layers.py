r"""Building blocks from the stabilisation toolbox, usable in any of the course's networks.

- :func:`spectral_norm_all`: spectral normalisation (Miyato et al. 2018) on every conv and
  linear layer of a discriminator, in one line: ``D = spectral_norm_all(D)``.
- :class:`SelfAttention`: the self-attention block of SAGAN (Zhang et al. 2019).
- :class:`MinibatchStdDev` / :func:`minibatch_stddev`: the minibatch standard deviation
  channel (Karras et al. 2018), which lets D see a lack of variety.
- :class:`InstanceNorm`: instance normalisation in the form the CPU runs fastest.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from ganedu.errors import GaneduError


class InstanceNorm(nn.GroupNorm):
    r"""Instance normalisation with a learned scale and shift, computed as ``GroupNorm(C, C)`` in fp32.

    Each channel of each sample is normalised over its own H·W:
    :math:`y = \gamma_c (x - \mu_{b,c}) / \sqrt{\sigma^2_{b,c} + \epsilon} + \beta_c`. This is the
    function of ``nn.InstanceNorm2d(channels, affine=True)``, with the same parameter names and
    shapes (``weight``, ``bias``: checkpoints load either way). On the CPU, GroupNorm's fp32
    kernels took 55-60% less time than InstanceNorm2d's through a WGAN-GP critic's forward and
    double backward, and CycleGAN trains 17% more steps per second with them at its batch of 8
    (benchmarks/README.md, "The defaults, on a CPU without AMX"). GroupNorm's bf16 kernels are
    2.5-4× slower than its fp32 ones, so a bf16 input (under autocast) is normalised in fp32 and
    cast back.
    """

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__(channels, channels, eps=eps)  # one group per channel

    def forward(self, x: Tensor) -> Tensor:
        if x.dtype == torch.float32:
            return super().forward(x)
        y = nn.functional.group_norm(x.float(), self.num_groups, self.weight, self.bias, self.eps)
        return y.to(x.dtype)

    def extra_repr(self) -> str:
        return f"{self.num_channels}, eps={self.eps}, affine=True"


def spectral_norm_all(module: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    r"""Constrain every ``Conv2d``, ``ConvTranspose2d`` and ``Linear`` of ``module`` to spectral norm 1.

    Each weight :math:`W` is used as :math:`W / \sigma(W)`, with :math:`\sigma(W)` its largest
    singular value estimated by one step of power iteration per forward pass (the vectors
    persist between steps, so the estimate sharpens as training goes). A network of such
    layers and 1-Lipschitz activations (ReLU, LeakyReLU) is itself at most 1-Lipschitz:
    the constraint WGAN's clipping aimed for, without clipping's loss of capacity.
    Modifies ``module`` in place and returns it.
    """
    for name, child in list(module.named_children()):
        if isinstance(child, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            # ConvTranspose2d stores (in, out, k, k): its output dimension is 1
            dim = 1 if isinstance(child, nn.ConvTranspose2d) else 0
            setattr(module, name, spectral_norm(child, n_power_iterations=n_power_iterations, dim=dim))
        else:
            spectral_norm_all(child, n_power_iterations)
    return module


class SelfAttention(nn.Module):
    r"""SAGAN's self-attention: every position attends to every other, ``x + γ·o``.

    .. math::
        \beta_{j,i} = \operatorname{softmax}_i\big(f(x_i)^\top g(x_j)\big), \qquad
        o_j = v\Big(\sum_i \beta_{j,i}\, h(x_i)\Big), \qquad y_j = x_j + \gamma\, o_j

    with 1×1 convolutions f, g (C → C/8), h (C → C/2), v (C/2 → C) and a learned γ that starts
    at 0, so the block begins as the identity and learns how much long-range context to use.
    Convolutions see a few pixels; attention lets a pixel on a shoe's heel look at its toe.
    Input and output ``(B, C, H, W)``; C must be at least 8.
    """

    def __init__(self, channels: int):
        super().__init__()
        if channels < 8:
            raise ValueError(f"SelfAttention needs at least 8 channels, got {channels}")
        self.f = nn.Conv2d(channels, channels // 8, 1, bias=False)  # queries
        self.g = nn.Conv2d(channels, channels // 8, 1, bias=False)  # keys
        self.h = nn.Conv2d(channels, channels // 2, 1, bias=False)  # values
        self.v = nn.Conv2d(channels // 2, channels, 1, bias=False)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: Tensor) -> Tensor:
        B, C, H, W = x.shape
        q = self.f(x).flatten(2).transpose(1, 2)  # (B, HW, C/8)
        k = self.g(x).flatten(2)  # (B, C/8, HW)
        v = self.h(x).flatten(2).transpose(1, 2)  # (B, HW, C/2)
        attention = torch.softmax(q @ k, dim=-1)  # (B, HW, HW): row j sums to 1 over positions i
        o = (attention @ v).transpose(1, 2).reshape(B, C // 2, H, W)  # (B, C/2, H, W)
        return x + self.gamma * self.v(o)  # (B, C, H, W)


def minibatch_group(batch_size: int, group_size: int) -> int:
    """The group :func:`minibatch_stddev` takes for a batch: ``min(group_size, batch_size)``.

    Raises:
        ValueError: if that group does not divide the batch.
    """
    g = min(group_size, batch_size)
    if batch_size % g:
        raise ValueError(f"batch size {batch_size} is not divisible by the minibatch-stddev group size {g}")
    return g


def refuse_undivided_batch(batch_size: int, group_sizes: Iterable[int], *, named: str, where: str = "",
                           off: str = "") -> None:  # fmt: skip
    """Raise one :class:`GaneduError` if a minibatch-stddev group in ``group_sizes`` does not divide the batch.

    For the checks made before the first step (the CLI's and the training loop's), so that a bad
    batch size reads as one line instead of a traceback from inside D. ``named`` is how the
    message writes the batch size (``--batch-size 30``, ``batch_size=30``), ``where`` what set
    the group (a model or its option), ``off`` how to turn the channel off.
    """
    for g in sorted(group_sizes):
        try:
            minibatch_group(batch_size, g)
        except ValueError:
            raise GaneduError(
                f"{where + ': ' if where else ''}{named} does not split into D's minibatch-stddev groups "
                f"of {g}; pick a batch size divisible by {g}{off}"
            ) from None


def minibatch_stddev(x: Tensor, group_size: int = 4) -> Tensor:
    r"""Append one channel: the standard deviation of each feature over a group of samples, averaged.

    (Karras et al. 2018.) A collapsed generator makes every sample alike, so their standard
    deviation is small; this channel lets D see it. Groups of ``min(group_size, B)`` samples
    (B must be divisible by it); sample b is in group b mod (B / g), as in StyleGAN2.

    The variance is written out as the mean of squared deviations (StyleGAN2's form) rather than
    ``Tensor.var(dim=0)``: PyTorch's CPU ``var`` over the outer dimension took 11 ms for a
    WGAN-GP critic's (4, 16, 256, 4, 4) group, this form 1 ms: the channel cost that critic 24%
    of its training steps and now costs 5%, and StyleGAN trains 14% faster (benchmarks/README.md,
    "Two more tries at WGAN-GP's late gap").

    Returns:
        ``(B, C + 1, H, W)``.
    """
    B, C, H, W = x.shape
    g = minibatch_group(B, group_size)
    y = x.float().reshape(g, B // g, C, H, W)  # (G, B/G, C, H, W)
    y = y - y.mean(dim=0)  # (G, B/G, C, H, W): deviations from the group's mean
    y = (y.square().mean(dim=0) + 1e-8).sqrt()  # (B/G, C, H, W): std over the group
    y = y.mean(dim=(1, 2, 3))  # (B/G,): one number per group
    y = y.reshape(-1, 1, 1, 1).repeat(g, 1, H, W)  # (B, 1, H, W)
    return torch.cat([x, y.to(x.dtype)], dim=1)


class MinibatchStdDev(nn.Module):
    """:func:`minibatch_stddev` as a layer: ``(B, C, H, W) -> (B, C + 1, H, W)``."""

    def __init__(self, group_size: int = 4):
        super().__init__()
        self.mbstd_group = group_size

    def forward(self, x: Tensor) -> Tensor:
        return minibatch_stddev(x, self.mbstd_group)


def minibatch_group_sizes(module: nn.Module) -> set[int]:
    """The minibatch-stddev group sizes inside ``module``: of every submodule with a nonzero
    ``mbstd_group`` (this layer, and the DCGAN and StyleGAN discriminators that carry the channel).
    """
    return {m.mbstd_group for m in module.modules() if getattr(m, "mbstd_group", 0)}
