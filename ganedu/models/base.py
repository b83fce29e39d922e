"""What every model module provides (:class:`ModelSpec`) and the pieces most of them share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import torch

from ganedu.data import ImageBatches, load_dataset
from ganedu.models.catalog import CATALOG, Declared
from ganedu.models.config import RunConfig
from ganedu.nets.layers import refuse_undivided_batch


@dataclass(frozen=True, kw_only=True)
class ModelSpec(Declared):
    """One model of the course, as the command line and the notebooks build it: its declaration
    (name, module, paper, options, default batch; :class:`ganedu.models.catalog.Declared`) and code.

    Attributes:
        build: ``build(config, options, device) -> GAN``: the networks, optimizers and losses,
            from ``config.image_shape``/``num_classes`` alone (no data needed, so sampling a
            finished run never loads the training set).
        data: ``data(config, options, device) -> batches`` to train on.
    """

    build: Callable
    data: Callable

    @classmethod
    def declared(cls, name: str, build: Callable, data: Callable) -> ModelSpec:
        """The spec of model ``name``: its entry in :data:`~ganedu.models.catalog.CATALOG` with ``build`` and ``data``."""
        entry = CATALOG[name]
        return cls(**{f.name: getattr(entry, f.name) for f in fields(entry)}, build=build, data=data)


def check_minibatch_groups(config: RunConfig, group_size: int, option: str | None = None) -> None:
    """Refuse, before the first step, a ``--batch-size`` that D's minibatch-stddev groups do not divide.

    ``option`` names the model option that set ``group_size``, if one did, so the message can say
    how to turn the channel off.
    """
    refuse_undivided_batch(
        config.batch_size, [group_size], named=f"--batch-size {config.batch_size}",
        where=f"option {option!r} of {config.model}" if option else config.model,
        off=f", or {option}=0" if option else "",
    )  # fmt: skip


def image_data(config: RunConfig, options, dev: torch.device, pad_to: int | None = 32) -> ImageBatches:
    """The training split of ``config.dataset`` held on ``dev``, 28×28 images padded to ``pad_to``.

    Records the stored images' shape and class count in ``config`` for sampling later.
    """
    images, labels = load_dataset(config.dataset, "train")
    config.image_shape = list(images.shape[1:])
    config.num_classes = int(labels.max()) + 1 if labels is not None and len(labels) else None
    pad = pad_to if images.shape[-1] < (pad_to or 0) else None
    return ImageBatches(images, labels, device=dev, pad_to=pad, seed=config.seed)


def flat_image_data(config: RunConfig, options, dev: torch.device) -> ImageBatches:
    """The training split at its stored size (no padding), for the fully connected GAN."""
    return image_data(config, options, dev, pad_to=None)
