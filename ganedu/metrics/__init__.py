"""How good are the samples? FID, KID, IS, precision/recall, density/coverage, and their features.

* :func:`frechet_distance` (FID when fed Inception features), :func:`kernel_inception_distance`,
  :func:`inception_score`, :func:`precision_recall`, :func:`density_coverage`: pure functions
  of feature arrays (NumPy or torch), float64 inside.
* :class:`InceptionFeatures`: the TF-2015 Inception network's 2048-d features (published FIDs
  use them); weights via ``python -m ganedu data fetch inception``. Slow on a CPU.
* :class:`ClassifierFeatures`: the project's small Fashion-MNIST classifiers, fast on a CPU;
  their numbers are named "(Fashion-MNIST classifier features)" and are not Inception FIDs.
* :func:`memorisation`: are the samples copies of the training set? Nearest training neighbours
  against the train-to-train distances (FID cannot tell).
* :func:`mode_coverage`: modes covered and high-quality share on the 2D toy mixtures.
* :class:`SampleScorer`: FD in classifier features and the classes present, the chapters' quick score.
* :func:`js_divergence`, :func:`wasserstein_1d`: distances between 1D densities on a grid.
* :func:`evaluate`: samples against a dataset split, real features cached; the CLI's ``eval``.

Importing this package registers the ``inception`` fetcher with :data:`ganedu.data.FETCHERS`.
"""

from ganedu.metrics.classifier import ClassifierFeatures
from ganedu.metrics.divergence import js_divergence, wasserstein_1d
from ganedu.metrics.evaluate import evaluate
from ganedu.metrics.frechet import feature_statistics, frechet_distance, frechet_distance_from_stats
from ganedu.metrics.inception import InceptionFeatures, fetch_inception
from ganedu.metrics.inception_score import inception_score
from ganedu.metrics.kid import kernel_inception_distance
from ganedu.metrics.memorisation import Memorisation, memorisation, nearest_neighbours
from ganedu.metrics.modes import ModeCoverage, mode_coverage
from ganedu.metrics.prdc import density_coverage, precision_recall
from ganedu.metrics.scorer import SampleScore, SampleScorer

__all__ = [
    "ClassifierFeatures",
    "InceptionFeatures",
    "Memorisation",
    "ModeCoverage",
    "SampleScore",
    "SampleScorer",
    "density_coverage",
    "evaluate",
    "feature_statistics",
    "fetch_inception",
    "frechet_distance",
    "frechet_distance_from_stats",
    "inception_score",
    "js_divergence",
    "kernel_inception_distance",
    "memorisation",
    "mode_coverage",
    "nearest_neighbours",
    "precision_recall",
    "wasserstein_1d",
]
