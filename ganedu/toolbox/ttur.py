"""The two time-scale update rule (Heusel et al. 2017): D learning faster than G."""

from __future__ import annotations

import torch
from torch import nn

from ganedu.optim import adam


def ttur_optimizers(
    G: nn.Module, D: nn.Module, lr_g: float = 1e-4, lr_d: float = 4e-4, betas=(0.0, 0.9)
) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for G and D with separate learning rates (TTUR, Heusel et al. 2017): D at 4× G's by default.

    Heusel et al. prove that with separate step sizes the pair converges to a local Nash
    equilibrium; in practice a faster D replaces ``n_critic`` > 1 at a fraction of the cost.
    """
    return (
        adam(G.parameters(), lr_g, betas),
        adam(D.parameters(), lr_d, betas),
    )
