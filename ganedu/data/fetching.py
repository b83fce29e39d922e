"""``python -m ganedu data fetch NAME``: make a dataset, or another registered file, available offline."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from ganedu.data.catalog import DATASETS, SYSTEM_DIRS
from ganedu.data.lookup import cache_dir, download_missing, first_location
from ganedu.data.pinned import verify
from ganedu.errors import DataError
from ganedu.files import atomic_write

# Things `python -m ganedu data fetch NAME` can fetch besides the datasets; other modules
# register theirs here (e.g. the Inception weights). Each returns the folder it filled.
FETCHERS: dict[str, Callable[[], Path]] = {}


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
    hit = first_location(name, dataset.files)
    if hit is not None and hit[0] == "GANEDU_DATA":
        folder = hit[1]
    else:
        folder = cache_dir() / name
        system = SYSTEM_DIRS.get(name)
        for file in dataset.files:
            if not (folder / file).is_file() and system is not None and (system / file).is_file():
                verify(dataset, system / file)
                with open(system / file, "rb") as src, atomic_write(folder / file) as out:
                    shutil.copyfileobj(src, out)
        download_missing(dataset, dataset.files, folder)
    for file in dataset.files:
        verify(dataset, folder / file)
    return folder
