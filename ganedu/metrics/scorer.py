r"""A quick two-number score for Fashion-MNIST samples: FD in classifier features and classes present.

Chapters 5, 6 and 8 and the quality benchmarks compare GANs by two numbers that a CPU
computes in seconds for a few thousand samples:

* **FD (Fashion-MNIST classifier features)**: the Fréchet distance between the samples and
  N real images in the 128-d features of the project's classifier,

  .. math:: d^2 = \lVert \mu_r - \mu_g \rVert^2 + \mathrm{Tr}\big(\Sigma_r + \Sigma_g
            - 2 (\Sigma_r \Sigma_g)^{1/2}\big)

  (:func:`ganedu.metrics.frechet_distance`). Not comparable with Inception FID.
* **classes present**: an *independent* classifier (another architecture, another seed)
  labels every sample; a class is present when it gets at least ``min_share`` of them (1%).
  A collapsed generator shows few classes whatever its FD.

The real features are computed once per (dataset, split, N) and cached on disk
(:func:`ganedu.metrics.evaluate.real_features`), so building a scorer twice is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ganedu.data import CLASS_NAMES, load_dataset
from ganedu.metrics.classifier import ClassifierFeatures
from ganedu.metrics.evaluate import real_features
from ganedu.metrics.frechet import frechet_distance
from ganedu.report import record


@dataclass
class SampleScore:
    """The result of :class:`SampleScorer`: FD, the judge's labels and what follows from them."""

    fd: float
    """Fréchet distance to the real images in the classifier's features"""
    predicted: np.ndarray
    """(N,) int64: the independent classifier's label of each sample"""
    num_classes: int
    min_share: float = 0.01

    @property
    def n(self) -> int:
        """Number of samples scored."""
        return len(self.predicted)

    @property
    def counts(self) -> np.ndarray:
        """(num_classes,) int64: samples the independent classifier puts in each class."""
        return np.bincount(self.predicted, minlength=self.num_classes)

    @property
    def classes_present(self) -> int:
        """Classes holding at least ``min_share`` of the samples."""
        return int((self.counts >= self.min_share * self.n).sum())

    def __str__(self) -> str:
        return f"FD {self.fd:.1f}, {self.classes_present}/{self.num_classes} classes"


class SampleScorer:
    """Scores uint8 samples against the first ``n`` images of a dataset split.

    Args:
        dataset: the dataset the samples imitate (a shipped classifier must exist for it).
        n: how many real images to compare with; ``None`` for the whole split. FD is biased
            upwards at small N: compare numbers at the same N only.
        split: the real images' split.
        device: where the classifiers run; ``None`` picks :func:`ganedu.device`.
        min_share: the share of the samples a class needs to count as present.

    Calling the scorer on uint8 images ``(N, 1, 28, 28)`` or ``(N, 1, 32, 32)`` (centre crop),
    tensor or NumPy, returns a :class:`SampleScore`.
    """

    def __init__(
        self,
        dataset: str = "fashion-mnist",
        n: int | None = None,
        split: str = "test",
        device=None,
        min_share: float = 0.01,
    ):
        reals, _ = load_dataset(dataset, split)
        self.features = ClassifierFeatures(dataset, device=device)
        self.judge = ClassifierFeatures(dataset, device=device, which="independent")
        self.n = len(reals) if n is None else min(n, len(reals))
        self.real_features = real_features(self.features, "classifier", dataset, split, reals[: self.n])
        self.num_classes, self.min_share = len(CLASS_NAMES[dataset]), min_share

    def __call__(self, images) -> SampleScore:
        images = torch.as_tensor(images)
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(
                f"samples must be uint8 images (N, C, H, W), got {images.dtype} {tuple(images.shape)}; "
                "gan.export(n, data)['images'] gives them"
            )
        fd = frechet_distance(self.real_features, self.features(images))
        predicted = self.judge.predict(images).numpy()
        score = SampleScore(float(fd), predicted, self.num_classes, self.min_share)
        record(
            f"FD (classifier features, N={self.n})",
            {"FD": score.fd, "classes present": score.classes_present},
        )
        return score
