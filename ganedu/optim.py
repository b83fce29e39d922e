"""The optimizer every recipe uses: Adam with PyTorch's fused kernel.

The fused kernel updates all of a network's parameters in one pass, where the ``foreach``
kernel makes one pass per operation of the update rule. For the DCGAN pair (1.7 M parameters)
on a 2-core CPU, one Adam step of G and D took 0.6–1.0 ms fused against 3.0–4.7 ms foreach:
a few per cent of a training step, for the same update (benchmarks/README.md, "channels_last
and fused Adam"). The fused kernel runs on CPUs from PyTorch 2.4 on, on CUDA, and in recent
versions on Apple GPUs (MPS); ganedu asks for torch >= 2.5.
"""

from __future__ import annotations

import torch


def adam(params, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999)) -> torch.optim.Adam:
    r"""Adam (Kingma & Ba 2015) with the fused kernel; the defaults are DCGAN's (lr 2e-4, β₁ = 0.5).

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad v \leftarrow \beta_2 v + (1 - \beta_2) g^2,
        \quad \theta \leftarrow \theta - \eta \, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with :math:`\hat m, \hat v` the bias-corrected moments.
    """
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
