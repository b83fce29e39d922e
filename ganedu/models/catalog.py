"""The nine models as the command line lists them: name, paper, default batch and typed ``Options``.

This module imports no PyTorch, so ``python -m ganedu options`` and the checks of ``--option``
answer in a fraction of a second. Each paper module (:mod:`ganedu.models.dcgan`, ...) takes its
``Options`` from here and holds the networks, optimizers and losses that use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ganedu.models.critic import NORMS, CriticOptions
from ganedu.models.options import option

AUTHORS_LR = 1e-3
"""Adam's rate in the LSGAN authors' code, for least squares with their BatchNorm D; every other
D here (hinge, no normalisation, spectral norm) trains at the DCGAN's 2e-4: a least-squares D
without BatchNorm collapsed at 1e-3 (see :mod:`ganedu.models.lsgan`)."""

LSGAN_LOSSES = ("least-squares", "hinge")
"""The loss pairs of :mod:`ganedu.models.lsgan`, by name."""

PAPER_RAMP_IMAGES = 20_000_000
"""The images over which R3GAN's CIFAR-10 schedule ramps (:data:`ganedu.models.r3gan.PAPER_RAMPS`)."""


@dataclass
class GANOptions:
    nz: int = option(64, "latent dimension", min=1)
    hidden: int = option(512, "width of the hidden layers", min=1)
    lr: float = option(2e-4, "Adam learning rate of both players", min=0)


@dataclass
class DCGANOptions:
    lr: float = option(2e-4, "Adam learning rate of both players", min=0)
    ema_half_life: float = option(10_000, "half-life of G's EMA in images (0: no EMA)", min=0)
    norm: str = option("batch", "D's hidden normalisation (paper: batch)", choices=NORMS)


@dataclass
class CGANOptions:
    conditioning: str = option("concat", "how D sees the label", choices=("concat", "projection"))
    lr: float = option(2e-4, "Adam learning rate of both players", min=0)


@dataclass
class WGANOptions(CriticOptions):
    lr: float = option(2e-4, "RMSprop learning rate of both players (paper: 5e-5)", min=0)
    n_critic: int = option(1, "critic updates per generator update (paper: 5)", min=1)
    norm: str = option("batch", "the critic's hidden normalisation (the authors': batch)", choices=NORMS)
    clip: float = option(0.1, "c: every critic weight is clipped to [-c, c] (paper: 0.01)", min=0)
    warmup: bool = option(
        False, "the authors' schedule: 100 critic steps for the first 25 G steps and every 500th"
    )


@dataclass
class WGANGPOptions(CriticOptions):
    lr: float = option(2e-4, "Adam learning rate of both players (paper: 1e-4)", min=0)
    n_critic: int = option(1, "critic updates per generator update (paper: 5)", min=1)
    norm: str = option("instance", "the critic's hidden normalisation (paper: layer; never batch: the penalty is per sample)",
                       choices=("layer", "instance", "none"))  # fmt: skip
    gp_weight: float = option(10.0, "λ, the weight of the gradient penalty", min=0)
    gp_every: int = option(4, "the penalty on every k-th critic update only, weighed by k (paper: 1)", min=1)
    beta1: float = option(0.0, "Adam's β₁ for both players (paper: 0)", min=0, max=0.999)
    beta2: float = option(0.99, "Adam's β₂ for both players (paper: 0.9)", min=0, max=0.9999)


@dataclass
class LSGANOptions(CriticOptions):
    loss: str = option("least-squares", "the loss pair", choices=LSGAN_LOSSES)
    lr: float | None = option(
        None,
        "Adam learning rate of both players; none: 1e-3 for least squares with D's BatchNorm (the authors'), else 2e-4",
        min=0,
    )
    norm: str = option(
        "auto",
        "D's hidden normalisation; auto: batch (the paper's), none with spectral_norm",
        choices=("auto", *NORMS),
    )

    def __post_init__(self):
        # Resolved here, so a run's config.json names the D and rate it trained with, and a later
        # change of these defaults cannot make an old run's checkpoint stop loading.
        if self.norm == "auto":  # BatchNorm, unless D is spectral-normalised (SN-GAN's D has none)
            self.norm = "none" if self.spectral_norm else "batch"
        if self.lr is None:
            paper_d = self.loss == "least-squares" and self.norm == "batch"
            self.lr = AUTHORS_LR if paper_d else 2e-4  # else the DCGAN's rate


@dataclass
class CycleGANOptions:
    domain_a: int = option(7, "class of domain A (7: Sneaker)", min=0)
    domain_b: int = option(9, "class of domain B (9: Ankle boot)", min=0)
    ngf: int = option(16, "generator width", min=1)
    ndf: int = option(32, "discriminator width", min=1)
    n_blocks: int = option(3, "residual blocks in each generator", min=1)
    lr: float = option(2e-4, "Adam learning rate", min=0)
    lambda_cycle: float = option(10.0, "λ, the weight of the cycle loss", min=0)
    lambda_identity: float = option(0.5, "weight of the identity loss, as a fraction of λ", min=0)
    pool_size: int = option(50, "fakes kept in each discriminator's history pool", min=0)
    constant_steps: int = option(3000, "steps at the full learning rate", min=0)
    decay_steps: int = option(3000, "steps of the linear decay to zero after them", min=0)


