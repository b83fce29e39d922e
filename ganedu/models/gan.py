"""The first GAN (Goodfellow et al. 2014, "Generative Adversarial Nets"), chapter 1.

Fully connected G and D on flattened 28×28 images. D minimises the minimax loss on logits,
G the non-saturating loss:

.. math::
    L_D = -\\mathbb{E}_x \\log \\sigma(D(x)) - \\mathbb{E}_z \\log(1 - \\sigma(D(G(z)))), \\qquad
    L_G = -\\mathbb{E}_z \\log \\sigma(D(G(z)))
"""

from __future__ import annotations

from ganedu import losses
from ganedu.gan import GAN
from ganedu.models.base import ModelSpec, flat_image_data
from ganedu.models.catalog import GANOptions as Options
from ganedu.nets import mlp
from ganedu.optim import adam, rmsprop
from ganedu.penalties import GradientPenalty, WeightClipping
from ganedu.runtime import seed_everything


def build(config, options: Options, dev) -> GAN:
    """The MLP GAN with Adam(lr, β1 = 0.5) and the non-saturating loss."""
    shape = tuple(config.image_shape)
    G = mlp.Generator(options.nz, shape, hidden=options.hidden)
    D = mlp.Discriminator(shape, hidden=options.hidden)
    return GAN(
        G, D, adam(G.parameters(), options.lr), adam(D.parameters(), options.lr),
        losses.minimax_d, losses.nonsaturating_g, nz=options.nz,
        precision=config.precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec.declared("gan", build, flat_image_data)


TOY_LOSSES = ("minimax", "wgan", "wgan-gp")
"""The objectives :func:`toy_gan` knows, named like the models of chapters 1, 4 and 5."""


def toy_gan(loss: str = "minimax", seed: int = 0, device="cpu", nz: int = 16, lr: float = 1e-3) -> GAN:
    """A small GAN for the 2D toy mixtures (:class:`ganedu.data.ToyBatches`), without EMA.

    G maps z ~ N(0, I_nz) through three hidden layers of 128 units to a point (no BatchNorm,
    no Tanh: the points are unbounded); D is three hidden layers of 128 units to a logit.

    Args:
        loss: ``"minimax"``: the minimax D loss and the non-saturating G loss with
            Adam(lr, β = (0.5, 0.999)) (chapter 1). ``"wgan"``: the Wasserstein losses, RMSprop(lr),
            D's weights clipped to ±0.01 and 5 critic updates per G update (Arjovsky et al. 2017,
            chapter 4). ``"wgan-gp"``: the Wasserstein losses plus a gradient penalty of weight
            0.1 (the toy's scale), Adam(lr, β = (0.5, 0.9)) and 5 critic updates (Gulrajani et al.
            2017, chapter 5).
        seed: seeds every random number generator before the networks are made.
        device: where the networks live.
        nz: latent dimension.
        lr: the learning rate of both players.

    Returns:
        The :class:`ganedu.gan.GAN` bundle, ready for :func:`ganedu.train.train` with ``batch_size=256``.
    """
    if loss not in TOY_LOSSES:
        raise ValueError(f"unknown toy GAN loss {loss!r}; choose one of: {', '.join(TOY_LOSSES)}")
    seed_everything(seed)
    G = mlp.Generator(nz=nz, out_shape=(2,), hidden=128, depth=3, batchnorm=False, tanh=False)  # (B, 2)
    D = mlp.Discriminator(in_shape=(2,), hidden=128, depth=3)  # (B,) logits
    common = dict(nz=nz, ema_half_life=None, device=device)
    if loss == "minimax":
        return GAN(G, D, adam(G.parameters(), lr), adam(D.parameters(), lr),
                   losses.minimax_d, losses.nonsaturating_g, **common)  # fmt: skip
    wasserstein = (losses.wasserstein_d, losses.wasserstein_g)
    if loss == "wgan":
        rms = [rmsprop(net.parameters(), lr=lr) for net in (G, D)]
        return GAN(G, D, *rms, *wasserstein, n_critic=5, after_d_step=[WeightClipping(0.01)], **common)
    opts = [adam(net.parameters(), lr, betas=(0.5, 0.9)) for net in (G, D)]
    return GAN(G, D, *opts, *wasserstein, n_critic=5, penalties={"GP": GradientPenalty(0.1)}, **common)
