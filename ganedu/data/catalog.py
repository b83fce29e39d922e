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

A location is used when it holds every file the requested split needs. Every file is
checked against a pinned SHA-256 before it is read; a file that fails is an error, never
used and never skipped in favour of the next location.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import os
import pickle
import shutil
import tarfile
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

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

# Step 3 of the lookup chain: where a system package puts a dataset.
SYSTEM_DIRS: dict[str, Path] = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}

# Things `python -m ganedu data fetch NAME` can fetch besides the datasets; other modules
# register theirs here (e.g. the Inception weights). Each returns the folder it filled.
FETCHERS: dict[str, Callable[[], Path]] = {}


# --------------------------------------------------------------------------- the lookup chain


def _dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return DATASETS[name]


def cache_dir() -> Path:
    """The download cache: ``$XDG_CACHE_HOME/ganedu`` if that is set, else ``~/.cache/ganedu``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "ganedu"


def locations(name: str) -> list[tuple[str, Path]]:
    """The folders searched for dataset ``name``, in order, as ``(label, folder)`` pairs.

    Labels are ``"GANEDU_DATA"``, ``"cache"`` and ``"system"``; ``GANEDU_DATA`` is left out
    when the variable is unset, ``system`` when the dataset has no system copy.
    """
    found = []
    if os.environ.get("GANEDU_DATA"):
        found.append(("GANEDU_DATA", Path(os.environ["GANEDU_DATA"]) / name))
    found.append(("cache", cache_dir() / name))
    if name in SYSTEM_DIRS:
        found.append(("system", SYSTEM_DIRS[name]))
    return found


def _first_location(name: str, files: tuple[str, ...]) -> tuple[str, Path] | None:
    for label, folder in locations(name):
        if all((folder / f).is_file() for f in files):
            return label, folder
    return None


# --------------------------------------------------------------------------- checksums

_DIGESTS: dict[tuple[str, int, int], str] = {}


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks; remembered per process while the file is unchanged."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def _remedy(dataset: Dataset, path: Path) -> str:
    system = SYSTEM_DIRS.get(dataset.name)
    if system is not None and dataset.debian_package and path.parent == system:
        return f"reinstall it: `sudo apt-get install --reinstall {dataset.debian_package}`"
    return f"delete it and run `python -m ganedu data fetch {dataset.name}`"


def verify(dataset: Dataset, path: Path) -> None:
    """Check ``path`` against its pinned SHA-256; raise :class:`DataError` when it does not match."""
    expected = CHECKSUMS[dataset.name][path.name]
    actual = sha256_file(path)
    if actual not in expected:
        raise DataError(
            f"{path} is corrupt or not the expected file: its SHA-256 is {actual}, "
            f"expected {' or '.join(expected)}; {_remedy(dataset, path)}"
        )


# --------------------------------------------------------------------------- download


def _download(url: str, dest: Path) -> None:
    """Stream ``url`` into ``dest`` (written whole or not at all). Raises OSError when offline."""
    part = dest.with_name(dest.name + ".part")
    request = urllib.request.Request(url, headers={"User-Agent": "ganedu"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            dest.parent.mkdir(parents=True, exist_ok=True)
            total = int(response.headers.get("Content-Length") or 0) or None
            with open(part, "wb") as out, tqdm(total=total, unit="B", unit_scale=True, desc=dest.name) as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


def _not_found(dataset: Dataset, files: tuple[str, ...], reason: str) -> DataError:
    searched = ", ".join(str(folder) for _, folder in locations(dataset.name))
    if not os.environ.get("GANEDU_DATA"):
        searched = f"$GANEDU_DATA/{dataset.name} (unset), {searched}"
    if dataset.debian_package:
        third = f"(3) install the system copy: `sudo apt-get install {dataset.debian_package}`"
    else:
        third = f"(3) copy the files into {cache_dir() / dataset.name}"
    return DataError(
        f"{dataset.title} not found (looked in {searched}) and the download failed ({reason}). "
        f"Provide it one of three ways: (1) put {', '.join(files)} in DIR/{dataset.name}/ and set "
        f"GANEDU_DATA=DIR; (2) when online, run `python -m ganedu data fetch {dataset.name}`; {third}"
    )


def _download_into(dataset: Dataset, files: tuple[str, ...], folder: Path) -> None:
    """Download the missing ``files`` of ``dataset`` into ``folder``, trying each mirror in turn.

    Raises:
        DataError: no mirror could be reached (naming the three ways to provide the data), or a
            downloaded file failed its checksum (the file is deleted).
    """
    for file in files:
        dest = folder / file
        if dest.is_file():
            continue
        errors = []
        for mirror in dataset.mirrors:
            try:
                _download(mirror + file, dest)
                break
            except OSError as error:
                errors.append(f"{mirror + file}: {error}")
        else:
            raise _not_found(dataset, files, "; ".join(errors))
        try:
            verify(dataset, dest)
        except DataError:
            dest.unlink()
            raise


def _find_or_download(dataset: Dataset, files: tuple[str, ...]) -> Path:
    """The folder that holds ``files`` (all verified), downloading them into the cache if none does."""
    hit = _first_location(dataset.name, files)
    folder = cache_dir() / dataset.name if hit is None else hit[1]
    if hit is None:
        _download_into(dataset, files, folder)
    for file in files:
        verify(dataset, folder / file)
    return folder


def fetch(name: str) -> Path:
    """Make dataset ``name`` (every split) available offline and return the folder it is read from.

    A complete copy under ``$GANEDU_DATA`` is verified and used as it is. Otherwise the files
    go into the cache: each one already there is verified, the rest are copied from the system
    copy when it has them, else downloaded. Names that are not datasets are looked up in
    :data:`FETCHERS` (e.g. ``"inception"``, registered by ``ganedu.metrics``).

    Args:
        name: a key of :data:`DATASETS` or :data:`FETCHERS`.

    Returns:
        The folder holding the verified files.
    """
    if name not in DATASETS and name in FETCHERS:
        return FETCHERS[name]()
    if name not in DATASETS:
        raise DataError(f"nothing called {name!r} to fetch; known names: {', '.join([*DATASETS, *FETCHERS])}")
    dataset = DATASETS[name]
    hit = _first_location(name, dataset.files)
    if hit is not None and hit[0] == "GANEDU_DATA":
        folder = hit[1]
    else:
        folder = cache_dir() / name
        system = SYSTEM_DIRS.get(name)
        for file in dataset.files:
            if not (folder / file).is_file() and system is not None and (system / file).is_file():
                verify(dataset, system / file)
                folder.mkdir(parents=True, exist_ok=True)
                part = folder / (file + ".part")
                shutil.copyfile(system / file, part)
                os.replace(part, folder / file)
        _download_into(dataset, dataset.files, folder)
    for file in dataset.files:
        verify(dataset, folder / file)
    return folder


def info() -> list[dict]:
    """One row per known dataset: where it would be read from and whether its files check out.

    Returns:
        A list of dicts with keys ``name``, ``source`` (``GANEDU_DATA``, ``cache``, ``system`` or
        ``"not found"``), ``path`` (the folder, or ``None``), ``files`` (the file names),
        ``bytes`` (their total size) and ``status`` (``"verified"``, ``"checksum mismatch: FILE"``
        or ``"missing"``). See :func:`format_info` for a printable table.
    """
    rows = []
    for dataset in DATASETS.values():
        row = {"name": dataset.name, "source": "not found", "path": None, "files": list(dataset.files)}
        hit = _first_location(dataset.name, dataset.files)
        if hit is None:
            rows.append({**row, "bytes": 0, "status": "missing"})
            continue
        source, folder = hit
        bad = [f for f in dataset.files if sha256_file(folder / f) not in CHECKSUMS[dataset.name][f]]
        rows.append(
            {
                **row,
                "source": source,
                "path": str(folder),
                "bytes": sum((folder / f).stat().st_size for f in dataset.files),
                "status": f"checksum mismatch: {', '.join(bad)}" if bad else "verified",
            }
        )
    return rows


def format_info(rows: list[dict]) -> str:
    """Render :func:`info` rows as an aligned text table, one dataset a line."""
    lines = [("dataset", "status", "source", "size", "folder")]
    for row in rows:
        size = f"{row['bytes'] / 1e6:.1f} MB" if row["bytes"] else "-"
        lines.append((row["name"], row["status"], row["source"], size, row["path"] or "-"))
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)), line[4]]) for line in lines
    )


# --------------------------------------------------------------------------- file formats

_IDX_UBYTE = 0x08


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read a gzip-compressed IDX file of unsigned bytes (the MNIST format) into a uint8 array.

    The header is two zero bytes, the type code 0x08 (unsigned byte), the number of
    dimensions, then each dimension as a big-endian 32-bit integer; the data follows.

    Args:
        path: the ``.gz`` file.
        ndim: the number of dimensions expected (3 for images, 1 for labels).

    Returns:
        A uint8 array of the shape the header gives.
    """
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(
            f"{path} is not a readable gzip file ({error}); delete it and fetch it again"
        ) from error
    header = 4 + 4 * ndim
    if len(raw) < header or raw[0:2] != b"\0\0" or raw[2] != _IDX_UBYTE or raw[3] != ndim:
        raise DataError(
            f"{path} is not an IDX file of {ndim}-dimensional unsigned bytes "
            f"(header {raw[:4].hex() or 'empty'}, expected 000008{ndim:02x}); delete it and fetch it again"
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) - header != math.prod(shape):
        raise DataError(
            f"{path} is truncated or padded: its header says {'x'.join(map(str, shape))} = "
            f"{math.prod(shape)} bytes of data, the file holds {len(raw) - header}; delete it and fetch it again"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _read_idx_split(folder: Path, files: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    images_file, labels_file = files
    images = read_idx(folder / images_file, ndim=3)
    labels = read_idx(folder / labels_file, ndim=1)
    if len(images) != len(labels):
        raise DataError(
            f"{folder}: {images_file} holds {len(images)} images but {labels_file} holds {len(labels)} labels"
        )
    return images[:, None], labels


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays, lists and dicts and refuses everything else.

    CIFAR-10's batches are pickles; plain ``pickle.load`` would call whatever a file names.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _read_cifar10_split(folder: Path, files: tuple[str, ...], split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read CIFAR-10's python batches for ``split`` straight out of the (verified) archive."""
    batches = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    archive = folder / files[0]
    images, labels = [], []
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for batch in batches:
                member = tar.extractfile(f"cifar-10-batches-py/{batch}")
                content = _NumpyOnlyUnpickler(io.BytesIO(member.read()), encoding="bytes").load()
                images.append(np.asarray(content[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                labels.append(np.asarray(content[b"labels"], dtype=np.int64))
    except (
        OSError,
        EOFError,
        KeyError,
        AttributeError,
        ValueError,
        tarfile.TarError,
        pickle.UnpicklingError,
    ) as error:
        raise DataError(
            f"{archive} could not be read as CIFAR-10 ({error}); delete it and fetch it again"
        ) from error
    return np.concatenate(images), np.concatenate(labels)


# --------------------------------------------------------------------------- loading

_LOADED: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}


def load_dataset(name: str, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Load a whole image dataset split into memory.

    The files are found by the lookup chain of this module's docstring and verified against
    their pinned SHA-256 first. A second call in the same process is served from memory.

    Args:
        name: ``"fashion-mnist"``, ``"mnist"`` or ``"cifar10"``.
        split: ``"train"`` or ``"test"``.

    Returns:
        ``(images, labels)``: images a uint8 CPU tensor ``(N, C, H, W)`` (1x28x28 for the MNISTs,
        3x32x32 for CIFAR-10), labels an int64 tensor ``(N,)``. Fashion-MNIST and MNIST have
        60,000 train / 10,000 test images; CIFAR-10 50,000 / 10,000.
    """
    dataset = _dataset(name)
    if split not in dataset.split_files:
        raise DataError(f"unknown split {split!r} of {name}; splits: {', '.join(dataset.split_files)}")
    files = dataset.split_files[split]
    folder = _find_or_download(dataset, files)
    key = (name, split, *(sha256_file(folder / f) for f in files))
    if key not in _LOADED:
        if name == "cifar10":
            images, labels = _read_cifar10_split(folder, files, split)
        else:
            images, labels = _read_idx_split(folder, files)
        num_classes = len(CLASS_NAMES[name])
        if len(labels) and int(labels.max()) >= num_classes:
            raise DataError(f"{folder}: a label is {int(labels.max())}, {name} has {num_classes} classes")
        _LOADED[key] = (torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)))
    images, labels = _LOADED[key]
    return images.clone(), labels.clone()


