"""Mode coverage on the toy mixtures: all, one, none, and the 1% threshold."""

import pytest
import torch

from ganedu.data import TOY_STD, toy_centers, toy_mixture
from ganedu.metrics import mode_coverage


@pytest.mark.parametrize(("kind", "k"), [("ring", 8), ("grid", 25)])
def test_real_samples_cover_every_mode(kind, k):
    points, _ = toy_mixture(kind, 10_000, seed=1)
    result = mode_coverage(points, toy_centers(kind), TOY_STD[kind])
    assert (result.covered, result.total) == (k, k)
    assert result.high_quality > 0.98  # 3σ holds 98.9% of a 2D Gaussian
    assert int(result.counts.sum()) == round(result.high_quality * 10_000)


def test_a_collapsed_generator_covers_one_mode_and_a_blurry_one_none():
    centers = toy_centers("ring")
    one = centers[3] + 0.02 * torch.randn(1000, 2)
    result = mode_coverage(one, centers, 0.02)
    assert result.covered == 1 and result.counts.argmax() == 3 and result.high_quality > 0.95
    blur = 5 * torch.randn(1000, 2) + 10
    result = mode_coverage(blur, centers, 0.02)
    assert result.covered == 0 and result.high_quality == 0.0


def test_a_mode_below_the_share_threshold_is_not_covered():
    centers = toy_centers("ring")
    points = torch.cat([centers[0].expand(995, 2), centers[1].expand(5, 2)])  # 0.5% at mode 1
    assert mode_coverage(points, centers, 0.02).covered == 1
    assert mode_coverage(points, centers, 0.02, min_share=0.005).covered == 2


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        mode_coverage(torch.zeros(5, 3), toy_centers("ring"), 0.02)
    with pytest.raises(ValueError, match=r"\(K, 2\)"):
        mode_coverage(torch.zeros(5, 2), toy_centers("ring").flatten(), 0.02)


def test_plot_coverage_titles_the_count_and_keeps_far_samples_on_the_frame():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ganedu import viz
    from ganedu.data import ToyBatches

    ring = ToyBatches("ring", n=4000)
    collapsed = torch.cat([ring.centers[0] + 0.01 * torch.randn(1990, 2), torch.full((10, 2), 50.0)])
    fig, ax = plt.subplots()
    result = viz.plot_coverage(collapsed, ring, ax=ax, title="collapsed")
    assert (result.covered, result.total) == (1, 8)
    assert ax.get_title() == f"collapsed\n{result}"
    lim = 1.5 * ring.centers.abs().max().item()
    drawn = ax.collections[1].get_offsets()  # the samples, after the data
    assert len(drawn) == 2000 and abs(drawn).max() == pytest.approx(lim)
    plt.close(fig)
