"""The pinned SHA-256 of every dataset file, and the check that refuses any other file."""

from __future__ import annotations

from pathlib import Path

from ganedu.data.catalog import CIFAR10_ARCHIVE, SYSTEM_DIRS, Dataset
from ganedu.files import check_pinned, sha256_file

# Accepted SHA-256 of every file, per dataset. A file is good when its digest is one of these.
#
# Fashion-MNIST has two good copies of each file. Zalando's originals (what the mirror
# serves; digests as pinned by tensorflow-datasets, url_checksums/fashion_mnist.txt) and
# Debian's `dataset-fashion-mnist`, which recompressed them without the file name in the gzip
# header: 23 bytes shorter, other digests, the same IDX bytes once decompressed.
# MNIST: tensorflow-datasets, url_checksums/mnist.txt (the files torchvision's mirrors serve).
# CIFAR-10: Keras' `cifar10.load_data` (tensorflow/python/keras/datasets/cifar10.py).
CHECKSUMS: dict[str, dict[str, tuple[str, ...]]] = {
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": (
            "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",  # Debian
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",  # Zalando
        ),
        "train-labels-idx1-ubyte.gz": (
            "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        ),
        "t10k-images-idx3-ubyte.gz": (
            "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ),
    },
    "mnist": {
        "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",),
        "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",),
        "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",),
        "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",),
    },
    "cifar10": {
        CIFAR10_ARCHIVE: ("6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",),
    },
}


def _remedy(dataset: Dataset, path: Path) -> str:
    system = SYSTEM_DIRS.get(dataset.name)
    if system is not None and dataset.debian_package and path.parent == system:
        return f"reinstall it: `sudo apt-get install --reinstall {dataset.debian_package}`"
    return f"delete it and run `python -m ganedu data fetch {dataset.name}`"


def matches_pin(dataset: Dataset, path: Path) -> bool:
    """Whether the SHA-256 of ``path`` is one of those pinned for that file of ``dataset``."""
    return sha256_file(path) in CHECKSUMS[dataset.name][path.name]


def verify(dataset: Dataset, path: Path) -> None:
    """Check ``path`` against its pinned SHA-256; raise :class:`DataError` when it does not match.

    The message says what to do: reinstall the system package for a damaged system copy,
    otherwise delete the file and fetch it again.
    """
    check_pinned(path, CHECKSUMS[dataset.name][path.name], remedy=_remedy(dataset, path))
