"""Step 4 of the lookup chain: download a dataset file from its mirrors."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from ganedu.data.catalog import Dataset
from ganedu.files import atomic_write


def download_file(url: str, dest: Path) -> None:
    """Stream ``url`` into ``dest`` (written whole or not at all). Raises OSError when offline."""
    request = urllib.request.Request(url, headers={"User-Agent": "ganedu"})
    with urllib.request.urlopen(request, timeout=30) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with atomic_write(dest) as out, tqdm(total=total, unit="B", unit_scale=True, desc=dest.name) as bar:
            received = 0
            while chunk := response.read(1 << 20):
                out.write(chunk)
                bar.update(len(chunk))
                received += len(chunk)
            if total is not None and received != total:  # the server closed the connection early
                raise OSError(f"the connection closed after {received} of the {total} bytes of {url}")


def download_from_mirrors(dataset: Dataset, file: str, dest: Path) -> None:
    """Download ``file`` of ``dataset`` into ``dest``, trying each of its mirrors in turn.

    The file is not verified here: the caller checks it against its pinned SHA-256.

    Raises:
        OSError: no mirror could be reached; the message lists each URL with its error.
    """
    errors = []
    for mirror in dataset.mirrors:
        try:
            download_file(mirror + file, dest)
            return
        except OSError as error:
            errors.append(f"{mirror + file}: {error}")
    raise OSError("; ".join(errors))
