"""Score generated images against a dataset split: what ``python -m ganedu eval`` prints.

Real features are computed once per (dataset, split, N, feature network) and kept in
``~/.cache/ganedu/stats/`` as ``.npz``; the file name carries the network's weights hash,
so retrained weights never reuse stale features. Fakes and reals are always compared at the
same N: FID is biased upwards at small N, so numbers at different N are not comparable.
"""

from __future__ import annotations

import sys
import zipfile
import zlib

import numpy as np
import torch

from ganedu.data import cache_dir, load_dataset
from ganedu.errors import GaneduError
from ganedu.files import atomic_write
from ganedu.metrics.classifier import ClassifierFeatures
from ganedu.metrics.frechet import frechet_distance
from ganedu.metrics.inception import InceptionFeatures
from ganedu.metrics.inception_score import inception_score
from ganedu.metrics.kid import kernel_inception_distance
from ganedu.metrics.prdc import density_coverage, precision_recall

METRICS = ("fid", "kid", "is", "pr")
FEATURES = ("inception", "classifier")


def feature_network(features: str, dataset: str, device=None):
    """The extractor behind ``--features``: :class:`InceptionFeatures` or the dataset's classifier."""
    if features == "inception":
        return InceptionFeatures(device=device)
    if features == "classifier":
        return ClassifierFeatures(dataset, device=device)
    raise GaneduError(f"unknown features {features!r}; choose one of {', '.join(FEATURES)}")


def real_features(extractor, features: str, dataset: str, split: str, images: torch.Tensor) -> np.ndarray:
    """Features of ``images``, the first N of ``dataset``/``split``, cached on disk as float32 (N, D).

    A cached file that cannot be read, or holds the wrong number of rows, is rebuilt (it was cut
    off or damaged), never trusted.
    """
    n = len(images)
    path = cache_dir() / "stats" / f"{dataset}-{split}-{features}-{extractor.weights_sha256[:12]}-n{n}.npz"
    if path.is_file():
        try:
            with np.load(path) as cached:
                values = cached["features"]
            if values.ndim == 2 and len(values) == n and np.isfinite(values).all():
                return values
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error):
            pass
        print(f"ganedu: the cached features {path} were damaged; computing them again", file=sys.stderr)
    values = extractor(images).numpy()
    with atomic_write(path) as f:
        np.savez(f, features=values)
    return values


def _match_size(fake: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Crop padded fakes (e.g. 32x32 DCGAN output) to the centre ``size`` of the real images."""
    height, width = fake.shape[-2:]
    if (height, width) == size:
        return fake
    if height < size[0] or width < size[1]:
        raise GaneduError(f"samples are {height}x{width}, smaller than the dataset's {size[0]}x{size[1]}")
    top, left = (height - size[0]) // 2, (width - size[1]) // 2
    return fake[..., top : top + size[0], left : left + size[1]]


def evaluate(
    images,
    dataset: str = "fashion-mnist",
    split: str = "test",
    metric: str = "fid",
    features: str = "classifier",
    n: int | None = None,
    device=None,
) -> dict:
    """Score uint8 samples against the first N images of a dataset split.

    Args:
        images: generated images, uint8 ``(M, C, H, W)`` (tensor or NumPy); larger images are
            centre-cropped to the dataset's size (32x32 -> 28x28).
        dataset, split: the real images to compare with.
        metric: ``"fid"``, ``"kid"`` (mean and std over subsets), ``"is"`` (needs
            ``features="classifier"``: the Inception file has no classifier head) or ``"pr"``
            (precision/recall with k=3 and density/coverage with k=5).
        features: ``"inception"`` (2048-d, comparable with published FIDs) or ``"classifier"``
            (the project's Fashion-MNIST classifier, fast on a CPU, not comparable with Inception).
        n: how many samples and real images; default all samples, capped at both sizes.
        device: where the feature network runs; ``None`` picks :func:`ganedu.device`.

    Returns:
        A dict with ``metric``, ``name`` (e.g. "FID (Fashion-MNIST classifier features)"),
        ``n``, ``dataset``, ``split``, ``features`` and the values: ``value`` (and ``std`` for
        KID and IS), or ``precision``, ``recall``, ``density``, ``coverage`` for ``pr``.
    """
    if metric not in METRICS:
        raise GaneduError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    if metric == "is" and features != "classifier":
        raise GaneduError("the Inception Score needs class probabilities: use --features classifier")
    images = torch.as_tensor(images)
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise GaneduError(
            f"samples must be uint8 images (N, C, H, W), got {images.dtype} {tuple(images.shape)}"
        )
    extractor = feature_network(features, dataset, device)
    reals, _ = load_dataset(dataset, split)
    n = min(n or len(images), len(images), len(reals))
    fake = _match_size(images[:n], tuple(reals.shape[-2:]))
    result = {"metric": metric, "n": n, "dataset": dataset, "split": split, "features": features}
    if metric == "is":
        mean, std = inception_score(extractor.probs(fake))
        return {**result, "name": f"IS ({extractor.name} probabilities)", "value": mean, "std": std}
    real = real_features(extractor, features, dataset, split, reals[:n])
    generated = extractor(fake).numpy()
    title = f"{extractor.name} features"
    if metric == "fid":
        return {**result, "name": f"FID ({title})", "value": frechet_distance(real, generated)}
    if metric == "kid":
        mean, std = kernel_inception_distance(real, generated)
        return {**result, "name": f"KID ({title})", "value": mean, "std": std}
    precision, recall = precision_recall(real, generated, k=3)
    density, coverage = density_coverage(real, generated, k=5)
    return {
        **result,
        "name": f"Precision/recall, density/coverage ({title})",
        "precision": precision,
        "recall": recall,
        "density": density,
        "coverage": coverage,
    }
