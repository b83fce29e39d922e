"""ganedu.data: the lookup chain, checksums, file parsing, toy mixtures and on-device batches.

Everything runs offline on tiny files made here, whose checksums replace the pinned ones;
only the real Fashion-MNIST test reads the Debian system copy (skipped when it is absent).
"""

import gzip
import hashlib
import io
import os
import pickle
import socket
import struct
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from ganedu import data
from ganedu.data import download as download_module
from ganedu.data import idx as idx_module
from ganedu.errors import DataError

FILES = data.DATASETS["fashion-mnist"].files
REAL_DOWNLOAD_FILE = download_module.download_file  # every test but one runs offline (see `isolated`)
TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = FILES


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: 0x0000, type 0x08, ndim, big-endian dims, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path: Path, payload: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload, mtime=0))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_fake_fashion(folder: Path, fill: int, n: int = 20) -> dict[str, str]:
    """Write all four files, every pixel equal to ``fill``; return {file: sha256}."""
    images = np.full((n, 28, 28), fill, dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10
    return {
        TRAIN_IMAGES: write_gz(folder / TRAIN_IMAGES, idx_bytes(images)),
        TRAIN_LABELS: write_gz(folder / TRAIN_LABELS, idx_bytes(labels)),
        TEST_IMAGES: write_gz(folder / TEST_IMAGES, idx_bytes(images[: n // 2])),
        TEST_LABELS: write_gz(folder / TEST_LABELS, idx_bytes(labels[: n // 2])),
    }


def pin(monkeypatch, name: str, *digest_maps: dict[str, str]) -> None:
    """Replace the pinned checksums of ``name`` by the digests of the files written here."""
    table = {}
    for digests in digest_maps:
        for file, digest in digests.items():
            table[file] = (*table.get(file, ()), digest)
    monkeypatch.setitem(data.CHECKSUMS, name, table)


def offline(url, dest):
    raise OSError("network unreachable (test)")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test sees the real environment's data folders or the network."""
    monkeypatch.delenv("GANEDU_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setitem(data.SYSTEM_DIRS, "fashion-mnist", tmp_path / "system")
    monkeypatch.setattr(download_module, "download_file", offline)


@pytest.fixture
def three_locations(tmp_path, monkeypatch):
    """Fake Fashion-MNIST in GANEDU_DATA (pixels 1), the cache (2) and the system copy (3)."""
    env, cache, system = (
        tmp_path / "env" / "fashion-mnist",
        tmp_path / "xdg-cache" / "ganedu" / "fashion-mnist",
        tmp_path / "system",
    )
    pin(
        monkeypatch,
        "fashion-mnist",
        write_fake_fashion(env, 1),
        write_fake_fashion(cache, 2),
        write_fake_fashion(system, 3),
    )
    monkeypatch.setenv("GANEDU_DATA", str(tmp_path / "env"))
    return env, cache, system


# --------------------------------------------------------------------------- lookup order


def test_ganedu_data_wins_over_cache_and_cache_over_system(three_locations, monkeypatch):
    env, cache, system = three_locations
    assert data.load_dataset("fashion-mnist")[0].unique().tolist() == [1]
    monkeypatch.delenv("GANEDU_DATA")
    assert data.load_dataset("fashion-mnist")[0].unique().tolist() == [2]
    for file in FILES:
        (cache / file).unlink()
    assert data.load_dataset("fashion-mnist")[0].unique().tolist() == [3]


def test_cache_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    assert data.cache_dir() == tmp_path / "elsewhere" / "ganedu"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data.cache_dir() == Path.home() / ".cache" / "ganedu"


def test_location_missing_a_file_of_the_split_is_passed_over(three_locations):
    env, cache, system = three_locations
    (env / TRAIN_LABELS).unlink()
    assert data.load_dataset("fashion-mnist", "train")[0].unique().tolist() == [2]
    assert data.load_dataset("fashion-mnist", "test")[0].unique().tolist() == [1]


def test_load_returns_uint8_images_nchw_and_int64_labels(three_locations):
    images, labels = data.load_dataset("fashion-mnist", "test")
    assert images.dtype == torch.uint8 and images.shape == (10, 1, 28, 28) and images.device.type == "cpu"
    assert labels.dtype == torch.int64 and labels.tolist() == list(range(10))


def test_second_load_is_served_from_memory_and_callers_get_their_own_copy(three_locations, monkeypatch):
    first, _ = data.load_dataset("fashion-mnist")
    first.zero_()
    monkeypatch.setattr(idx_module, "read_idx", lambda *a, **k: pytest.fail("the files were parsed twice"))
    second, _ = data.load_dataset("fashion-mnist")
    assert second.unique().tolist() == [1]


# --------------------------------------------------------------------------- checksums


def test_checksum_mismatch_names_file_and_checksums_and_returns_nothing(three_locations, monkeypatch):
    env, _, _ = three_locations
    pinned = "0" * 64
    monkeypatch.setitem(data.CHECKSUMS["fashion-mnist"], TRAIN_IMAGES, (pinned,))
    actual = hashlib.sha256((env / TRAIN_IMAGES).read_bytes()).hexdigest()
    with pytest.raises(DataError) as error:
        data.load_dataset("fashion-mnist")
    message = str(error.value)
    assert str(env / TRAIN_IMAGES) in message and pinned in message and actual in message
    assert "delete it" in message


def test_corrupt_file_in_first_location_is_an_error_not_a_fall_through(three_locations):
    env, _, _ = three_locations
    (env / TRAIN_LABELS).write_bytes(b"not the labels")
    with pytest.raises(DataError, match=TRAIN_LABELS):
        data.load_dataset("fashion-mnist")


def test_corrupt_system_copy_says_to_reinstall_the_package(tmp_path, monkeypatch):
    pin(monkeypatch, "fashion-mnist", write_fake_fashion(tmp_path / "system", 3))
    (tmp_path / "system" / TEST_IMAGES).write_bytes(b"damaged")
    with pytest.raises(DataError, match="apt-get install --reinstall dataset-fashion-mnist"):
        data.load_dataset("fashion-mnist", "test")


def test_file_changed_on_disk_is_hashed_again(three_locations):
    env, _, _ = three_locations
    data.load_dataset("fashion-mnist")
    payload = gzip.compress(idx_bytes(np.full((20, 28, 28), 9, np.uint8)), mtime=0)
    (env / TRAIN_IMAGES).write_bytes(payload)
    os.utime(env / TRAIN_IMAGES, ns=(1, 1))
    with pytest.raises(DataError, match="SHA-256"):
        data.load_dataset("fashion-mnist")


def test_fashion_mnist_pins_both_the_debian_and_the_original_gz_files():
    for file in FILES:
        digests = data.CHECKSUMS["fashion-mnist"][file]
        assert len(digests) == 2 and all(len(d) == 64 and int(d, 16) >= 0 for d in digests)


# --------------------------------------------------------------------------- file formats


@pytest.mark.parametrize(
    "payload, complaint",
    [
        (idx_bytes(np.zeros((20, 28, 28), np.uint8))[:-100], "truncated"),
        (idx_bytes(np.zeros((20, 28, 28), np.uint8)) + b"\0", "truncated or padded"),
        (b"\0\0\x0d\x03" + idx_bytes(np.zeros((20, 28, 28), np.uint8))[4:], "not an IDX file"),
        (idx_bytes(np.zeros((20, 784), np.uint8)), "not an IDX file"),
        (b"\0\0", "not an IDX file"),
    ],
    ids=["truncated", "trailing-bytes", "float-type-code", "two-dimensional", "header-cut"],
)
def test_malformed_idx_raises_data_error(tmp_path, monkeypatch, payload, complaint):
    """Malformed by hand: a file of the wrong shape or type cannot come from a fault of ganedu's
    own writes (atomic); monkeypatch only pins the made-up files' checksums."""
    digests = write_fake_fashion(tmp_path / "system", 3)
    digests[TRAIN_IMAGES] = write_gz(tmp_path / "system" / TRAIN_IMAGES, payload)
    pin(monkeypatch, "fashion-mnist", digests)
    with pytest.raises(DataError, match=complaint):
        data.load_dataset("fashion-mnist")


def test_file_that_is_not_gzip_raises_data_error(tmp_path, monkeypatch):
    digests = write_fake_fashion(tmp_path / "system", 3)
    (tmp_path / "system" / TRAIN_LABELS).write_bytes(b"plain text")
    digests[TRAIN_LABELS] = hashlib.sha256(b"plain text").hexdigest()
    pin(monkeypatch, "fashion-mnist", digests)
    with pytest.raises(DataError, match="not a readable gzip file"):
        data.load_dataset("fashion-mnist")


def test_images_and_labels_of_different_lengths_raise_data_error(tmp_path, monkeypatch):
    digests = write_fake_fashion(tmp_path / "system", 3)
    digests[TRAIN_LABELS] = write_gz(tmp_path / "system" / TRAIN_LABELS, idx_bytes(np.zeros(7, np.uint8)))
    pin(monkeypatch, "fashion-mnist", digests)
    with pytest.raises(DataError, match="20 images but .* 7 labels"):
        data.load_dataset("fashion-mnist")


def cifar_archive(path: Path, batches: dict[str, bytes]) -> dict[str, str]:
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in batches.items():
            member = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            member.size = len(payload)
            tar.addfile(member, io.BytesIO(payload))
    return {data.CIFAR10_ARCHIVE: hashlib.sha256(path.read_bytes()).hexdigest()}


def cifar_batch(n: int, label: int) -> bytes:
    """A batch as CIFAR-10 stores it: rows of 1024 red, 1024 green, 1024 blue bytes.

    Pickled with protocol 2 and the numpy 1.x module name, like the original files.
    """
    planes = np.concatenate([np.full((n, 1024), c, np.uint8) for c in (10, 20, 30)], axis=1)
    payload = pickle.dumps({b"data": planes, b"labels": [label] * n}, protocol=2)
    return payload.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")


def test_cifar10_batches_load_as_nchw_rgb(tmp_path, monkeypatch):
    folder = tmp_path / "xdg-cache" / "ganedu" / "cifar10"
    folder.mkdir(parents=True)
    batches = {f"data_batch_{i}": cifar_batch(3, i) for i in range(1, 6)} | {"test_batch": cifar_batch(2, 9)}
    pin(monkeypatch, "cifar10", cifar_archive(folder / data.CIFAR10_ARCHIVE, batches))
    images, labels = data.load_dataset("cifar10", "train")
    assert images.shape == (15, 3, 32, 32) and images.dtype == torch.uint8
    assert images[:, :, 0, 0].tolist() == [[10, 20, 30]] * 15
    assert labels.tolist() == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5]
    assert data.load_dataset("cifar10", "test")[1].tolist() == [9, 9]


class RunsCode:
    def __reduce__(self):
        return (os.system, ("echo this must not run",))


def test_cifar10_pickle_that_would_run_code_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "xdg-cache" / "ganedu" / "cifar10"
    folder.mkdir(parents=True)
    hostile = pickle.dumps({b"data": RunsCode(), b"labels": [0]})
    pin(monkeypatch, "cifar10", cifar_archive(folder / data.CIFAR10_ARCHIVE, {"test_batch": hostile}))
    with pytest.raises(DataError, match="refusing to load .*system"):
        data.load_dataset("cifar10", "test")


# --------------------------------------------------------------------------- missing data and names


def test_missing_dataset_offline_raises_one_error_naming_the_three_ways():
    """Offline by a stand-in for the download (``isolated``): in a real network namespace this
    machine's system copy in /usr/share/datasets would be found first, and a process started
    there cannot be told to look elsewhere. A real dropped connection is tested below."""
    with pytest.raises(DataError) as error:
        data.load_dataset("fashion-mnist")
    message = str(error.value)
    assert "GANEDU_DATA" in message
    assert "python -m ganedu data fetch fashion-mnist" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "network unreachable" in message and "\n" not in message


def test_dataset_without_system_package_offers_the_cache_folder_instead():
    with pytest.raises(DataError, match=r"copy the files into .*ganedu[/\\]mnist"):
        data.load_dataset("mnist")


def test_unknown_dataset_lists_the_known_names():
    with pytest.raises(DataError, match="fashion-mnist, mnist, cifar10"):
        data.load_dataset("svhn")


def test_unknown_split_lists_the_splits(three_locations):
    with pytest.raises(DataError, match="train, test"):
        data.load_dataset("fashion-mnist", "validation")


# --------------------------------------------------------------------------- download and fetch


def fake_server(served: dict[str, bytes], calls: list[str]):
    """A stand-in for the mirrors that hands out ``served``: a test may not use the network, and
    the mirrors' URLs are the package's own; a real connection dropped mid-file is tested below."""

    def download(url, dest):
        calls.append(url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(served[url.rsplit("/", 1)[1]])

    return download


def test_download_lands_in_the_cache_and_is_verified(tmp_path, monkeypatch):
    source = tmp_path / "served"
    pin(monkeypatch, "fashion-mnist", write_fake_fashion(source, 5))
    calls = []
    monkeypatch.setattr(
        download_module, "download_file", fake_server({f: (source / f).read_bytes() for f in FILES}, calls)
    )
    images, _ = data.load_dataset("fashion-mnist", "test")
    assert images.unique().tolist() == [5]
    assert calls == [data.DATASETS["fashion-mnist"].mirrors[0] + f for f in (TEST_IMAGES, TEST_LABELS)]
    assert (data.cache_dir() / "fashion-mnist" / TEST_IMAGES).is_file()


def test_downloaded_file_with_wrong_checksum_is_deleted_and_reported(tmp_path, monkeypatch):
    source = tmp_path / "served"
    pin(monkeypatch, "fashion-mnist", write_fake_fashion(source, 5))
    served = {f: (source / f).read_bytes() for f in FILES} | {TEST_IMAGES: b"tampered"}
    monkeypatch.setattr(download_module, "download_file", fake_server(served, []))
    with pytest.raises(DataError, match=TEST_IMAGES):
        data.load_dataset("fashion-mnist", "test")
    assert not (data.cache_dir() / "fashion-mnist" / TEST_IMAGES).exists()


def dropping_server(reset: bool) -> str:
    """The URL of a real HTTP server on this machine that promises 2 MB, sends 100 kB, then
    drops the connection: with a reset (RST) or a plain close, as a crashed server or proxy does."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        connection, _ = server.accept()
        connection.recv(1 << 16)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n" + b"x" * 100_000)
        if reset:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/file.gz"


@pytest.mark.parametrize("reset, message", [(True, "Connection reset"), (False, "closed after 100000 of")])
def test_interrupted_download_leaves_no_file_behind(tmp_path, reset, message):
    folder = tmp_path / "cache"
    folder.mkdir()
    with pytest.raises(OSError, match=message):
        REAL_DOWNLOAD_FILE(dropping_server(reset), folder / "file.gz")
    assert list(folder.iterdir()) == []


def test_fetch_copies_the_system_copy_into_the_cache(tmp_path, monkeypatch):
    pin(monkeypatch, "fashion-mnist", write_fake_fashion(tmp_path / "system", 3))
    folder = data.fetch("fashion-mnist")
    assert folder == data.cache_dir() / "fashion-mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    assert [row["source"] for row in data.info() if row["name"] == "fashion-mnist"] == ["cache"]


def test_fetch_keeps_a_complete_copy_under_ganedu_data(three_locations):
    env, _, _ = three_locations
    assert data.fetch("fashion-mnist") == env


def test_fetch_offline_without_any_copy_raises_the_three_ways():
    """Offline by a stand-in for the download (``isolated``): in a real network namespace this
    machine's system copy in /usr/share/datasets would be found first, and a process started
    there cannot be told to look elsewhere. A real dropped connection is tested below."""
    with pytest.raises(DataError, match="three ways"):
        data.fetch("cifar10")


def test_fetch_uses_registered_fetchers_for_other_names(tmp_path, monkeypatch):
    monkeypatch.setitem(data.FETCHERS, "weights", lambda: tmp_path)
    assert data.fetch("weights") == tmp_path
    with pytest.raises(DataError, match=r"known names: fashion-mnist, mnist, cifar10, .*weights"):
        data.fetch("nothing")


def test_info_reports_source_status_and_size(three_locations):
    env, _, _ = three_locations
    (env / TEST_LABELS).write_bytes(b"damaged")
    rows = {row["name"]: row for row in data.info()}
    assert rows["fashion-mnist"]["source"] == "GANEDU_DATA"
    assert rows["fashion-mnist"]["status"] == f"checksum mismatch: {TEST_LABELS}"
    assert rows["fashion-mnist"]["bytes"] == sum((env / f).stat().st_size for f in FILES)
    assert rows["mnist"] == {**rows["mnist"], "source": "not found", "status": "missing", "path": None}
    table = data.format_info(list(rows.values()))
    assert table.splitlines()[0].split() == ["dataset", "status", "source", "size", "folder"]
    assert len(table.splitlines()) == 1 + len(data.DATASETS)


# --------------------------------------------------------------------------- the real Fashion-MNIST

DEBIAN_COPY = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(
    not (DEBIAN_COPY / TRAIN_IMAGES).is_file(),
    reason="the Debian package dataset-fashion-mnist is not installed (sudo apt-get install dataset-fashion-mnist)",
)
def test_real_fashion_mnist_from_the_system_copy(monkeypatch):
    monkeypatch.setitem(data.SYSTEM_DIRS, "fashion-mnist", DEBIAN_COPY)
    images, labels = data.load_dataset("fashion-mnist", "train")
    assert images.shape == (60000, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (60000,) and labels.dtype == torch.int64
    assert torch.bincount(labels).tolist() == [6000] * 10
    assert images.min() == 0 and images.max() == 255
    test_images, test_labels = data.load_dataset("fashion-mnist", "test")
    assert test_images.shape == (10000, 1, 28, 28) and test_labels.shape == (10000,)
    assert len(data.FASHION_MNIST_CLASSES) == 10 and data.CLASS_NAMES["fashion-mnist"][9] == "Ankle boot"


# --------------------------------------------------------------------------- toy mixtures


@pytest.mark.parametrize("kind, modes", [("ring", 8), ("grid", 25)])
def test_toy_mixture_shapes_modes_and_spread(kind, modes):
    points, mode_index = data.toy_mixture(kind, 4000, seed=1)
    assert points.shape == (4000, 2) and points.dtype == torch.float32
    assert mode_index.shape == (4000,) and mode_index.dtype == torch.int64
    assert set(mode_index.tolist()) == set(range(modes))
    centers = data.toy_centers(kind)
    distance = (points - centers[mode_index]).norm(dim=1)
    assert distance.max() < 5 * data.TOY_STD[kind]
    assert abs(distance.pow(2).mean().sqrt() / (2**0.5 * data.TOY_STD[kind]) - 1) < 0.05


def test_toy_centers_are_the_ring_of_radius_two_and_the_five_by_five_grid():
    ring = data.toy_centers("ring")
    assert ring.shape == (8, 2) and torch.allclose(ring.norm(dim=1), torch.full((8,), 2.0))
    grid = data.toy_centers("grid")
    assert grid.shape == (25, 2) and sorted(set(grid[:, 0].tolist())) == [-4, -2, 0, 2, 4]


def test_toy_mixture_is_reproducible_by_seed():
    a, ia = data.toy_mixture("ring", 100, seed=3)
    b, ib = data.toy_mixture("ring", 100, seed=3)
    c, _ = data.toy_mixture("ring", 100, seed=4)
    assert torch.equal(a, b) and torch.equal(ia, ib) and not torch.equal(a, c)


def test_toy_mixture_does_not_touch_the_global_rng():
    state = torch.get_rng_state()
    data.toy_mixture("grid", 10)
    assert torch.equal(state, torch.get_rng_state())


def test_unknown_toy_mixture_names_the_kinds():
    with pytest.raises(ValueError, match="ring, grid"):
        data.toy_mixture("spiral", 10)


# --------------------------------------------------------------------------- batches on the device


def tiny_images(n: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    """Image i is filled with the value 5 i and labelled i % 10, so a batch shows what was drawn."""
    images = (torch.arange(n, dtype=torch.uint8) * 5).view(n, 1, 1, 1).expand(n, 1, 28, 28).contiguous()
    return images, torch.arange(n) % 10


def test_image_batches_are_float_in_minus_one_to_one_with_matching_labels():
    images, labels = tiny_images()
    batches = data.ImageBatches(images, labels, device="cpu")
    x, y = batches.sample(64)
    assert x.shape == (64, 1, 28, 28) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    assert len(batches) == 50 and y.shape == (64,) and y.dtype == torch.int64
    drawn = data.to_uint8(x)[:, 0, 0, 0].long() // 5
    assert torch.equal(drawn % 10, y)


def test_padding_to_32_gives_a_black_border_of_minus_one():
    images, labels = tiny_images()
    x, _ = data.ImageBatches(images, labels, pad_to=32).sample(16)
    assert x.shape == (16, 1, 32, 32)
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:30, 2:30] = False
    assert (x[:, :, border] == -1).all()
    assert torch.equal(data.to_uint8(x, crop_to=28), data.to_uint8(x)[:, :, 2:30, 2:30])


def test_image_batches_are_reproducible_by_seed_and_leave_the_global_rng_alone():
    images, labels = tiny_images()
    state = torch.get_rng_state()
    first = data.ImageBatches(images, labels, seed=7).sample(8)
    again = data.ImageBatches(images, labels, seed=7).sample(8)
    other = data.ImageBatches(images, labels, seed=8).sample(8)
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[1], other[1])
    assert torch.equal(state, torch.get_rng_state())


def test_image_batches_without_labels_return_none():
    images, _ = tiny_images()
    x, y = data.ImageBatches(images).sample(4)
    assert y is None and x.shape == (4, 1, 28, 28)


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_image_batches_live_on_the_requested_device(device):
    images, labels = tiny_images()
    batches = data.ImageBatches(images, labels, device=device)
    x, y = batches.sample(4)
    assert batches.images.device.type == device and batches.generator.device.type == device
    assert x.device.type == device and y.device.type == device


def test_to_uint8_inverts_to_float_exactly():
    images = (torch.arange(784) % 256).to(torch.uint8).view(1, 1, 28, 28)
    assert torch.equal(data.to_uint8(data.to_float(images)), images)
    assert torch.equal(data.to_uint8(data.to_float(images, pad_to=32), crop_to=28), images)
    assert data.to_float(torch.tensor([0, 255], dtype=torch.uint8)).tolist() == [-1.0, 1.0]
