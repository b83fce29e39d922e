"""Recipes for the first three chapters: an MLP GAN, DCGAN and a conditional DCGAN."""

from __future__ import annotations

import torch

from ganedu import losses
from ganedu.data import ImageBatches, load_dataset
from ganedu.gan import GAN
from ganedu.nets import conditional, mlp
from ganedu.nets import dcgan as dcgan_nets
from ganedu.recipes import RunConfig
from ganedu.runtime import device as pick_device
from ganedu.runtime import seed_everything


def image_data(config: RunConfig, dev: torch.device, pad_to: int | None = 32) -> ImageBatches:
    """The training split of ``config.dataset`` held on ``dev``, 28×28 images padded to ``pad_to``."""
    images, labels = load_dataset(config.dataset, "train")
    pad = pad_to if images.shape[-1] < (pad_to or 0) else None
    return ImageBatches(images, labels, device=dev, pad_to=pad, seed=config.seed)


def adam(params, lr: float = 2e-4, betas=(0.5, 0.999)) -> torch.optim.Adam:
    """Adam as DCGAN prescribes (lr 2e-4, β1 = 0.5), with the foreach kernel where available."""
    return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)


def gan(config: RunConfig):
    """The fully connected GAN of Goodfellow et al. 2014 on flattened 28×28 images, NS loss."""
    seed_everything(config.seed)
    dev = pick_device(config.device)
    data = image_data(config, dev, pad_to=None)
    shape = tuple(data.images.shape[1:])
    nz = config.options.get("nz", 64)
    G, D = mlp.Generator(nz, shape, hidden=512), mlp.Discriminator(shape, hidden=512)
    bundle = GAN(
        G, D, adam(G.parameters()), adam(D.parameters()),
        losses.minimax_d, losses.nonsaturating_g, nz=nz,
        batch_size=config.batch_size, precision="fp32", device=dev,
    )  # fmt: skip
    return bundle, data


def dcgan(config: RunConfig):
    """DCGAN (Radford et al. 2016) at 32×32: non-saturating loss, Adam(2e-4, 0.5), EMA of G."""
    seed_everything(config.seed)
    dev = pick_device(config.device)
    data = image_data(config, dev)
    nc = data.images.shape[1]
    G = dcgan_nets.Generator(nz=100, nc=nc, image_size=32)
    D = dcgan_nets.Discriminator(nc=nc, image_size=32)
    bundle = GAN(
        G, D, adam(G.parameters()), adam(D.parameters()),
        losses.minimax_d, losses.nonsaturating_g, nz=100,
        batch_size=config.batch_size, precision=config.precision, device=dev,
    )  # fmt: skip
    return bundle, data


def cgan(config: RunConfig):
    """Conditional DCGAN: label embedding in G, one-hot label maps concatenated in D, NS loss.

    ``--option conditioning=projection`` switches D to the projection discriminator. Measured on
    2 CPU cores for 5 minutes (benchmarks/README.md), projection collapsed within each class
    (classifier-feature FD 363, near-identical samples per class) while concatenation kept the
    variety (FD 60) and still drew the asked-for class 89% of the time.
    """
    seed_everything(config.seed)
    dev = pick_device(config.device)
    data = image_data(config, dev)
    nc = data.images.shape[1]
    mode = config.options.get("conditioning", "concat")
    G = conditional.Generator(num_classes=10, nz=100, nc=nc, image_size=32)
    D = conditional.Discriminator(num_classes=10, nc=nc, image_size=32, mode=mode)
    bundle = GAN(
        G, D, adam(G.parameters()), adam(D.parameters()),
        losses.minimax_d, losses.nonsaturating_g, nz=100, num_classes=10,
        batch_size=config.batch_size, precision=config.precision, device=dev,
    )  # fmt: skip
    return bundle, data
