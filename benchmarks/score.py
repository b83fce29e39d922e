"""Scores for a batch of uint8 Fashion-MNIST samples, shared by the quality benchmarks.

- ``fd_classifier``: Fréchet distance between the samples and the 10k test images in the
  penultimate features of ganedu's Fashion-MNIST classifier ("FID (Fashion-MNIST classifier
  features)": not comparable with Inception FID).
- ``classes``: how many samples an *independent* classifier (another architecture and seed)
  puts in each of the 10 classes; ``classes_present`` counts classes with at least 1% of them.
- ``class_accuracy`` (when ``labels`` are given): the share of samples that the independent
  classifier labels as the class they were asked for.
"""

from __future__ import annotations

import numpy as np
import torch

from ganedu.data import load_dataset


def score_samples(images: np.ndarray, labels: np.ndarray | None = None) -> dict:
    from ganedu.metrics import ClassifierFeatures, frechet_distance

    fake = torch.from_numpy(images)
    real, _ = load_dataset("fashion-mnist", "test")
    feats = ClassifierFeatures("fashion-mnist")
    judge = ClassifierFeatures("fashion-mnist", which="independent")
    predicted = judge.predict(fake).cpu().numpy()
    counts = np.bincount(predicted, minlength=10)
    out = {
        "n": len(images),
        "fd_classifier": round(float(frechet_distance(feats.features(real), feats.features(fake))), 3),
        "classes": counts.tolist(),
        "classes_present": int((counts >= 0.01 * len(images)).sum()),
    }
    if labels is not None:
        out["class_accuracy"] = round(float((predicted == labels).mean()), 4)
    return out
