"""The decoded cache (ganedu.data.decoded): used only when intact and made from the verified originals.

Each fault is made for real on the cache file or its folder: the file truncated, a byte of it
flipped, its header garbled, the originals replaced by another pinned copy (stale), the folder
read-only for a process without root's powers, the folder's disk full.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from ganedu import data
from ganedu.data import decoded
from ganedu.data import idx as idx_module
from ganedu.data import load as load_module
from tests.real_faults import ROOT, small_disk, unprivileged
from tests.test_data import DEBIAN_COPY, TEST_IMAGES, isolated, pin, write_fake_fashion  # noqa: F401

__all__ = ["isolated"]  # test_data's autouse fixture: no real data folders, no network


@pytest.fixture
def system(tmp_path, monkeypatch):
    """Fake Fashion-MNIST (every pixel 5) as the system copy; the in-process memory emptied."""
    folder = tmp_path / "system"
    pin(monkeypatch, "fashion-mnist", write_fake_fashion(folder, 5))
    monkeypatch.setattr(load_module, "_LOADED", {})
    return folder


def fresh_load(split: str = "train"):
    """``load_dataset`` as a new process sees it: nothing in memory."""
    load_module._LOADED.clear()
    images, labels = data.load_dataset("fashion-mnist", split)
    return images, labels


def no_decoding(monkeypatch):
    monkeypatch.setattr(idx_module, "read_idx", lambda *a, **k: pytest.fail("the originals were decoded"))


def test_a_split_is_decoded_once_and_read_back_from_the_cache(system, monkeypatch):
    first = fresh_load()
    assert decoded.cache_path("fashion-mnist", "train").is_file()
    no_decoding(monkeypatch)
    second = fresh_load()
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(first, second, strict=True))
    assert second[0].unique().tolist() == [5] and second[1].dtype.is_floating_point is False


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[:-100], id="truncated"),
        pytest.param(lambda b: b[:-1] + bytes([b[-1] ^ 0x10]), id="bit-flipped"),
        pytest.param(lambda b: b"{not json" + b[9:], id="garbled-header"),
        pytest.param(lambda b: b"", id="empty"),
    ],
)
def test_a_damaged_cache_is_never_used_and_is_rebuilt_whole(system, damage):
    fresh_load()
    path = decoded.cache_path("fashion-mnist", "train")
    good = path.read_bytes()
    path.write_bytes(damage(good))
    images, labels = fresh_load()
    assert images.unique().tolist() == [5] and labels.tolist() == [i % 10 for i in range(20)]
    assert path.read_bytes() == good


def test_a_cache_of_other_originals_is_stale_and_replaced(tmp_path, monkeypatch):
    """Two pinned copies (as Debian's and Zalando's files are): the cache follows the one on disk."""
    folder = tmp_path / "system"
    first, second = tmp_path / "a", tmp_path / "b"
    pin(monkeypatch, "fashion-mnist", write_fake_fashion(first, 5), write_fake_fashion(second, 6))
    monkeypatch.setattr(load_module, "_LOADED", {})
    first.rename(folder)
    assert fresh_load()[0].unique().tolist() == [5]
    folder.rename(first)
    second.rename(folder)
    assert fresh_load()[0].unique().tolist() == [6]
    header = json.loads(decoded.cache_path("fashion-mnist", "train").read_bytes().split(b"\n")[0])
    assert header["originals"][0] == data.sha256_file(folder / "train-images-idx3-ubyte.gz")


def test_a_full_disk_leaves_no_cache_and_no_temporary_file(tmp_path, system, monkeypatch):
    pin(monkeypatch, "fashion-mnist", write_fake_fashion(system, 7, n=2000))  # 1.5 MB decoded
    with small_disk(tmp_path / "xdg-cache", 1):  # the cache folder's disk holds less than that
        images, _ = fresh_load()
        assert images.shape == (2000, 1, 28, 28) and images.unique().tolist() == [7]
        folder = decoded.cache_path("fashion-mnist", "train").parent
        assert list(folder.iterdir()) == []


@pytest.mark.skipif(not (DEBIAN_COPY / TEST_IMAGES).is_file(), reason="needs the Debian Fashion-MNIST copy")
def test_a_read_only_cache_folder_decodes_in_memory_without_a_word(tmp_path):
    """A process without root's powers, its cache folder read-only: the split loads, nothing is written."""
    cache = tmp_path / "readonly"
    cache.mkdir()
    cache.chmod(0o555)
    code = (
        "from ganedu.data import load_dataset; x, y = load_dataset('fashion-mnist', 'test'); "
        "print(tuple(x.shape), int(x.sum()), int(y.sum()))"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache), "HOME": str(cache)}
    done = subprocess.run(
        [*unprivileged(), sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert list(cache.iterdir()) == []
    originals = data.read_idx(DEBIAN_COPY / TEST_IMAGES, ndim=3)
    assert done.stdout.split()[:4] == ["(10000,", "1,", "28,", "28)"]
    assert int(done.stdout.split()[4]) == int(originals.sum(dtype=np.int64))
