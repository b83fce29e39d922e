"""Small Fashion-MNIST classifiers: fast features for CPU metrics, and an independent judge.

The Inception network of :mod:`ganedu.metrics.inception` runs at a few images per second on
a laptop CPU and has no classifier head. These two small networks, trained by
``scripts/train_classifier.py`` with a fixed seed and shipped in ``ganedu/weights/``, fill
both gaps:

* ``which="primary"``, :class:`FashionCNN`: its 128-d penultimate features give the fast
  "FID (Fashion-MNIST classifier features)" that training decisions and benchmarks use, and
  its softmax gives the Inception Score. Such numbers are not comparable with Inception FID.
* ``which="independent"``, :class:`LeNet`: another architecture and another seed. It judges
  whether samples are of the class asked for ("an independent classifier labels >= 85% of
  samples as their requested class"), so the judge is not the network whose features
  steered training.

Each weights file has its SHA-256 pinned here and its test accuracy recorded in the JSON
beside it (``ganedu/weights/<name>.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ganedu.data import to_float
from ganedu.errors import CheckpointError, DataError
from ganedu.files import check_pinned
from ganedu.runtime import device as pick_device

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"


class FashionCNN(nn.Module):
    """Three 3x3 convolutions (BatchNorm on the last two), max pooling, a 128-d feature layer.

    Input: float ``(B, 1, 28, 28)`` in [-1, 1]. ``features`` returns the 128-d penultimate layer
    before its ReLU (a ReLU leaves some units at 0 for every image, which makes covariances
    singular); ``forward`` returns logits ``(B, 10)``.
    """

    feature_dim = 128

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),  # (B, 32, 28, 28)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, 14, 14)
            nn.Conv2d(32, 64, 3, padding=1, bias=False),  # (B, 64, 14, 14)
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 64, 7, 7)
            nn.Conv2d(64, 128, 3, padding=1, bias=False),  # (B, 128, 7, 7)
            nn.BatchNorm2d(128),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 128, 3, 3)
            nn.Flatten(),  # (B, 1152)
            nn.Linear(1152, self.feature_dim),  # (B, 128)
        )
        self.head = nn.Linear(self.feature_dim, num_classes)  # (B, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.features(x)))


class LeNet(nn.Module):
    """LeNet-5-style network (LeCun et al. 1998): 5x5 convolutions, no BatchNorm, a 256-d layer.

    Input: float ``(B, 1, 28, 28)`` in [-1, 1]; ``features`` is the 256-d layer before its ReLU,
    ``forward`` returns logits ``(B, 10)``. Deliberately unlike :class:`FashionCNN` (kernel
    sizes, no normalisation, no padding, dropout) so the two make
    different mistakes.
    """

    feature_dim = 256

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 20, 5),  # (B, 20, 24, 24)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 20, 12, 12)
            nn.Conv2d(20, 50, 5),  # (B, 50, 8, 8)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 50, 4, 4)
            nn.Flatten(),  # (B, 800)
            nn.Linear(800, self.feature_dim),  # (B, 256)
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(self.feature_dim, num_classes)  # (B, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(torch.relu(self.features(x))))


@dataclass(frozen=True)
class ClassifierSpec:
    """One shipped classifier: its architecture, weights file, pinned SHA-256 and training seed."""

    dataset: str
    which: str
    architecture: type[nn.Module]
    file: str
    sha256: str
    seed: int

    @property
    def weights_path(self) -> Path:
        return WEIGHTS_DIR / self.file

    @property
    def record_path(self) -> Path:
        return self.weights_path.with_suffix(".json")


CLASSIFIERS: dict[tuple[str, str], ClassifierSpec] = {
    ("fashion-mnist", "primary"): ClassifierSpec(
        "fashion-mnist",
        "primary",
        FashionCNN,
        "fashion_mnist_classifier.pt",
        "74e1385df9c12abefa931de7d3358cc4171163994381362f9975d0b11560bde1",
        seed=0,
    ),
    ("fashion-mnist", "independent"): ClassifierSpec(
        "fashion-mnist",
        "independent",
        LeNet,
        "fashion_mnist_independent.pt",
        "69c3f0214a519f103fb170ea1f0428692ceae69bf89613fa036750d56a8e6a63",
        seed=1,
    ),
}


def classifier_spec(dataset: str, which: str = "primary") -> ClassifierSpec:
    """The :class:`ClassifierSpec` for ``dataset`` / ``which``; :class:`DataError` when none is shipped."""
    if (dataset, which) not in CLASSIFIERS:
        known = ", ".join(f"{d} ({w})" for d, w in CLASSIFIERS)
        raise DataError(
            f"ganedu ships no {which!r} classifier for {dataset!r} (it has: {known}); "
            "use --features inception for other datasets"
        )
    return CLASSIFIERS[(dataset, which)]


def recorded_accuracy(dataset: str = "fashion-mnist", which: str = "primary") -> dict:
    """The training record shipped beside the weights: test accuracy, seed, command, time."""
    return json.loads(classifier_spec(dataset, which).record_path.read_text())


class ClassifierFeatures:
    """Features, probabilities and predictions of a shipped classifier, on uint8 images.

    Args:
        dataset: the dataset the classifier was trained on (``"fashion-mnist"``).
        device: where to run; ``None`` picks :func:`ganedu.device`.
        which: ``"primary"`` (the metric features) or ``"independent"`` (the judge).

    Images are uint8 ``(N, 1, 28, 28)``, or ``(N, 1, 32, 32)`` (the padded size of the DCGANs)
    whose centre 28x28 is used. Calling the object returns :meth:`features`.
    """

    def __init__(self, dataset: str = "fashion-mnist", device=None, which: str = "primary"):
        self.spec = classifier_spec(dataset, which)
        self.device = pick_device(device)
        self.network = self.spec.architecture()
        self.network.load_state_dict(load_weights(self.spec))
        self.network.to(self.device).eval()
        self.feature_dim = self.network.feature_dim
        self.weights_sha256 = self.spec.sha256
        self.name = (
            "Fashion-MNIST classifier" if which == "primary" else "Fashion-MNIST independent classifier"
        )

    def _inputs(self, images: torch.Tensor) -> torch.Tensor:
        images = torch.as_tensor(images)
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 1:
            raise ValueError(
                f"expected uint8 images (N, 1, 28, 28) or (N, 1, 32, 32), got {images.dtype} {tuple(images.shape)}"
            )
        if images.shape[-2:] == (32, 32):
            images = images[..., 2:30, 2:30]
        elif images.shape[-2:] != (28, 28):
            raise ValueError(f"expected 28x28 or 32x32 images, got {tuple(images.shape[-2:])}")
        return to_float(images.to(self.device))

    @torch.inference_mode()
    def _run(self, images: torch.Tensor, fn, batch_size: int) -> torch.Tensor:
        x = self._inputs(images)
        return torch.cat([fn(x[i : i + batch_size]).float().cpu() for i in range(0, len(x), batch_size)])

    def features(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Penultimate-layer features, float32 ``(N, feature_dim)`` on the CPU."""
        return self._run(images, self.network.features, batch_size)

    def probs(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Class probabilities (softmax of the logits), float32 ``(N, 10)`` on the CPU."""
        return self._run(images, lambda x: self.network(x).softmax(dim=1), batch_size)

    def predict(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """The most likely class of each image, int64 ``(N,)``."""
        return self.probs(images, batch_size).argmax(dim=1)

    def __call__(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        return self.features(images, batch_size)


def load_weights(spec: ClassifierSpec) -> dict[str, torch.Tensor]:
    """The state dict of a shipped classifier, checked against its pinned SHA-256.

    Loaded with ``torch.load(weights_only=True)``: a weights file is data, never code.

    Raises:
        CheckpointError: the file is missing or is not the file the project trained.
    """
    path = spec.weights_path
    if not path.is_file():
        raise CheckpointError(
            f"{path} is missing; reinstall ganedu or run `python scripts/train_classifier.py --which {spec.which}`"
        )
    check_pinned(
        path,
        spec.sha256,
        what="the classifier ganedu shipped",
        remedy=f"reinstall ganedu or retrain it with `python scripts/train_classifier.py --which {spec.which}` "
        "and pin the new hash",
        error=CheckpointError,
    )
    return torch.load(path, map_location="cpu", weights_only=True)
