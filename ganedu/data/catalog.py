"""The image datasets ganedu knows: their files, mirrors, class names and system copies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ganedu.errors import DataError

FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
MNIST_CLASSES = [str(digit) for digit in range(10)]
CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
CLASS_NAMES = {"fashion-mnist": FASHION_MNIST_CLASSES, "mnist": MNIST_CLASSES, "cifar10": CIFAR10_CLASSES}


@dataclass(frozen=True)
class Dataset:
    """What ganedu knows about one image dataset: its files, where to get them, how to read them.

    Attributes:
        name: the name used everywhere (``load_dataset(name)``, ``$GANEDU_DATA/name/``).
        title: the name for people.
        split_files: the files each split needs, e.g. ``{"train": ("train-images...gz", ...)}``.
        mirrors: base URLs tried in order; a file's URL is ``mirror + file``.
        debian_package: the Debian/Ubuntu package that installs a system copy, if any.
    """

    name: str
    title: str
    split_files: dict[str, tuple[str, ...]]
    mirrors: tuple[str, ...]
    debian_package: str | None = None

    @property
    def files(self) -> tuple[str, ...]:
        """Every file of the dataset, each once, in a fixed order."""
        return tuple(dict.fromkeys(f for names in self.split_files.values() for f in names))


def _idx_splits(prefix: str = "") -> dict[str, tuple[str, ...]]:
    return {
        "train": (f"{prefix}train-images-idx3-ubyte.gz", f"{prefix}train-labels-idx1-ubyte.gz"),
        "test": (f"{prefix}t10k-images-idx3-ubyte.gz", f"{prefix}t10k-labels-idx1-ubyte.gz"),
    }


CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"

DATASETS = {
    "fashion-mnist": Dataset(
        name="fashion-mnist",
        title="Fashion-MNIST",
        split_files=_idx_splits(),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        debian_package="dataset-fashion-mnist",
    ),
    "mnist": Dataset(
        name="mnist",
        title="MNIST",
        split_files=_idx_splits(),
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    ),
    "cifar10": Dataset(
        name="cifar10",
        title="CIFAR-10",
        split_files={"train": (CIFAR10_ARCHIVE,), "test": (CIFAR10_ARCHIVE,)},
        mirrors=("https://www.cs.toronto.edu/~kriz/",),
    ),
}

# Step 3 of the lookup chain: where a system package puts a dataset.
SYSTEM_DIRS: dict[str, Path] = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}


def dataset_named(name: str) -> Dataset:
    """The :class:`Dataset` called ``name``; :class:`DataError` listing the known names otherwise."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return DATASETS[name]
