"""Scores for a batch of uint8 Fashion-MNIST samples, shared by the quality benchmarks.

:class:`ganedu.metrics.SampleScorer` against the 10k test images:

- ``fd_classifier``: Fréchet distance between the samples and the test images in the
  penultimate features of ganedu's Fashion-MNIST classifier ("FID (Fashion-MNIST classifier
  features)": not comparable with Inception FID).
- ``classes``: how many samples an *independent* classifier (another architecture and seed)
  puts in each of the 10 classes; ``classes_present`` counts classes with at least 1% of them.
- ``class_accuracy`` (when ``labels`` are given): the share of samples that the independent
  classifier labels as the class they were asked for.
"""

from __future__ import annotations

import numpy as np

from ganedu.metrics import SampleScorer


def score_samples(images: np.ndarray, labels: np.ndarray | None = None) -> dict:
    """The scores above for uint8 samples ``(N, 1, 28|32, 28|32)``, as a JSON-ready dict."""
    score = SampleScorer("fashion-mnist")(images)
    out = {
        "n": score.n,
        "fd_classifier": round(score.fd, 3),
        "classes": score.counts.tolist(),
        "classes_present": score.classes_present,
    }
    if labels is not None:
        out["class_accuracy"] = round(float((score.predicted == labels).mean()), 4)
    return out
