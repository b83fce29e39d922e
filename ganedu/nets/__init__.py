"""The networks of the course, one module per family.

- :mod:`ganedu.nets.mlp`: fully connected G and D of a first GAN (2D toy data, flat images).
- :mod:`ganedu.nets.dcgan`: the DCGAN of Radford et al. 2016, 64×64 and a 32×32 variant.
- :mod:`ganedu.nets.conditional`: a class-conditional DCGAN (label embedding in G, projection or
  concatenation in D).
- :mod:`ganedu.nets.layers`: spectral normalisation, self-attention, minibatch standard deviation.
- :mod:`ganedu.nets.cyclegan`: CycleGAN's ResNet generator and PatchGAN discriminator.
- :mod:`ganedu.nets.stylegan`: a small StyleGAN2 (mapping, modulated convolutions, noise).
- :mod:`ganedu.nets.r3gan`: R3GAN's modernised ConvNet (residual inverted bottlenecks with grouped
  convolutions, no normalisation, [1,2,1] resampling).

Every discriminator returns **logits**, never probabilities: one per image, shape ``(B,)``,
except CycleGAN's PatchGAN, which returns one per overlapping patch, ``(B, 1, h, w)``, each
judged on its own by the loss (the losses average over all the logits they are given). Every
image generator returns images in ``[-1, 1]`` of shape ``(B, C, H, W)``.
"""

import torch
from torch import nn

from ganedu.nets import conditional, dcgan, layers, mlp

__all__ = ["conditional", "dcgan", "layers", "mlp", "count_parameters", "layer_shapes"]


def count_parameters(module) -> int:
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def layer_shapes(net: nn.Module, x: torch.Tensor) -> list[tuple[str, tuple[int, ...]]]:
    """The output shape of every layer of ``net`` on input ``x``, in the order they run.

    Runs ``net(x)`` once in eval mode without gradients, with a forward hook on each leaf
    module (one without children), and gives back the network's training mode.

    Returns:
        ``[(layer class name, output shape), ...]``, e.g. ``[("ConvTranspose2d", (2, 512, 4, 4)), ...]``.
    """
    rows: list[tuple[str, tuple[int, ...]]] = []
    leaves = [m for m in net.modules() if not list(m.children())]
    hooks = [
        m.register_forward_hook(lambda m, _, out: rows.append((type(m).__name__, tuple(out.shape))))
        for m in leaves
    ]
    was_training = net.training
    try:
        with torch.no_grad():
            net.eval()(x)
    finally:
        for hook in hooks:
            hook.remove()
        net.train(was_training)
    return rows