@dataclass
class StyleGANOptions:
    z_dim: int = option(128, "dimension of z", min=1)
    w_dim: int = option(128, "dimension of w", min=1)
    mapping_layers: int = option(2, "layers of the mapping network", min=1)
    cbase: int = option(
        512, "channel budget: a layer at resolution r has min(cbase / r, cmax) channels", min=1
    )
    cmax: int = option(128, "most channels of any layer", min=1)
    lr: float = option(0.01, "Adam learning rate, β = (0, 0.99) (tuned under bf16 on 2 CPU cores)", min=0)
    r1_gamma: float = option(0.01, "γ of R1 (StyleGAN2-ADA's CIFAR-10 value)", min=0)
    r1_interval: int = option(16, "k: R1 every k discriminator steps, weighted by k (0: no R1)", min=0)
    mixing_prob: float = option(0.9, "share of generated images with mixed styles", min=0, max=1)
    ema_half_life: float = option(10_000, "half-life of G's EMA in images (0: no EMA)", min=0)


@dataclass
class R3GANOptions:
    nz: int = option(64, "dimension of z (the paper's 64)", min=1)
    width: int = option(16, "channels at 32×32; doubling per halving of the resolution", min=1)
    max_width: int = option(128, "most channels of any stage", min=1)
    blocks: int = option(1, "residual blocks per stage", min=1)
    d_blocks_32: int = option(0, "residual blocks of D at 32×32 (the paper: as many as elsewhere)", min=0)
    expansion: int = option(2, "inverted bottleneck expansion of each block", min=1)
    group_width: int = option(16, "channels per group of the grouped 3×3 convs", min=1)
    lr: float = option(2e-4, "Adam learning rate of both players (schedule=constant)", min=0)
    beta2: float = option(0.99, "Adam β2 (β1 is 0) (schedule=constant)", min=0, max=1)
    gamma: float = option(0.05, "γ of R1 and of R2, each weighing γ/2 (schedule=constant)", min=0)
    schedule: str = option(
        "auto",
        "constant: lr, beta2, gamma and augment_p as given; paper: R3GAN's cosine ramps "
        "(lr 2e-4→5e-5, γ 0.05→0.005, β2 0.9→0.99, p 0→0.55 with augment=fixed) over ramp_images; "
        "auto: paper in the full speed mode (GANEDU_MODE, a GPU), else constant",
        choices=("auto", "constant", "paper"),
    )
    ramp_images: int = option(PAPER_RAMP_IMAGES, "images over which the paper's ramps run", min=1)
    augment: str = option(
        "none", "DiffAugment of every image D sees: none, fixed p, or adaptive p (ADA)",
        choices=("none", "fixed", "adaptive"),
    )  # fmt: skip
    augment_policy: str = option("colour,translation,cutout", "comma-separated transforms of DiffAugment")
    augment_p: float = option(1.0, "probability of each transform per image (augment=fixed)", min=0, max=1)
    ada_target: float = option(0.6, "target of E[sign D(x)] for augment=adaptive", min=0.01, max=0.99)
    ema_half_life: float = option(10_000, "half-life of G's EMA in images (0: no EMA)", min=0)

    def __post_init__(self):
        # Resolved here, as a run is built, so its config.json names the schedule it trained with
        # and resuming it elsewhere (another speed mode, no GPU) keeps that schedule.
        if self.schedule == "auto":
            from ganedu.runtime import budget  # the speed mode; with no GANEDU_MODE, asks PyTorch for a GPU

            self.schedule = budget(smoke="constant", cpu="constant", full="paper")


@dataclass(frozen=True)
class Declared:
    """A model as declared before any of its code is imported.

    Attributes:
        name: its CLI name (``"wgan-gp"``).
        module: its paper module in :mod:`ganedu.models` (``"wgan_gp"``), which holds ``MODEL``.
        paper: the paper it follows, as a citation.
        options: the dataclass of its typed options (:mod:`ganedu.models.options`).
        batch_size: the batch ``train`` uses when ``--batch-size`` is not given: the one its
            documented results were measured with (64 for most models).
    """

    name: str
    module: str
    paper: str
    options: type
    batch_size: int = 64


CATALOG: dict[str, Declared] = {
    d.name: d
    for d in (
        Declared("gan", "gan", "Goodfellow et al. 2014, Generative Adversarial Nets", GANOptions),
        Declared("dcgan", "dcgan", "Radford, Metz & Chintala 2016, DCGAN", DCGANOptions),
        Declared("cgan", "cgan", "Mirza & Osindero 2014, Conditional GANs", CGANOptions),
        Declared("wgan", "wgan", "Arjovsky, Chintala & Bottou 2017, Wasserstein GAN", WGANOptions),
        Declared(
            "wgan-gp",
            "wgan_gp",
            "Gulrajani et al. 2017, Improved Training of Wasserstein GANs",
            WGANGPOptions,
        ),
        Declared("lsgan", "lsgan", "Mao et al. 2017, Least Squares GANs", LSGANOptions),
        # batch 8: the 10-minute results in benchmarks/README.md (92-97% of sneakers to ankle boots)
        # were measured with it; ten minutes at batch 64 translated 82.5% on an AVX2-only CPU
        Declared(
            "cyclegan",
            "cyclegan",
            "Zhu et al. 2017, Unpaired Image-to-Image Translation (CycleGAN)",
            CycleGANOptions,
            batch_size=8,
        ),
        Declared("stylegan", "stylegan", "Karras et al. 2020, StyleGAN2", StyleGANOptions, batch_size=32),
        Declared(
            "r3gan",
            "r3gan",
            "Huang, Gokaslan, Kuleshov & Tompkin 2024, R3GAN (RpGAN + R1 + R2)",
            R3GANOptions,
        ),
    )
}
"""Every model by CLI name, in the order of the chapters."""
