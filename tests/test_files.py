"""ganedu.files: the pinned SHA-256 check and the atomic write every saved or fetched file goes through."""

import hashlib
import signal

import pytest

from ganedu.errors import CheckpointError, DataError, DiskFullError
from ganedu.files import atomic_write, check_pinned, sha256_file
from tests.real_faults import small_disk


def test_atomic_write_replaces_the_file_whole(tmp_path):
    path = tmp_path / "new" / "folder" / "file.bin"
    with atomic_write(path) as f:
        f.write(b"first")
    with atomic_write(path) as f:
        f.write(b"second")
    assert path.read_bytes() == b"second"
    assert [p.name for p in path.parent.iterdir()] == ["file.bin"]


def test_atomic_write_gives_the_permissions_of_a_plain_write(tmp_path):
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"x")
    with atomic_write(tmp_path / "atomic.bin") as f:
        f.write(b"x")
    assert (tmp_path / "atomic.bin").stat().st_mode == plain.stat().st_mode


def test_a_full_disk_mid_write_leaves_the_old_file_intact_and_no_temporary_file(tmp_path):
    """The disk fills for real: 2 MB of new contents on a 1 MB tmpfs."""
    with small_disk(tmp_path / "disk", 1) as disk:
        path = disk / "file.bin"
        path.write_bytes(b"the old contents")
        with pytest.raises(DiskFullError, match="disk is full"), atomic_write(path) as f:
            f.write(b"new" * 2**20)
        assert path.read_bytes() == b"the old contents"
        assert [p.name for p in disk.iterdir()] == ["file.bin"]


def test_a_failure_mid_write_leaves_the_old_file_intact_and_no_temporary_file(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"the old contents")
    with pytest.raises(ValueError, match="not an image"), atomic_write(path) as f:
        f.write(b"half of the new")
        raise ValueError("not an image")
    assert path.read_bytes() == b"the old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_an_interrupted_first_write_leaves_no_file_at_all(tmp_path):
    """A real Ctrl-C: SIGINT delivered to this process mid-write."""
    with pytest.raises(KeyboardInterrupt), atomic_write(tmp_path / "file.bin") as f:
        f.write(b"half")
        signal.raise_signal(signal.SIGINT)
    assert list(tmp_path.iterdir()) == []


def test_sha256_file_is_the_digest_of_the_bytes(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"x" * 3_000_000)  # more than one 1 MiB chunk
    assert sha256_file(path) == hashlib.sha256(b"x" * 3_000_000).hexdigest()


def test_check_pinned_accepts_any_of_the_pinned_digests(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"payload")
    digest = hashlib.sha256(b"payload").hexdigest()
    check_pinned(path, digest, remedy="unused")
    check_pinned(path, ("0" * 64, digest), remedy="unused")


def test_check_pinned_names_the_file_both_digests_and_what_to_do(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"payload")
    actual = hashlib.sha256(b"payload").hexdigest()
    with pytest.raises(DataError) as error:
        check_pinned(path, ("0" * 64, "1" * 64), remedy="delete it and fetch it again")
    message = str(error.value)
    assert message == (
        f"{path} is corrupt or not the expected file: its SHA-256 is {actual}, "
        f"expected {'0' * 64} or {'1' * 64}; delete it and fetch it again"
    )


def test_check_pinned_raises_the_requested_error_with_the_requested_label(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"payload")
    with pytest.raises(
        CheckpointError, match=r"^weights\.pt in the wheel is corrupt or not the shipped file"
    ):
        check_pinned(
            path,
            "0" * 64,
            remedy="reinstall",
            what="the shipped file",
            error=CheckpointError,
            label="weights.pt in the wheel",
        )
