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

Each module cites its paper, writes its equations and holds ``build`` (the networks, optimizers
and losses the paper prescribes) and, where its step differs from :class:`ganedu.gan.GAN`'s,
its bundle subclass. Its typed ``Options``, paper and default batch are declared in
:mod:`ganedu.models.catalog`, which imports no PyTorch: listing and checking options needs
none, and a run imports only its own model's module. :data:`MODELS` maps each CLI name to the
module's :class:`ModelSpec` (importing all nine)::

    config = RunConfig("wgan-gp", options={"n_critic": 3})
    gan, data = build(config)          # what `python -m ganedu train wgan-gp` trains
"""

from __future__ import annotations

import dataclasses
import importlib

from ganedu.errors import UnknownModelError
from ganedu.models.catalog import CATALOG, Declared
from ganedu.models.config import RunConfig
from ganedu.models.options import OptionError, describe, parse_options

__all__ = ["MODELS", "ModelSpec", "OptionError", "RunConfig", "build", "build_gan", "options_of", "spec"]


def declared(name: str) -> Declared:
    """Model ``name`` as the catalog declares it, importing none of its code; :class:`UnknownModelError` if none."""
    if name not in CATALOG:
        raise UnknownModelError(f"unknown model {name!r}; choose one of: {', '.join(CATALOG)}")
    return CATALOG[name]


def spec(name: str):
    """The :class:`ModelSpec` of model ``name``, its module imported; :class:`UnknownModelError` if there is none."""
    return importlib.import_module(f"ganedu.models.{declared(name).module}").MODEL


def __getattr__(name: str):
    """:data:`MODELS` (every model's :class:`ModelSpec`) and :class:`ModelSpec`, imported on first use."""
    if name == "MODELS":
        return {model: spec(model) for model in CATALOG}
    if name == "ModelSpec":
        from ganedu.models.base import ModelSpec

        return ModelSpec
    raise AttributeError(f"module 'ganedu.models' has no attribute {name!r}")


def options_of(config: RunConfig):
    """``config.options`` checked and typed against the model's ``Options`` (:class:`OptionError` if not)."""
    return parse_options(config.model, declared(config.model).options, dict(config.options))


def build_gan(config: RunConfig):
    """The bundle of ``config`` built from its recorded image shape, without loading any data."""
    from ganedu.runtime import device, seed_everything

    model = spec(config.model)
    options = options_of(config)
    seed_everything(config.seed)
    return model.build(config.with_known_shape(), options, device(config.device))


def build(config: RunConfig):
    """``(gan, data)`` for ``config``: the training batches, then the networks, optimizers and losses.

    Loading the data records its image shape and class count in ``config`` (and so in
    ``config.json``). ``config.options`` is replaced by the full typed options, defaults included.
    """
    from ganedu.runtime import device, seed_everything

    model = spec(config.model)
    options = options_of(config)
    config.options = dataclasses.asdict(options)
    seed_everything(config.seed)
    dev = device(config.device)
    data = model.data(config, options, dev)
    gan = model.build(config, options, dev)
    if getattr(data, "preview", None) is not None:  # fixed inputs for the grids of a translation model
        gan.preview = tuple(x.to(dev) for x in data.preview)
    return gan, data


def help_text(name: str) -> str:
    """The options of model ``name``, one per line, under the paper it follows and its default batch."""
    model = declared(name)
    options = describe(model.options).replace("\n", "\n  ")
    return (
        f"{name}: {model.paper}\ndefault --batch-size: {model.batch_size}\n"
        f"options (--option KEY=VALUE):\n  {options}"
    )
