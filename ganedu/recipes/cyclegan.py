"""Recipe for CycleGAN (Zhu et al. 2017) between two Fashion-MNIST classes, sneakers ↔ ankle boots by default.

Options (``--option KEY=VALUE``): ``domain_a`` (7, Sneaker), ``domain_b`` (9, Ankle boot),
``ngf`` (16), ``ndf`` (32), ``n_blocks`` (3), ``lr`` (2e-4), ``lambda_cycle`` (10),
``lambda_identity`` (0.5, a fraction of λ), ``pool_size`` (50), ``constant_steps`` and
``decay_steps`` (the learning-rate schedule in steps; the defaults fit about ten minutes
on two CPU cores, a GPU run wants more of both).
"""

from __future__ import annotations

from torch import nn

from ganedu.cyclegan import CycleGAN, domain_batches
from ganedu.nets.cyclegan import PatchDiscriminator, ResnetGenerator, init_weights
from ganedu.recipes import RunConfig
from ganedu.recipes.classic import adam
from ganedu.runtime import device as pick_device
from ganedu.runtime import seed_everything


def cyclegan(config: RunConfig):
    """CycleGAN: ResNet generators, PatchGAN discriminators, LSGAN losses, cycle λ = 10, identity 0.5λ."""
    seed_everything(config.seed)
    dev = pick_device(config.device)
    opt = config.options
    classes = (int(opt.get("domain_a", 7)), int(opt.get("domain_b", 9)))
    data = domain_batches(config.dataset, *classes, device=dev, seed=config.seed)
    preview = domain_batches(config.dataset, *classes, split="test")
    nc = data.images.shape[1]
    ngf, ndf, n_blocks = opt.get("ngf", 16), opt.get("ndf", 32), opt.get("n_blocks", 3)
    G = nn.ModuleDict({"AB": ResnetGenerator(nc, ngf, n_blocks), "BA": ResnetGenerator(nc, ngf, n_blocks)})
    D = nn.ModuleDict({"A": PatchDiscriminator(nc, ndf), "B": PatchDiscriminator(nc, ndf)})
    G.apply(init_weights)
    D.apply(init_weights)
    lr = opt.get("lr", 2e-4)
    bundle = CycleGAN(
        G, D, adam(G.parameters(), lr), adam(D.parameters(), lr),
        lambda_cycle=opt.get("lambda_cycle", 10.0),
        lambda_identity=opt.get("lambda_identity", 0.5),
        pool_size=opt.get("pool_size", 50),
        constant_steps=opt.get("constant_steps", 3000),
        decay_steps=opt.get("decay_steps", 3000),
        classes=classes,
        dataset=config.dataset,
        preview=(preview.a.sample(8)[0], preview.b.sample(8)[0]),
        precision=config.precision,
        device=dev,
    )  # fmt: skip
    return bundle, data
