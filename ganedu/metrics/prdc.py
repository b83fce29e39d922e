"""Precision and recall (quality and coverage), density and coverage, from k-nearest neighbours.

Each set of features is turned into a "manifold": the union of balls around its points,
each ball's radius the distance to the point's k-th nearest neighbour in its own set (the
point itself excluded). With real features X (N of them) and fake features Y (M):

* precision (Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing
  Generative Models"): the share of fakes inside the real manifold,
  ``1/M Σⱼ 1[∃i: ‖yⱼ − xᵢ‖ ≤ NND_k(xᵢ)]``, and recall, the share of reals inside the
  fake manifold, ``1/N Σᵢ 1[∃j: ‖xᵢ − yⱼ‖ ≤ NND_k(yⱼ)]``.
* density (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative
  Models"): how many real balls hold each fake, ``1/(kM) Σⱼ Σᵢ 1[‖yⱼ − xᵢ‖ ≤ NND_k(xᵢ)]``
  (not bounded by 1), and coverage, the share of real balls that hold at least one fake,
  ``1/N Σᵢ 1[∃j: ‖yⱼ − xᵢ‖ ≤ NND_k(xᵢ)]``.

Balls are closed (≤), as in Kynkäänniemi et al.'s code; the ``prdc`` package uses open balls
(<): the two differ only on exact ties. Distances come from ``torch.cdist`` in float64, a
block of rows at a time, so 10k x 10k features fit in memory.
"""

from __future__ import annotations

import torch

from ganedu.metrics.frechet import as_float64

BLOCK_ROWS = 1024


def _rows(features) -> torch.Tensor:
    return torch.from_numpy(as_float64(features))


def _blocks(n: int):
    return (slice(i, i + BLOCK_ROWS) for i in range(0, n, BLOCK_ROWS))


def kth_neighbour_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each row of ``x`` (N, D) to its k-th nearest other row: (N,) float64.

    The point itself (distance 0) is the first of the k+1 smallest distances and is skipped;
    a duplicate of the point counts as a neighbour at distance 0.
    """
    if not 1 <= k < len(x):
        raise ValueError(f"k={k} needs 1 <= k < number of points ({len(x)})")
    return torch.cat(
        [torch.cdist(x[rows], x).topk(k + 1, dim=1, largest=False).values[:, k] for rows in _blocks(len(x))]
    )


def _real_balls(real: torch.Tensor, fake: torch.Tensor, k: int, fake_radii: torch.Tensor | None):
    """One blocked pass over the real x fake distances.

    Returns ``(hits, covered, recalled)``: per fake, how many real balls hold it; per real,
    whether its ball holds a fake; per real, whether it lies in some fake ball (``None``
    when ``fake_radii`` is not given).
    """
    real_radii = kth_neighbour_radii(real, k)
    hits = torch.zeros(len(fake), dtype=torch.float64)
    covered, recalled = [], []
    for rows in _blocks(len(real)):
        distances = torch.cdist(real[rows], fake)  # (block, M)
        inside = distances <= real_radii[rows, None]
        hits += inside.sum(dim=0)
        covered.append(inside.any(dim=1))
        if fake_radii is not None:
            recalled.append((distances <= fake_radii[None, :]).any(dim=1))
    return hits, torch.cat(covered), torch.cat(recalled) if recalled else None


def precision_recall(real, fake, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-th neighbour radii.

    ``precision = 1/M Σⱼ 1[∃i: ‖yⱼ − xᵢ‖ ≤ NND_k(xᵢ)]``,
    ``recall = 1/N Σᵢ 1[∃j: ‖xᵢ − yⱼ‖ ≤ NND_k(yⱼ)]``.

    Args:
        real: real features ``(N, D)``; fake: generated features ``(M, D)`` (NumPy or torch).
        k: the neighbour that sets each ball's radius (the paper uses 3).

    Returns:
        ``(precision, recall)``, each in [0, 1].
    """
    real, fake = _rows(real), _rows(fake)
    hits, _, recalled = _real_balls(real, fake, k, kth_neighbour_radii(fake, k))
    return float((hits > 0).double().mean()), float(recalled.double().mean())


def density_coverage(real, fake, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020), from real k-th neighbour balls only.

    ``density = 1/(kM) Σⱼ Σᵢ 1[‖yⱼ − xᵢ‖ ≤ NND_k(xᵢ)]``,
    ``coverage = 1/N Σᵢ 1[∃j: ‖yⱼ − xᵢ‖ ≤ NND_k(xᵢ)]``.

    Args:
        real: real features ``(N, D)``; fake: generated features ``(M, D)`` (NumPy or torch).
        k: the neighbour that sets each real ball's radius (the paper uses 5).

    Returns:
        ``(density, coverage)``: density around 1 when fakes are distributed like reals,
        coverage in [0, 1].
    """
    real, fake = _rows(real), _rows(fake)
    hits, covered, _ = _real_balls(real, fake, k, None)
    return float(hits.sum() / (k * len(fake))), float(covered.double().mean())
