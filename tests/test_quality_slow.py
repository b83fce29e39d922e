"""The foundation's quality goal, end to end (slow: about 11 minutes; run with ``pytest -m slow``).

``train dcgan --minutes 5`` must reach at most half the classifier-feature Fréchet distance of
the textbook loop trained for the same 5 minutes, with all 10 classes present. The figures
recorded in benchmarks/README.md come from the same code (benchmarks/dcgan_vs_textbook.py).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_five_minute_dcgan_halves_the_textbook_distance(tmp_path):
    from dcgan_vs_textbook import run_textbook
    from quality import train_and_sample
    from score import score_samples

    run_textbook(5.0, tmp_path, seed=0)
    train_and_sample("dcgan", 5.0, tmp_path, seed=0)
    textbook = score_samples(np.load(tmp_path / "textbook.npz")["images"])
    ours = score_samples(np.load(tmp_path / "dcgan.npz")["images"])
    assert ours["classes_present"] == 10, ours["classes"]
    assert ours["fd_classifier"] <= 0.5 * textbook["fd_classifier"], (ours, textbook)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_five_minute_cgan_draws_the_class_asked_for(tmp_path):
    from quality import train_and_sample
    from score import score_samples

    train_and_sample("cgan", 5.0, tmp_path, seed=0)
    samples = np.load(tmp_path / "cgan.npz")
    result = score_samples(samples["images"], samples["labels"])
    assert result["classes_present"] == 10, result["classes"]
    assert result["class_accuracy"] >= 0.85, result
