"""The shipped models: pinned by SHA-256, loaded as data, and as good as their records say."""

import dataclasses
import shutil

import pytest
import torch

from ganedu.data import load_dataset, to_float
from ganedu.errors import CheckpointError, UnknownModelError
from ganedu.metrics import ClassifierFeatures
from ganedu.pretrained import PRETRAINED, load_pretrained, record


def _classes(images: torch.Tensor) -> torch.Tensor:
    """Independent-classifier labels of images in [-1, 1], padded 32×32 cropped back to 28×28."""
    uint8 = ((images[..., 2:30, 2:30].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return ClassifierFeatures("fashion-mnist", which="independent").predict(uint8).cpu()


def test_shipped_cyclegan_turns_sneakers_into_ankle_boots_and_back():
    gan, _ = load_pretrained("cyclegan")
    images, labels = load_dataset("fashion-mnist", "test")
    sneakers = to_float(images[labels == 7][:300], pad_to=32)
    boots = gan.translate(sneakers, "AB")
    assert (_classes(boots) == 9).float().mean() >= 0.9
    back = gan.translate(boots, "BA")
    assert (back - sneakers).abs().mean() / 2 < 0.06  # the cycle returns close to the input
    assert record("cyclegan")["a_to_b"] >= 0.9


def test_shipped_stylegan_draws_every_class_and_truncation_narrows_it():
    gan, data = load_pretrained("stylegan")
    images = torch.from_numpy(gan.export(500, data)["images"])
    judge = ClassifierFeatures("fashion-mnist", which="independent")
    counts = torch.bincount(judge.predict(images).cpu(), minlength=10)
    assert (counts >= 5).sum() >= 9  # (10/10 with 1% each on 10,000 samples in its record)
    assert record("stylegan")["fd_classifier"] <= record("stylegan")["textbook_dcgan_5min_fd"]
    spread = lambda x: x.float().flatten(1).std(0).mean()  # noqa: E731
    truncated = torch.from_numpy(gan.export(500, data, truncation=0.3)["images"])
    assert spread(truncated) < 0.8 * spread(images)


@pytest.mark.parametrize("name", list(PRETRAINED))
def test_shipped_files_match_their_records(name):
    spec = PRETRAINED[name]
    assert spec.path.stat().st_size < 10e6  # a few MB, not a training checkpoint
    assert record(name)["sha256"] == spec.sha256
    assert "command" in record(name)


def test_a_file_that_is_not_the_shipped_one_is_refused(tmp_path):
    spec = PRETRAINED["cyclegan"]
    copy = tmp_path / spec.file
    shutil.copy(spec.path, copy)
    with open(copy, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    fake = dataclasses.replace(spec, file=str(copy))  # an absolute file name replaces the folder
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_pretrained("cyclegan", spec=fake)
    missing = dataclasses.replace(spec, file=str(tmp_path / "nothing.pt"))
    with pytest.raises(CheckpointError, match="missing"):
        load_pretrained("cyclegan", spec=missing)
    with pytest.raises(UnknownModelError):
        load_pretrained("biggan")
