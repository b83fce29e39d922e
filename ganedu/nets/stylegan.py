r"""A small StyleGAN2 for 32×32 images (Karras et al. 2019, "A Style-Based Generator
Architecture for GANs"; Karras et al. 2020, "Analyzing and Improving the Image Quality of
StyleGAN").

The generator does not take z at its input. A **mapping network** turns z into an
intermediate latent w; the **synthesis network** starts from a learned constant 4×4 tensor
and, at every layer, lets w set the *style*: per-channel scales :math:`s = A(w)` that
modulate the convolution weights,

.. math::
    w'_{ijk} = s_i\, w_{ijk}, \qquad
    w''_{ijk} = w'_{ijk} \Big/ \sqrt{\textstyle\sum_{i,k} {w'_{ijk}}^2 + \epsilon}

(:func:`modulated_conv2d`; *i* input channel, *j* output channel, *k* kernel tap). The
second step, **demodulation**, scales each output channel back to unit variance, which is
what AdaIN's normalisation did in the first StyleGAN, without its droplet artefacts.
Per-pixel **noise** added after each convolution gives the stochastic detail. Because each
layer reads its own copy of w, two latents can drive different layers (**style mixing**),
and moving w towards the average :math:`\bar w` trades variety for typicality (**truncation**).

Simplifications against the papers, to stay small enough for two CPU cores: bilinear
up- and average-pool downsampling instead of the blurred (FIR-filtered) resampling,
two mapping layers instead of eight (as StyleGAN2-ADA's CIFAR-10 setup), and channel counts
of a few dozen. Equalised learning rate (weights stored N(0, 1), scaled by
:math:`1/\sqrt{\text{fan-in}}` at run time) is kept: the optimiser then sees every layer at
the same scale.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganedu.nets.layers import minibatch_stddev

LRELU_GAIN = math.sqrt(2)  # keeps the activations' scale after LeakyReLU(0.2), as in StyleGAN


def lrelu(x: Tensor) -> Tensor:
    """LeakyReLU(0.2) times √2."""
    return F.leaky_relu(x, 0.2) * LRELU_GAIN


def modulated_conv2d(
    x: Tensor, weight: Tensor, styles: Tensor, demodulate: bool = True, padding: int = 0
) -> Tensor:
    r"""Convolution with per-sample modulated (and demodulated) weights, StyleGAN2 eq. 1-3.

    .. math::
        y_j = d_j \sum_{i,k} w_{ijk}\, s_i\, x_{i,k}, \qquad
        d_j = 1 \Big/ \sqrt{\textstyle\sum_{i,k} (s_i\, w_{ijk})^2 + 10^{-8}}

    Computed without building a weight per sample: scaling the input channels by ``s``
    before a shared convolution equals modulating the weights, and ``d`` scales the output
    channels afterwards (StyleGAN2's non-fused path).

    Args:
        x: input ``(B, I, H, W)``.
        weight: ``(O, I, k, k)``, already scaled.
        styles: ``s``, ``(B, I)``.
        demodulate: divide each output channel by its expected standard deviation.
        padding: of the convolution.

    Returns:
        ``(B, O, H', W')``. With ``demodulate`` and unit-variance i.i.d. input, each output
        channel has unit variance.
    """
    y = F.conv2d(x * styles[:, :, None, None].to(x.dtype), weight.to(x.dtype), padding=padding)
    if demodulate:
        # Σ_{i,k} (s_i w_ijk)^2 = Σ_i s_i^2 Σ_k w_ijk^2 : (B, I) @ (I, O) -> (B, O)
        d = torch.rsqrt(styles.float().square() @ weight.float().square().sum(dim=(2, 3)).T + 1e-8)
        y = y * d[:, :, None, None].to(y.dtype)
    return y


def truncate(w: Tensor, w_avg: Tensor, psi: float) -> Tensor:
    r"""The truncation trick: :math:`w' = \bar w + \psi\,(w - \bar w)`; ψ = 1 is the identity, ψ = 0 gives :math:`\bar w`."""
    return w_avg + psi * (w - w_avg)


def mix_styles(w1: Tensor, w2: Tensor, crossover: Tensor | int, num_ws: int) -> Tensor:
    """Per-layer latents: ``w1`` for the layers before ``crossover``, ``w2`` from it on.

    Args:
        w1, w2: ``(B, w_dim)``.
        crossover: a layer index, or one per sample ``(B,)``; ``num_ws`` means "no mixing".
        num_ws: number of layers that read a w.

    Returns:
        ``(B, num_ws, w_dim)``.
    """
    layer = torch.arange(num_ws, device=w1.device)[None, :, None]  # (1, L, 1)
    crossover = torch.as_tensor(crossover, device=w1.device).reshape(-1, 1, 1)  # (B or 1, 1, 1)
    return torch.where(layer < crossover, w1[:, None], w2[:, None])


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate: ``y = x (c·W)ᵀ + b·lr_mul``, ``c = lr_mul/√fan_in``."""

    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0, lr_mul: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul))
        self.scale, self.lr_mul = lr_mul / math.sqrt(in_features), lr_mul

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class EqualConv2d(nn.Module):
    """Convolution with equalised learning rate (weights N(0, 1), scaled by 1/√fan_in at run time)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale, self.padding = 1 / math.sqrt(in_channels * kernel_size**2), kernel_size // 2

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class MappingNetwork(nn.Module):
    r"""z → w: normalise z to the unit sphere's scale, then ``num_layers`` fully connected layers.

    Keeps :math:`\bar w` (``w_avg``), a running average of the w it produced in training
    (decay 0.995 per batch), for the truncation trick. ``lr_mul`` = 0.01 slows the mapping's
    learning rate 100-fold, as in StyleGAN.
    """

    def __init__(self, z_dim: int = 128, w_dim: int = 128, num_layers: int = 2, lr_mul: float = 0.01):
        super().__init__()
        dims = [z_dim] + [w_dim] * num_layers
        self.layers = nn.ModuleList(
            EqualLinear(a, b, lr_mul=lr_mul) for a, b in zip(dims[:-1], dims[1:], strict=True)
        )
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.z_dim, self.w_dim, self.w_avg_beta = z_dim, w_dim, 0.995

    def forward(self, z: Tensor, psi: float = 1.0) -> Tensor:
        x = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)  # (B, z_dim), pixel norm
        for layer in self.layers:
            x = lrelu(layer(x))  # (B, w_dim)
        if self.training:
            with torch.no_grad():
                self.w_avg.copy_(x.detach().float().mean(0).lerp(self.w_avg, self.w_avg_beta))
        return truncate(x, self.w_avg.to(x.dtype), psi) if psi != 1 else x


class StyleConv(nn.Module):
    """One synthesis layer: (upsample ×2), modulated 3×3 conv, noise, bias, LeakyReLU.

    The noise is ``strength · n`` with n ~ N(0, 1) per pixel (one map shared by all channels)
    and a learned scalar ``strength`` starting at 0. ``noise_mode``: "random" draws new noise,
    "const" uses a fixed map stored with the layer, "none" adds nothing.
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: bool = False):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)  # A: w -> styles s, starting near 1
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.scale = 1 / math.sqrt(in_channels * 9)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))
        self.up, self.resolution = up, resolution

    def forward(self, x: Tensor, w: Tensor, noise_mode: str = "random") -> Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)  # (B, I, 2H, 2W)
        x = modulated_conv2d(x, self.weight * self.scale, self.affine(w), padding=1)  # (B, O, H, W)
        if noise_mode == "random":
            x = x + self.noise_strength * torch.randn_like(x[:, :1])
        elif noise_mode == "const":
            x = x + self.noise_strength * self.noise_const.to(x.dtype)
        return lrelu(x + self.bias[None, :, None, None])


