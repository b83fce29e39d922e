"""The networks of the course, one module per family.

- :mod:`ganedu.nets.mlp`: fully connected G and D of a first GAN (2D toy data, flat images).
- :mod:`ganedu.nets.dcgan`: the DCGAN of Radford et al. 2016, 64×64 and a 32×32 variant.
- :mod:`ganedu.nets.conditional`: a class-conditional DCGAN (label embedding in G, projection or
  concatenation in D).

Every discriminator returns **logits** of shape ``(B,)``; every image generator returns images
in ``[-1, 1]`` of shape ``(B, C, H, W)``.
"""

from ganedu.nets import conditional, dcgan, mlp

__all__ = ["conditional", "dcgan", "mlp", "count_parameters"]


def count_parameters(module) -> int:
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
