"""Where a dataset's files are read from: the lookup chain, first hit wins.

For a dataset ``NAME``:

1. ``$GANEDU_DATA/NAME/``
2. ``~/.cache/ganedu/NAME/`` (``$XDG_CACHE_HOME/ganedu/NAME/`` when that is set)
3. a system copy: Debian/Ubuntu's ``dataset-fashion-mnist`` installs Fashion-MNIST
   under ``/usr/share/datasets/fashion-mnist/``
4. a download from torchvision's mirrors into the cache, when online

A location is used when it holds every file the requested split needs. Every file is
checked against its pinned SHA-256 before it is read; a file that fails is an error, never
used and never skipped in favour of the next location.
"""

from __future__ import annotations

import os
from pathlib import Path

from ganedu.data.catalog import SYSTEM_DIRS, Dataset
from ganedu.data.download import download_from_mirrors
from ganedu.data.pinned import verify
from ganedu.errors import DataError
from ganedu.files import cache_dir  # noqa: F401  (re-exported: ganedu.data.cache_dir)


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


def first_location(name: str, files: tuple[str, ...]) -> tuple[str, Path] | None:
    """The first ``(label, folder)`` of :func:`locations` that holds all of ``files``, or ``None``."""
    for label, folder in locations(name):
        if all((folder / f).is_file() for f in files):
            return label, folder
    return None


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


def download_missing(dataset: Dataset, files: tuple[str, ...], folder: Path) -> None:
    """Download the ``files`` of ``dataset`` that ``folder`` lacks, verifying each one.

    Raises:
        DataError: no mirror could be reached (naming the three ways to provide the data), or a
            downloaded file failed its checksum (the file is deleted).
    """
    for file in files:
        dest = folder / file
        if dest.is_file():
            continue
        try:
            download_from_mirrors(dataset, file, dest)
        except OSError as error:
            raise _not_found(dataset, files, str(error)) from None
        try:
            verify(dataset, dest)
        except DataError:
            dest.unlink()
            raise


def find_or_download(dataset: Dataset, files: tuple[str, ...]) -> Path:
    """The folder that holds ``files`` (all verified), downloading them into the cache if none does."""
    hit = first_location(dataset.name, files)
    folder = cache_dir() / dataset.name if hit is None else hit[1]
    if hit is None:
        download_missing(dataset, files, folder)
    for file in files:
        verify(dataset, folder / file)
    return folder
