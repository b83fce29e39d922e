"""Named recipes: everything ``python -m ganedu train MODEL`` needs to build a run.

A recipe is a function ``recipe(config) -> (gan, data)``: it builds the networks, optimizers
and losses the paper prescribes (a :class:`ganedu.gan.GAN` or a subclass) and the batches
to train on. :data:`MODELS` maps each CLI name to the module that holds its recipe, so a
model's code is imported only when it is used.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ganedu.errors import UnknownModelError

MODELS: dict[str, str] = {
    "gan": "ganedu.recipes.classic:gan",
    "dcgan": "ganedu.recipes.classic:dcgan",
    "cgan": "ganedu.recipes.classic:cgan",
    "wgan": "ganedu.recipes.wasserstein:wgan",
    "wgan-gp": "ganedu.recipes.wasserstein:wgan_gp",
    "lsgan": "ganedu.recipes.wasserstein:lsgan",
    "cyclegan": "ganedu.recipes.cyclegan:cyclegan",
    "stylegan": "ganedu.recipes.stylegan:stylegan",
}


@dataclass
class RunConfig:
    """The settings of a training run, stored as ``config.json`` in its run directory.

    ``options`` holds model-specific settings (e.g. the CycleGAN domains) by name.
    """

    model: str
    dataset: str = "fashion-mnist"
    batch_size: int = 64
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    options: dict = field(default_factory=dict)

    def save(self, path) -> None:
        Path(path).write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path) -> RunConfig:
        return cls(**json.loads(Path(path).read_text()))


def recipe(name: str):
    """The recipe function for model ``name``; :class:`UnknownModelError` if there is none."""
    if name not in MODELS:
        raise UnknownModelError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    module_name, func = MODELS[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:
            raise
        raise UnknownModelError(f"model {name!r} is not part of this version of ganedu yet") from None
    return getattr(module, func)


def build(config: RunConfig):
    """Build ``(gan, data)`` for ``config``: the networks, optimizers, losses and training batches."""
    return recipe(config.model)(config)
