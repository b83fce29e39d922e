"""Options shared by the chapter 4–6 models, which train the 32×32 DCGAN pair with other losses."""

from __future__ import annotations

from dataclasses import dataclass

from ganedu.models.options import option

NORMS = ("batch", "layer", "instance", "none")


@dataclass
class CriticOptions:
    """Learning rates (one for both, or TTUR's two), critic steps, and D's normalisation."""

    lr: float = option(2e-4, "learning rate of both players", min=0)
    lr_g: float | None = option(None, "G's own learning rate (TTUR); default: lr", min=0)
    lr_d: float | None = option(None, "D's own learning rate (TTUR); default: lr", min=0)
    n_critic: int = option(1, "discriminator updates per generator update", min=1)
    norm: str = option("batch", "D's hidden normalisation", choices=NORMS)
    spectral_norm: bool = option(False, "spectral normalisation on every layer of D")
    mbstd: int = option(0, "D's minibatch-stddev group size before its head (ProGAN; 0: none)", min=0)

    def learning_rates(self) -> tuple[float, float]:
        """(G's, D's) learning rate."""
        return (self.lr if self.lr_g is None else self.lr_g, self.lr if self.lr_d is None else self.lr_d)
