"""``load_dataset``: a whole image dataset split in memory as one uint8 tensor."""

from __future__ import annotations

import numpy as np
import torch

from ganedu.data import decoded
from ganedu.data.catalog import CLASS_NAMES, dataset_named
from ganedu.data.cifar import read_cifar10_split
from ganedu.data.idx import read_idx_split
from ganedu.data.lookup import find_or_download
from ganedu.errors import DataError
from ganedu.files import sha256_file

_LOADED: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}


def load_dataset(name: str, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Load a whole image dataset split into memory.

    The files are found by the lookup chain (:mod:`ganedu.data.lookup`) and verified against
    their pinned SHA-256 first. The decoded arrays are kept on disk for the next process
    (:mod:`ganedu.data.decoded`); a second call in the same process is served from memory.

    Args:
        name: ``"fashion-mnist"``, ``"mnist"`` or ``"cifar10"``.
        split: ``"train"`` or ``"test"``.

    Returns:
        ``(images, labels)``: images a uint8 CPU tensor ``(N, C, H, W)`` (1x28x28 for the MNISTs,
        3x32x32 for CIFAR-10), labels an int64 tensor ``(N,)``. Fashion-MNIST and MNIST have
        60,000 train / 10,000 test images; CIFAR-10 50,000 / 10,000.
    """
    dataset = dataset_named(name)
    if split not in dataset.split_files:
        raise DataError(f"unknown split {split!r} of {name}; splits: {', '.join(dataset.split_files)}")
    files = dataset.split_files[split]
    folder = find_or_download(dataset, files)
    originals = tuple(sha256_file(folder / f) for f in files)
    key = (name, split, *originals)
    if key not in _LOADED:
        cached = decoded.read(name, split, originals)
        if cached is not None:
            images, labels = cached
        else:
            if name == "cifar10":
                images, labels = read_cifar10_split(folder, files, split)
            else:
                images, labels = read_idx_split(folder, files)
            decoded.write(name, split, originals, (images, labels))
        num_classes = len(CLASS_NAMES[name])
        if len(labels) and int(labels.max()) >= num_classes:
            raise DataError(f"{folder}: a label is {int(labels.max())}, {name} has {num_classes} classes")
        _LOADED[key] = (torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)))
    images, labels = _LOADED[key]
    return images.clone(), labels.clone()