class ToRGB(nn.Module):
    """Modulated 1×1 convolution to image channels, without demodulation (StyleGAN2's tRGB)."""

    def __init__(self, in_channels: int, nc: int, w_dim: int):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(nc, in_channels, 1, 1))
        self.scale = 1 / math.sqrt(in_channels)
        self.bias = nn.Parameter(torch.zeros(nc))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        y = modulated_conv2d(x, self.weight * self.scale, self.affine(w), demodulate=False)
        return y + self.bias[None, :, None, None]


def channels_at(resolution: int, cbase: int = 512, cmax: int = 128) -> int:
    """Feature maps at a resolution: ``min(cmax, cbase // resolution)`` (4: 128, 8: 64, 16: 32, 32: 16)."""
    return min(cmax, cbase // resolution)


class SynthesisNetwork(nn.Module):
    """Learned constant 4×4 → 32×32 image, one w per layer, skip connections through ToRGB.

    Layers reading a w (``num_ws`` = 7): the 4×4 conv, then two convs at each of 8, 16 and 32;
    each resolution's ToRGB reads the w of its last conv. Layers 0-2 (4×4, 8×8) are the coarse
    styles (pose, silhouette), 3-4 (16×16) the middle, 5-6 (32×32) the fine ones.
    """

    def __init__(
        self, w_dim: int = 128, nc: int = 1, resolution: int = 32, cbase: int = 512, cmax: int = 128
    ):
        super().__init__()
        c4 = channels_at(4, cbase, cmax)
        self.const = nn.Parameter(torch.randn(1, c4, 4, 4))  # (1, C4, 4, 4)
        self.convs = nn.ModuleList([StyleConv(c4, c4, w_dim, 4)])
        self.torgbs = nn.ModuleList([ToRGB(c4, nc, w_dim)])
        res = 8
        while res <= resolution:
            cin, cout = channels_at(res // 2, cbase, cmax), channels_at(res, cbase, cmax)
            self.convs.append(StyleConv(cin, cout, w_dim, res, up=True))  # (B, cout, res, res)
            self.convs.append(StyleConv(cout, cout, w_dim, res))  # (B, cout, res, res)
            self.torgbs.append(ToRGB(cout, nc, w_dim))  # (B, nc, res, res)
            res *= 2
        self.num_ws = len(self.convs)

    def forward(self, ws: Tensor, noise_mode: str = "random") -> Tensor:
        """``ws`` (B, num_ws, w_dim) → images (B, nc, 32, 32), not squashed (StyleGAN2 has no Tanh)."""
        return self.images_per_resolution(ws, noise_mode)[-1]

    def images_per_resolution(self, ws: Tensor, noise_mode: str = "random") -> list[Tensor]:
        r"""The image after each resolution's ToRGB: ``[(B, nc, 4, 4), (B, nc, 8, 8), ..., (B, nc, 32, 32)]``.

        The skip architecture sums an upsampled image and each resolution's ToRGB output,
        :math:`\mathrm{img}_{2r} = \mathrm{up}(\mathrm{img}_r) + \mathrm{ToRGB}_{2r}(x_{2r})`,
        so ``img_2r - up(img_r)`` is what resolution 2r adds; the last entry is :meth:`forward`'s image.
        """
        x = self.const.expand(ws.shape[0], -1, -1, -1)  # (B, C4, 4, 4)
        x = self.convs[0](x, ws[:, 0], noise_mode)  # (B, C4, 4, 4)
        img = self.torgbs[0](x, ws[:, 0])  # (B, nc, 4, 4)
        images = [img]
        for i, torgb in enumerate(self.torgbs[1:]):
            x = self.convs[2 * i + 1](x, ws[:, 2 * i + 1], noise_mode)  # (B, C, 2H, 2W)
            x = self.convs[2 * i + 2](x, ws[:, 2 * i + 2], noise_mode)  # (B, C, 2H, 2W)
            img = F.interpolate(img, scale_factor=2, mode="bilinear", align_corners=False)
            img = img + torgb(x, ws[:, 2 * i + 2])  # (B, nc, 2H, 2W)
            images.append(img)
        return images


class Generator(nn.Module):
    """Mapping + synthesis. ``G(z, psi=1)``: z (B, z_dim) → images (B, nc, 32, 32), roughly in [-1, 1].

    ``G.mapping`` and ``G.synthesis`` are usable on their own for style mixing and truncation.
    """

    def __init__(
        self,
        z_dim: int = 128,
        w_dim: int = 128,
        nc: int = 1,
        resolution: int = 32,
        mapping_layers: int = 2,
        cbase: int = 512,
        cmax: int = 128,
    ):
        super().__init__()
        self.z_dim = z_dim
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers)
        self.synthesis = SynthesisNetwork(w_dim, nc, resolution, cbase, cmax)
        self.num_ws = self.synthesis.num_ws

    def forward(self, z: Tensor, psi: float = 1.0, noise_mode: str = "random") -> Tensor:
        w = self.mapping(z, psi)  # (B, w_dim)
        return self.synthesis(w[:, None].expand(-1, self.num_ws, -1), noise_mode)  # (B, nc, 32, 32)

    def images_per_resolution(self, z: Tensor, psi: float = 1.0, noise_mode: str = "random") -> list[Tensor]:
        """The image at each resolution for codes ``z`` (B, z_dim), 4×4 to 32×32, one w for every layer.

        See :meth:`SynthesisNetwork.images_per_resolution`; the last entry is ``G(z, psi, noise_mode)``.
        """
        w = self.mapping(z, psi)  # (B, w_dim)
        return self.synthesis.images_per_resolution(w[:, None].expand(-1, self.num_ws, -1), noise_mode)


class DiscriminatorBlock(nn.Module):
    """Residual block: two 3×3 convs and a 2× average-pool, plus a pooled 1×1 skip, summed / √2."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        skip = self.skip(F.avg_pool2d(x, 2))  # (B, O, H/2, W/2)
        x = lrelu(self.conv0(x))  # (B, I, H, W)
        x = lrelu(self.conv1(F.avg_pool2d(x, 2)))  # (B, O, H/2, W/2)
        return (x + skip) / math.sqrt(2)


class Discriminator(nn.Module):
    """StyleGAN2's residual discriminator at 32×32 with minibatch standard deviation; ``D(x)`` → logits (B,)."""

    def __init__(
        self, nc: int = 1, resolution: int = 32, cbase: int = 512, cmax: int = 128, mbstd_group: int = 4
    ):
        super().__init__()
        self.from_rgb = EqualConv2d(nc, channels_at(resolution, cbase, cmax), 1)  # (B, C32, 32, 32)
        blocks, res = [], resolution
        while res > 4:
            blocks.append(
                DiscriminatorBlock(channels_at(res, cbase, cmax), channels_at(res // 2, cbase, cmax))
            )
            res //= 2  # (B, C, res, res)
        self.blocks = nn.Sequential(*blocks)  # (B, C4, 4, 4)
        c4 = channels_at(4, cbase, cmax)
        self.mbstd_group = mbstd_group
        self.conv = EqualConv2d(c4 + 1, c4, 3)  # (B, C4, 4, 4)
        self.fc = EqualLinear(c4 * 16, c4)  # (B, C4)
        self.out = EqualLinear(c4, 1)  # (B, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = lrelu(self.from_rgb(x))  # (B, C32, 32, 32)
        x = self.blocks(x)  # (B, C4, 4, 4)
        x = minibatch_stddev(x, self.mbstd_group)  # (B, C4 + 1, 4, 4)
        x = lrelu(self.conv(x))  # (B, C4, 4, 4)
        x = lrelu(self.fc(x.flatten(1)))  # (B, C4)
        return self.out(x).squeeze(1)  # (B,)
