"""Datasets for the course: Fashion-MNIST, MNIST, CIFAR-10 and toy 2D mixtures.

Image datasets are held in memory as one uint8 tensor ``(N, C, H, W)`` and batches are
drawn by indexing it (:class:`ImageBatches`), on the GPU when training on one: no
per-sample ``DataLoader``.

Where the files come from (first hit wins), for a dataset ``NAME``:

1. ``$GANEDU_DATA/NAME/``
2. ``~/.cache/ganedu/NAME/`` (``$XDG_CACHE_HOME/ganedu/NAME/`` when that is set)
3. a system copy: Debian/Ubuntu's ``dataset-fashion-mnist`` installs Fashion-MNIST
   under ``/usr/share/datasets/fashion-mnist/``
4. a download from torchvision's mirrors into the cache, when online

Every file is checked against a pinned SHA-256 before it is read. One module per step:

* ``catalog``: the known datasets (files, mirrors, class names, system copies)
* ``pinned``: the pinned SHA-256 of each file and the check against it
* ``lookup``: the chain above; ``download``: step 4
* ``idx``, ``cifar``: the two file formats; ``load``: :func:`load_dataset`
* ``decoded``: each split's arrays kept decoded on disk for the next process, checked against
  the originals' digests
* ``fetching``, ``inventory``: ``python -m ganedu data fetch NAME`` and ``data info``
* ``convert``: uint8 <-> [-1, 1]; ``batches``: :class:`ImageBatches`, :class:`ToyBatches`
* ``toy``: the 2D mixtures
"""

from ganedu.data.batches import ImageBatches, ToyBatches
from ganedu.data.catalog import (
    CIFAR10_ARCHIVE,
    CIFAR10_CLASSES,
    CLASS_NAMES,
    DATASETS,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    SYSTEM_DIRS,
    Dataset,
)
from ganedu.data.convert import to_float, to_uint8
from ganedu.data.fetching import FETCHERS, fetch
from ganedu.data.idx import read_idx
from ganedu.data.inventory import format_info, info
from ganedu.data.load import load_dataset
from ganedu.data.lookup import cache_dir, locations
from ganedu.data.pinned import CHECKSUMS, verify
from ganedu.data.toy import TOY_STD, toy_centers, toy_mixture
from ganedu.files import sha256_file

__all__ = [
    "CHECKSUMS",
    "CIFAR10_ARCHIVE",
    "CIFAR10_CLASSES",
    "CLASS_NAMES",
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "FETCHERS",
    "MNIST_CLASSES",
    "SYSTEM_DIRS",
    "TOY_STD",
    "Dataset",
    "ImageBatches",
    "ToyBatches",
    "cache_dir",
    "fetch",
    "format_info",
    "info",
    "load_dataset",
    "locations",
    "read_idx",
    "sha256_file",
    "to_float",
    "to_uint8",
    "toy_centers",
    "toy_mixture",
    "verify",
]
