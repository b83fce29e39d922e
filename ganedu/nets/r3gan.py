r"""R3GAN's modernised ConvNet (Huang, Gokaslan, Kuleshov & Tompkin 2024, "The GAN is dead; long
live the GAN! A Modern Baseline GAN", §3, config E), small enough for 32×32 on a CPU.

With a loss that is well behaved on its own (RpGAN + R1 + R2, :mod:`ganedu.models.r3gan`) the
networks no longer need GAN-specific tricks. They follow ConvNeXt-era design instead:

- **no normalisation** anywhere (no BatchNorm, no demodulation) and no minibatch-stddev;
- **residual blocks** with an **inverted bottleneck**: 1×1 conv expands C → E·C channels,
  a **grouped** 3×3 conv mixes space within groups of ``group_width`` channels, a 1×1 conv
  projects back to C, with LeakyReLU(0.2) between (no activation after the sum);
- **fix-up initialisation** (Zhang et al. 2019): every weight drawn as in He et al. with gain
  :math:`g\,L^{-1/(2m-2)}` (L blocks in the network, m = 3 layers per branch) and the
  **last layer of each block at zero**, so every block starts as the identity and the
  network's variance does not grow with depth;
- **[1, 2, 1] (binomial) filtered resampling** instead of strided or transposed convolutions,
  which alias; channel changes happen in linear 1×1 "transition" convs beside the resampling;
- G starts from a learned 4×4 basis scaled per channel by a linear map of z; D ends with a
  depthwise 4×4 conv and a linear layer (the paper's generative and discriminative bases).

Stages run at 4, 8, 16 and 32 pixels. The width at 32×32 is ``width`` and doubles at each
halving of the resolution up to ``max_width``; every stage holds ``blocks`` residual blocks.
The discriminator returns logits (B,); the generator returns images in [-1, 1] (a ``tanh``
after the paper's final 1×1 conv, the course's contract for every generator).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

RESOLUTIONS = (4, 8, 16, 32)
LEAK = 0.2
LEAKY_GAIN = math.sqrt(2 / (1 + LEAK**2))  # He et al.'s gain for LeakyReLU(0.2)


def msr_init(layer: nn.Conv2d | nn.Linear, gain: float = 1.0) -> nn.Module:
    r"""He (MSR) initialisation: :math:`w \sim \mathcal N(0, g^2 / \text{fan-in})`, bias 0. Returns ``layer``."""
    fan_in = layer.weight[0].numel()  # in-channels (per group) × kernel area
    nn.init.normal_(layer.weight, 0.0, gain / math.sqrt(fan_in))
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def stage_blocks(blocks: int | Sequence[int]) -> list[int]:
    """Residual blocks of the stages at 4, 8, 16, 32 pixels: one count for all, or one per stage."""
    counts = [blocks] * len(RESOLUTIONS) if isinstance(blocks, int) else list(blocks)
    if len(counts) != len(RESOLUTIONS) or min(counts) < 0:
        raise ValueError(
            f"blocks must be one count or {len(RESOLUTIONS)} counts (4 to 32 pixels), not {blocks}"
        )
    return counts


def stage_widths(width: int, max_width: int) -> list[int]:
    """Channels of the stages at 4, 8, 16, 32 pixels: ``width`` at 32, doubling per halving, at most ``max_width``."""
    return [min(width * 2 ** (len(RESOLUTIONS) - 1 - i), max_width) for i in range(len(RESOLUTIONS))]


class BinomialFilter(nn.Module):
    r"""[1, 2, 1] filtered resampling by a factor 2 (the paper's bilinear resampling).

    The 2D filter is :math:`k = \tfrac{1}{16}[1, 2, 1]^\top [1, 2, 1]`, applied to each channel
    alone. Down: filter, then keep every second pixel (a low-pass before subsampling, so less
    aliasing than a strided conv). Up: insert zeros between pixels, then filter with
    :math:`4k`: input pixels reappear at even positions, odd positions take the mean of their
    two neighbours. The border is padded by replication, so a constant image stays constant.
    """

    def __init__(self, channels: int, direction: str):
        super().__init__()
        if direction not in ("up", "down"):
            raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
        taps = torch.tensor([1.0, 2.0, 1.0])
        kernel = torch.outer(taps, taps) / 16  # (3, 3), sums to 1
        self.register_buffer("kernel", kernel.expand(channels, 1, 3, 3).clone(), persistent=False)
        self.direction, self.channels = direction, channels

    def forward(self, x: Tensor) -> Tensor:
        kernel = self.kernel.to(x.dtype)
        x = F.pad(x, (1, 1, 1, 1), mode="replicate")  # (B, C, H + 2, W + 2)
        if self.direction == "down":
            return F.conv2d(x, kernel, stride=2, groups=self.channels)  # (B, C, H/2, W/2)
        # zero insertion and 4k in one transposed conv: (B, C, 2H + 5, 2W + 5), input pixel i at 2i + 3
        up = F.conv_transpose2d(x, 4 * kernel, stride=2, groups=self.channels)
        H, W = 2 * (x.shape[2] - 2), 2 * (x.shape[3] - 2)
        return up[:, :, 3 : 3 + H, 3 : 3 + W]  # (B, C, 2H, 2W)


class ResidualBlock(nn.Module):
    r"""x + F(x) with F an inverted bottleneck: 1×1 expand, grouped 3×3, 1×1 project (R3GAN §3).

    .. math:: F(x) = W_3\, \phi\big(W_2 * \phi(W_1 x + b_1) + b_2\big), \qquad \phi = \text{LeakyReLU}(0.2)

    Fix-up initialisation: :math:`W_1, W_2` with gain :math:`\sqrt{2/(1+0.2^2)}\,L^{-1/4}`
    (:math:`L^{-1/(2m-2)}` with m = 3 layers), :math:`W_3 = 0`, so the block is the identity at
    the start. Input and output ``(B, C, H, W)``.

    Args:
        channels: C.
        expansion: E, the bottleneck holds E·C channels.
        group_width: channels per group of the 3×3 conv (E·C must be a multiple of it).
        total_blocks: L, residual blocks in the whole network.
    """

    def __init__(self, channels: int, expansion: int, group_width: int, total_blocks: int):
        super().__init__()
        hidden = channels * expansion
        if hidden % group_width:
            raise ValueError(
                f"the bottleneck's {hidden} channels do not split into groups of {group_width}; "
                "choose a width whose expanded channel count is a multiple of group_width"
            )
        gain = LEAKY_GAIN * total_blocks ** (-1 / 4)
        self.expand = msr_init(nn.Conv2d(channels, hidden, 1), gain)
        self.mix = msr_init(nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden // group_width), gain)
        self.project = nn.Conv2d(hidden, channels, 1, bias=False)
        nn.init.zeros_(self.project.weight)  # the block starts as the identity
        self.act = nn.LeakyReLU(LEAK)

    def forward(self, x: Tensor) -> Tensor:
        y = self.act(self.expand(x))  # (B, E·C, H, W)
        y = self.act(self.mix(y))  # (B, E·C, H, W), each group of group_width channels mixed on its own
        return x + self.project(y)  # (B, C, H, W)


class Generator(nn.Module):
    """z (B, nz) -> image (B, nc, 32, 32) in [-1, 1], R3GAN-style (no normalisation, residual stages).

    Args:
        nz: latent dimension.
        nc: image channels.
        width: channels at 32×32 (doubling per halving of the resolution, up to ``max_width``).
        max_width: most channels of any stage.
        blocks: residual blocks per stage, or one count per stage from 4 to 32 pixels.
        expansion: bottleneck expansion E.
        group_width: channels per group of the grouped 3×3 convs.
    """

    def __init__(self, nz: int = 64, nc: int = 1, width: int = 32, max_width: int = 128, blocks: int | Sequence[int] = 1,
                 expansion: int = 2, group_width: int = 16):  # fmt: skip
        super().__init__()
        self.nz, self.nc = nz, nc
        widths, counts = stage_widths(width, max_width), stage_blocks(blocks)
        total = max(sum(counts), 1)
        self.basis = nn.Parameter(torch.randn(widths[0], 4, 4))  # the learned 4×4 basis
        self.to_basis = msr_init(nn.Linear(nz, widths[0], bias=False))  # z -> one scale per basis channel
        stages = []
        for i, c in enumerate(widths):
            layers: list[nn.Module] = []
            if i > 0:  # transition: 1×1 conv to the new width, then upsample
                layers += [msr_init(nn.Conv2d(widths[i - 1], c, 1, bias=False)), BinomialFilter(c, "up")]
            layers += [ResidualBlock(c, expansion, group_width, total) for _ in range(counts[i])]
            stages.append(nn.Sequential(*layers))  # (B, c, r, r) for r = 4, 8, 16, 32
        self.stages = nn.ModuleList(stages)
        self.to_image = msr_init(nn.Conv2d(widths[-1], nc, 1))  # (B, nc, 32, 32)

    def forward(self, z: Tensor) -> Tensor:
        x = self.basis[None] * self.to_basis(z)[:, :, None, None]  # (B, widths[0], 4, 4)
        for stage in self.stages:
            x = stage(x)  # (B, 128, 4, 4) → (B, 128, 8, 8) → (B, 64, 16, 16) → (B, 32, 32, 32) by default
        return torch.tanh(self.to_image(x))  # (B, nc, 32, 32)


class Discriminator(nn.Module):
    """image (B, nc, 32, 32) -> logit (B,), R3GAN-style: the generator's mirror image.

    Args as :class:`Generator`, without ``nz``.
    """

    def __init__(self, nc: int = 1, width: int = 32, max_width: int = 128, blocks: int | Sequence[int] = 1,
                 expansion: int = 2, group_width: int = 16):  # fmt: skip
        super().__init__()
        widths, counts = (
            stage_widths(width, max_width)[::-1],
            stage_blocks(blocks)[::-1],
        )  # 32, 16, 8, 4 pixels
        total = max(sum(counts), 1)
        self.from_image = msr_init(nn.Conv2d(nc, widths[0], 1))  # (B, width, 32, 32)
        stages = []
        for i, c in enumerate(widths):
            layers: list[nn.Module] = [
                ResidualBlock(c, expansion, group_width, total) for _ in range(counts[i])
            ]
            if i + 1 < len(widths):  # transition: downsample, then 1×1 conv to the new width
                layers += [BinomialFilter(c, "down"), msr_init(nn.Conv2d(c, widths[i + 1], 1, bias=False))]
            stages.append(nn.Sequential(*layers))  # (B, widths[i + 1], r/2, r/2), the last (B, c, 4, 4)
        self.stages = nn.ModuleList(stages)
        c = widths[-1]
        self.basis = msr_init(nn.Conv2d(c, c, 4, groups=c, bias=False))  # depthwise 4×4: (B, c, 1, 1)
        self.to_logit = msr_init(nn.Linear(c, 1, bias=False))  # (B, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.from_image(x)  # (B, 32, 32, 32) by default
        for stage in self.stages:
            x = stage(x)  # (B, 64, 16, 16) → (B, 128, 8, 8) → (B, 128, 4, 4) → (B, 128, 4, 4)
        return self.to_logit(self.basis(x).flatten(1)).squeeze(1)  # (B,)
