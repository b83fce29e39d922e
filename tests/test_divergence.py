"""JS divergence and W1 between 1D densities on a grid: their limits and closed forms."""

import math

import numpy as np
import pytest

from ganedu.metrics import js_divergence, wasserstein_1d

X = np.linspace(-6, 6, 12001)
DX = X[1] - X[0]


def normal(mu, s=0.1):
    return np.exp(-0.5 * ((X - mu) / s) ** 2) / (s * math.sqrt(2 * math.pi))


def test_js_divergence_is_zero_for_equal_densities_and_log_2_for_disjoint_ones():
    assert js_divergence(normal(0.0), normal(0.0), DX) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence(normal(-2.0), normal(2.0), DX) == pytest.approx(math.log(2), rel=1e-6)


def test_js_divergence_is_symmetric_and_grows_with_the_overlap_lost():
    p, q, r = normal(0.0), normal(0.1), normal(0.2)
    assert js_divergence(p, q, DX) == pytest.approx(js_divergence(q, p, DX))
    assert 0 < js_divergence(p, q, DX) < js_divergence(p, r, DX) < math.log(2)


def test_wasserstein_1d_of_a_shifted_density_is_the_shift_even_without_overlap():
    for shift in (0.05, 1.0, 4.0):
        assert wasserstein_1d(normal(0.0), normal(shift), DX) == pytest.approx(shift, rel=1e-3)


def test_densities_on_different_grids_are_refused():
    with pytest.raises(ValueError, match="same grid"):
        js_divergence(np.ones(3), np.ones(4), 1.0)
    with pytest.raises(ValueError, match="same grid"):
        wasserstein_1d(np.ones(3), np.ones(4), 1.0)