# --------------------------------------------------------------------------- batches on the device


def to_float(images: torch.Tensor, pad_to: int | None = None) -> torch.Tensor:
    """uint8 images -> float in [-1, 1]: ``x / 127.5 - 1``, so 0 (black) -> -1 and 255 -> 1.

    Args:
        images: uint8 ``(B, C, H, W)``.
        pad_to: when given, pad H and W equally on both sides to ``pad_to`` with -1 (black),
            e.g. 28 -> 32 for the DCGAN's power-of-two sizes.

    Returns:
        float32 ``(B, C, pad_to or H, pad_to or W)``.
    """
    x = images.float() / 127.5 - 1
    if pad_to is not None:
        before_h, before_w = (pad_to - x.shape[-2]) // 2, (pad_to - x.shape[-1]) // 2
        after_h, after_w = pad_to - x.shape[-2] - before_h, pad_to - x.shape[-1] - before_w
        x = F.pad(x, (before_w, after_w, before_h, after_h), value=-1.0)
    return x


def to_uint8(images: torch.Tensor, crop_to: int | None = None) -> torch.Tensor:
    """Float images in [-1, 1] -> uint8: ``round((x + 1) * 127.5)`` clamped to [0, 255].

    The inverse of :func:`to_float`. ``crop_to`` removes the padding again (32 -> 28 keeps the
    centre 28x28).

    Returns:
        uint8 ``(B, C, crop_to or H, crop_to or W)`` on the device of ``images``.
    """
    x = images.detach()
    if crop_to is not None:
        top, left = (x.shape[-2] - crop_to) // 2, (x.shape[-1] - crop_to) // 2
        x = x[..., top : top + crop_to, left : left + crop_to]
    return ((x.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


class ImageBatches:
    """A whole image dataset held on one device, sampled by indexing.

    The uint8 images move to ``device`` once; each :meth:`sample` draws ``batch_size``
    indices uniformly with replacement from :attr:`generator` (a ``torch.Generator`` on that
    device, saved with checkpoints for exact resume) and converts only that batch to float.

    Args:
        images: uint8 ``(N, C, H, W)``.
        labels: int64 ``(N,)`` or ``None``.
        device: where the data lives and the batches are made (default: the images' device).
        pad_to: pad each batch with black to ``pad_to x pad_to`` (see :func:`to_float`).
        seed: seed of the generator made when ``generator`` is not given.
        generator: a ``torch.Generator`` on ``device`` to draw indices with.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor | None = None,
        device: torch.device | str | None = None,
        pad_to: int | None = None,
        seed: int = 0,
        generator: torch.Generator | None = None,
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
        if labels is not None and len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.device = torch.device(device) if device is not None else images.device
        self.images = images.to(self.device)
        self.labels = labels.to(self.device) if labels is not None else None
        self.pad_to = pad_to
        self.generator = generator or torch.Generator(device=self.device).manual_seed(seed)

    def __len__(self) -> int:
        return len(self.images)

    def sample(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Draw a batch: ``(x float32 (B, C, H, W) in [-1, 1], labels int64 (B,) or None)``."""
        index = torch.randint(len(self), (batch_size,), generator=self.generator, device=self.device)
        labels = self.labels[index] if self.labels is not None else None
        return to_float(self.images[index], self.pad_to), labels


# --------------------------------------------------------------------------- toy 2D mixtures

# Standard deviation of each Gaussian: 0.02 on the ring as in the unrolled-GAN paper
# (Metz et al. 2017, 8 modes on a circle of radius 2); 0.05 on the 5x5 grid.
TOY_STD = {"ring": 0.02, "grid": 0.05}


def toy_centers(kind: str) -> torch.Tensor:
    """Centres of the toy mixture ``kind``: float32 ``(K, 2)``.

    ``"ring"``: K = 8 points ``2 (cos 2πk/8, sin 2πk/8)``. ``"grid"``: K = 25 points
    ``(i, j)`` for i, j in {-4, -2, 0, 2, 4}.
    """
    if kind == "ring":
        angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
        return (2 * torch.stack([angles.cos(), angles.sin()], dim=1)).float()
    if kind == "grid":
        axis = torch.arange(-4.0, 5.0, 2.0)
        return torch.cartesian_prod(axis, axis)
    raise ValueError(f"unknown toy mixture {kind!r}; kinds: {', '.join(TOY_STD)}")


def toy_mixture(
    kind: str, n: int, seed: int = 0, device: torch.device | str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``n`` points from an equal-weight mixture of Gaussians around :func:`toy_centers`.

    ``x = μ_k + σ ε`` with ``k ~ Uniform{0..K-1}``, ``ε ~ N(0, I₂)`` and ``σ = TOY_STD[kind]``.
    Drawn on the CPU from a generator seeded with ``seed``, so the points are the same on every
    device, then moved to ``device``.

    Returns:
        ``(points float32 (n, 2), mode_index int64 (n,))``: ``mode_index[i]`` is the ``k`` of point i.
    """
    centers = toy_centers(kind)
    generator = torch.Generator().manual_seed(seed)
    mode_index = torch.randint(len(centers), (n,), generator=generator)
    points = centers[mode_index] + TOY_STD[kind] * torch.randn(n, 2, generator=generator)
    return points.to(device), mode_index.to(device)


class ToyBatches:
    """A fixed sample of the toy mixture ``kind`` with batches drawn by indexing, like :class:`ImageBatches`.

    ``sample(B)`` returns ``(points (B, 2), None)``; :attr:`points` and :attr:`modes` hold the
    whole sample, :attr:`centers` the mixture's centres and :attr:`std` its σ.
    """

    def __init__(self, kind: str = "ring", n: int = 100_000, seed: int = 0, device=None):
        self.kind = kind
        self.points, self.modes = toy_mixture(kind, n, seed=seed, device=device)
        self.centers, self.std = toy_centers(kind), TOY_STD[kind]
        self.generator = torch.Generator(device=self.points.device).manual_seed(seed)

    def __len__(self) -> int:
        return len(self.points)

    def sample(self, batch_size: int) -> tuple[torch.Tensor, None]:
        index = torch.randint(
            len(self.points), (batch_size,), generator=self.generator, device=self.points.device
        )
        return self.points[index], None
