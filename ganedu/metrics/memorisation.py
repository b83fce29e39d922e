r"""Memorisation: are the samples new images, or copies of the training set?

FID, KID and precision/recall compare *distributions*: a "generator" that returns its training
images verbatim scores as well as the data itself. The check here looks at *single samples*
(as in Webster et al. 2019, "Detecting Overfitting of Deep Generative Networks via Latent
Recovery", and Carlini et al. 2023, "Extracting Training Data from Diffusion Models"): the
distance from each generated sample :math:`y_j` to its nearest training image,

.. math:: d_j = \min_i \lVert y_j - x_i \rVert,

compared with how far a training image lies from its nearest *other* training image,

.. math:: r_i = \min_{k \ne i} \lVert x_i - x_k \rVert \quad\text{(the image itself excluded)}.

A new image from the data distribution lies about as far from the training set as a training
image from the others (:math:`d \approx r`); a copy lies at :math:`d \approx 0`. Two numbers:

* ``median_ratio`` = :math:`\operatorname{median}_j d_j / \operatorname{median}_i r_i`: about 1
  for fresh samples, near 0 for copies;
* ``copy_fraction``: the share of samples with :math:`d_j < \tau\,\operatorname{median}_i r_i`
  (τ = ``copy_threshold``, 0.5): samples closer to a training image than training images are
  to each other.

Features may be pixels (flattened) or the classifier's features; distances in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganedu.metrics.frechet import as_float64

BLOCK_ROWS = 1024


def _rows(features) -> torch.Tensor:
    """(N, D) features or (N, C, H, W) images as float64 rows (N, D) on the CPU."""
    x = features.detach().cpu() if isinstance(features, torch.Tensor) else torch.as_tensor(features)
    return torch.from_numpy(as_float64(x.reshape(len(x), -1)))


def nearest_neighbours(queries, reference, exclude_self: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Each query's nearest reference row: (distances (N,) float64, indices (N,) int64).

    ``exclude_self=True`` when ``queries`` *is* ``reference``: row i may not pick itself.
    Arrays are (N, D) features or (N, C, H, W) images (flattened).
    """
    q, r = _rows(queries), _rows(reference)
    if exclude_self and len(q) != len(r):
        raise ValueError("exclude_self needs the queries to be the reference set itself")
    distances, indices = [], []
    for start in range(0, len(q), BLOCK_ROWS):
        block = torch.cdist(q[start : start + BLOCK_ROWS], r)  # (b, M)
        if exclude_self:
            rows = torch.arange(block.shape[0])
            block[rows, rows + start] = float("inf")
        d, i = block.min(dim=1)
        distances.append(d)
        indices.append(i)
    return torch.cat(distances), torch.cat(indices)


@dataclass
class Memorisation:
    """The memorisation check's result (see the module docstring).

    Attributes:
        median_ratio: median nearest-train distance of the samples over the train-to-train median.
        copy_fraction: share of samples closer than ``copy_threshold`` × the train-to-train median.
        flagged: ``copy_fraction`` above ``flag_fraction``: the samples look copied.
        sample_distances: :math:`d_j`, (N,); ``nearest``: the index of each sample's nearest training image.
        train_distances: :math:`r_i`, (M,).
    """

    median_ratio: float
    copy_fraction: float
    flagged: bool
    sample_distances: torch.Tensor
    nearest: torch.Tensor
    train_distances: torch.Tensor


def memorisation(samples, train, copy_threshold: float = 0.5, flag_fraction: float = 0.1) -> Memorisation:
    """The memorisation check of ``samples`` (N, ...) against the ``train`` set (M, ...) they were trained on.

    Args:
        samples, train: features (N, D) or images (N, C, H, W), NumPy or torch.
        copy_threshold: τ, a sample is a near-copy when :math:`d_j < τ\\,\\operatorname{median}(r)`.
        flag_fraction: flag the samples when more than this share are near-copies.
    """
    d, nearest = nearest_neighbours(samples, train)
    r, _ = nearest_neighbours(train, train, exclude_self=True)
    typical = r.median()
    copy_fraction = float((d < copy_threshold * typical).double().mean())
    return Memorisation(
        median_ratio=float(d.median() / typical),
        copy_fraction=copy_fraction,
        flagged=copy_fraction > flag_fraction,
        sample_distances=d,
        nearest=nearest,
        train_distances=r,
    )
