"""Batches drawn by indexing a dataset held whole on one device: no per-sample ``DataLoader``."""

from __future__ import annotations

import torch

from ganedu.data.convert import to_float
from ganedu.data.toy import TOY_STD, toy_centers, toy_mixture


class ImageBatches:
    """A whole image dataset held on one device, sampled by indexing.

    The uint8 images move to ``device`` once; each :meth:`sample` draws ``batch_size``
    indices uniformly with replacement from :attr:`generator` (a ``torch.Generator`` on that
    device, saved with checkpoints for exact resume) and converts only that batch to float.

    Args:
        images: uint8 ``(N, C, H, W)``.
        labels: int64 ``(N,)`` or ``None``.
        device: where the data lives and the batches are made (default: the images' device).
        pad_to: pad each batch with black to ``pad_to x pad_to`` (see :func:`to_float`).
        seed: seed of the generator made when ``generator`` is not given.
        generator: a ``torch.Generator`` on ``device`` to draw indices with.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor | None = None,
        device: torch.device | str | None = None,
        pad_to: int | None = None,
        seed: int = 0,
        generator: torch.Generator | None = None,
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
        if labels is not None and len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.device = torch.device(device) if device is not None else images.device
        self.images = images.to(self.device)
        self.labels = labels.to(self.device) if labels is not None else None
        self.pad_to = pad_to
        self.generator = generator or torch.Generator(device=self.device).manual_seed(seed)

    def __len__(self) -> int:
        return len(self.images)

    def sample(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Draw a batch: ``(x float32 (B, C, H, W) in [-1, 1], labels int64 (B,) or None)``."""
        index = torch.randint(len(self), (batch_size,), generator=self.generator, device=self.device)
        labels = self.labels[index] if self.labels is not None else None
        return to_float(self.images[index], self.pad_to), labels


class ToyBatches:
    """A fixed sample of the toy mixture ``kind`` with batches drawn by indexing, like :class:`ImageBatches`.

    ``sample(B)`` returns ``(points (B, 2), None)``; :attr:`points` and :attr:`modes` hold the
    whole sample, :attr:`centers` the mixture's centres and :attr:`std` its σ.
    """

    def __init__(self, kind: str = "ring", n: int = 100_000, seed: int = 0, device=None):
        self.kind = kind
        self.points, self.modes = toy_mixture(kind, n, seed=seed, device=device)
        self.centers, self.std = toy_centers(kind), TOY_STD[kind]
        self.generator = torch.Generator(device=self.points.device).manual_seed(seed)

    def __len__(self) -> int:
        return len(self.points)

    def sample(self, batch_size: int) -> tuple[torch.Tensor, None]:
        """Draw a batch: ``(points float32 (B, 2), None)``, indices uniform with replacement."""
        index = torch.randint(
            len(self.points), (batch_size,), generator=self.generator, device=self.points.device
        )
        return self.points[index], None
