"""The settings of a training run, stored as ``config.json`` in its run directory."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from ganedu.errors import CheckpointError
from ganedu.files import write_atomically

# The stored image size and classes of the datasets ganedu knows, for configs written before
# config.json recorded them (the shipped models' configs among them).
KNOWN_DATASETS = {
    "fashion-mnist": ((1, 28, 28), 10),
    "mnist": ((1, 28, 28), 10),
    "cifar10": ((3, 32, 32), 10),
}


@dataclass
class RunConfig:
    """Everything that builds a run: the model, its data, its options and what sampling needs.

    ``options`` holds the model's typed options by name (see :mod:`ganedu.models.options`).
    ``image_shape`` (C, H, W of the stored images) and ``num_classes`` are filled in from the
    dataset when training starts, so ``sample`` and ``eval`` can rebuild the networks without
    loading the training set. ``ganedu_version`` is the version that wrote the file: it is what
    marks a folder as a ganedu run (:func:`ganedu.rundir.is_run`), so a ``config.json`` of the
    user's own is never taken for one.
    """

    model: str
    dataset: str = "fashion-mnist"
    batch_size: int = 64
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    options: dict = field(default_factory=dict)
    image_shape: list[int] | None = None
    num_classes: int | None = None
    ganedu_version: str = ""

    def save(self, path) -> None:
        """Write the config as JSON, atomically, stamped with the ganedu version writing it."""
        from ganedu import __version__

        self.ganedu_version = __version__
        write_atomically(path, (json.dumps(dataclasses.asdict(self), indent=2) + "\n").encode())

    @classmethod
    def load(cls, path) -> RunConfig:
        """The config in ``path``; older configs get the image shape of their known dataset."""
        try:
            values = json.loads(Path(path).read_text())
            config = cls(**values)
        except (OSError, ValueError, TypeError) as e:
            raise CheckpointError(
                f"{path} is not a ganedu run config ({e}); was it edited by hand?"
            ) from None
        return config.with_known_shape()

    def with_known_shape(self) -> RunConfig:
        """This config with ``image_shape``/``num_classes`` from :data:`KNOWN_DATASETS` where missing."""
        if self.image_shape is None and self.dataset in KNOWN_DATASETS:
            shape, classes = KNOWN_DATASETS[self.dataset]
            self.image_shape, self.num_classes = list(shape), classes
        return self

    @property
    def channels(self) -> int:
        return self._shape()[0]

    @property
    def image_size(self) -> int:
        """The stored images' side (28 for Fashion-MNIST, which the networks see padded to 32)."""
        return self._shape()[-1]

    def _shape(self) -> list[int]:
        if self.image_shape is None:
            raise CheckpointError(
                f"config of {self.model!r} records no image shape for dataset {self.dataset!r}; retrain the run"
            )
        return self.image_shape
