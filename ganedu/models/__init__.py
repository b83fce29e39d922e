"""The course's models, one module per paper, lined up with the chapters.

=========  ==========================  =======
CLI name   module                      chapter
=========  ==========================  =======
gan        :mod:`ganedu.models.gan`       1
dcgan      :mod:`ganedu.models.dcgan`     2
cgan       :mod:`ganedu.models.cgan`      3
wgan       :mod:`ganedu.models.wgan`      4
wgan-gp    :mod:`ganedu.models.wgan_gp`   5
lsgan      :mod:`ganedu.models.lsgan`     6
cyclegan   :mod:`ganedu.models.cyclegan`  7
stylegan   :mod:`ganedu.models.stylegan`  8
r3gan      :mod:`ganedu.models.r3gan`    10
=========  ==========================  =======

Each module cites its paper, writes its equations, declares its typed ``Options`` and holds
``build`` (the networks, optimizers and losses the paper prescribes) and, where its step
differs from :class:`ganedu.gan.GAN`'s, its bundle subclass. :data:`MODELS` maps each CLI name
to the module's :class:`ModelSpec`::

    config = RunConfig("wgan-gp", options={"n_critic": 3})
    gan, data = build(config)          # what `python -m ganedu train wgan-gp` trains
"""

from __future__ import annotations

import dataclasses

from ganedu.errors import UnknownModelError
from ganedu.models import cgan, cyclegan, dcgan, gan, lsgan, r3gan, stylegan, wgan, wgan_gp
from ganedu.models.base import ModelSpec
from ganedu.models.config import RunConfig
from ganedu.models.options import OptionError, describe, parse_options
from ganedu.runtime import device as pick_device
from ganedu.runtime import seed_everything

MODELS: dict[str, ModelSpec] = {
    m.MODEL.name: m.MODEL for m in (gan, dcgan, cgan, wgan, wgan_gp, lsgan, cyclegan, stylegan, r3gan)
}

__all__ = ["MODELS", "ModelSpec", "OptionError", "RunConfig", "build", "build_gan", "options_of", "spec"]


def spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of model ``name``; :class:`UnknownModelError` if there is none."""
    if name not in MODELS:
        raise UnknownModelError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name]


def options_of(config: RunConfig):
    """``config.options`` checked and typed against the model's ``Options`` (:class:`OptionError` if not)."""
    return parse_options(config.model, spec(config.model).options, dict(config.options))


def build_gan(config: RunConfig):
    """The bundle of ``config`` built from its recorded image shape, without loading any data."""
    model = spec(config.model)
    options = options_of(config)
    seed_everything(config.seed)
    return model.build(config.with_known_shape(), options, pick_device(config.device))


def build(config: RunConfig):
    """``(gan, data)`` for ``config``: the training batches, then the networks, optimizers and losses.

    Loading the data records its image shape and class count in ``config`` (and so in
    ``config.json``). ``config.options`` is replaced by the full typed options, defaults included.
    """
    model = spec(config.model)
    options = options_of(config)
    config.options = dataclasses.asdict(options)
    seed_everything(config.seed)
    dev = pick_device(config.device)
    data = model.data(config, options, dev)
    gan = model.build(config, options, dev)
    if getattr(data, "preview", None) is not None:  # fixed inputs for the grids of a translation model
        gan.preview = tuple(x.to(dev) for x in data.preview)
    return gan, data


def help_text(name: str) -> str:
    """The options of model ``name``, one per line, under the paper it follows and its default batch."""
    model = spec(name)
    options = describe(model.options).replace("\n", "\n  ")
    return (
        f"{name}: {model.paper}\ndefault --batch-size: {model.batch_size}\n"
        f"options (--option KEY=VALUE):\n  {options}"
    )
