"""Callbacks a chapter leans on: snapshots of a fixed z, the W estimate, the progress bar, the CycleGAN grid."""

import matplotlib

matplotlib.use("Agg")

import torch

from ganedu import callbacks
from ganedu.callbacks import TRANSLATION_ROWS, LivePlot, Progress, Snapshots, WassersteinEstimate
from ganedu.data import ToyBatches
from ganedu.models import RunConfig, build
from ganedu.models.gan import toy_gan
from ganedu.train import Callback, train


class Recorder(Callback):
    def __init__(self):
        self.seen = []

    def on_step(self, gan, logs):
        self.seen.append(dict(logs))


def test_snapshots_take_the_same_codes_at_start_every_k_steps_and_end():
    gan, toy = toy_gan(), ToyBatches("ring")
    snapshots = Snapshots(every=3, n=5)
    train(gan, toy, steps=7, batch_size=16, callbacks=[snapshots])
    assert [step for step, _ in snapshots.frames] == [0, 3, 6, 7]
    assert all(images.shape == (5, 2) for _, images in snapshots.frames)
    torch.testing.assert_close(snapshots.frames[-1][1], gan.sample(5, seed=0))


def test_snapshots_measure_only_at_the_listed_steps_when_ends_are_off():
    gan, toy = toy_gan(), ToyBatches("ring")
    snapshots = Snapshots(at=[2, 4], n=3, measure=lambda g: g.step * 10, ends=False)
    train(gan, toy, steps=5, batch_size=16, callbacks=[snapshots])
    assert [step for step, _ in snapshots.frames] == [2, 4]
    assert snapshots.measured == {2: 20, 4: 40}


def test_wasserstein_estimate_is_minus_the_critic_loss_and_later_callbacks_see_it():
    gan, toy = toy_gan("wgan-gp"), ToyBatches("ring")
    recorder = Recorder()
    train(gan, toy, steps=2, batch_size=16, callbacks=[WassersteinEstimate(), recorder])
    for logs in recorder.seen:
        assert logs["W estimate"] == -logs["loss_D"]
        assert "GP" in logs  # the penalty is logged apart, not inside the estimate


def test_progress_bar_stopped_by_the_time_budget_ends_finished_and_says_why():
    gan, toy = toy_gan(), ToyBatches("ring")
    progress = Progress(total=10**6)
    train(gan, toy, steps=10**6, minutes=0.01, batch_size=16, callbacks=[progress])
    assert 0 < gan.step < 10**6
    assert progress.bar.total == progress.bar.n == gan.step  # a full bar, not an unfinished (red) one
    assert f"stopped at the time budget after {gan.step:,} of 1,000,000 steps" in progress.bar.desc


def test_progress_bar_that_reaches_its_target_keeps_its_plain_description():
    gan, toy = toy_gan(), ToyBatches("ring")
    progress = Progress(total=3)
    train(gan, toy, steps=3, batch_size=16, callbacks=[progress])
    assert progress.bar.n == progress.bar.total == 3 and "stopped" not in progress.bar.desc


def test_live_plot_of_a_cyclegan_shows_six_labelled_rows_of_its_preview():
    gan, _ = build(
        RunConfig("cyclegan", device="cpu", batch_size=2, options={"ngf": 8, "ndf": 8, "n_blocks": 1})
    )
    fig = LivePlot(n=48)._draw(gan)
    grid_ax = fig.axes[1]
    assert [t.get_text() for t in grid_ax.get_yticklabels()] == list(TRANSLATION_ROWS)
    width = grid_ax.get_images()[0].get_array().shape[1]
    assert width == 8 * (32 + 2) + 2  # eight images per row, as CycleGAN.sample gives them
    assert grid_ax.get_title().startswith("fixed inputs")


def test_snapshots_with_no_samples_only_measure():
    gan, toy = toy_gan(), ToyBatches("ring")
    snapshots = Snapshots(every=2, n=0, measure=lambda g: g.step)
    train(gan, toy, steps=3, batch_size=16, callbacks=[snapshots])
    assert snapshots.frames == [] and snapshots.measured == {0: 0, 2: 2, 3: 3}


def test_notebook_progress_widget_stopped_by_the_time_budget_ends_full_and_green(monkeypatch):
    from tqdm import notebook

    monkeypatch.setattr(callbacks, "tqdm", notebook.tqdm)
    gan, toy = toy_gan(), ToyBatches("ring")
    progress = Progress(total=10**6)
    train(gan, toy, steps=10**6, minutes=0.01, batch_size=16, callbacks=[progress])
    _, widget, _ = progress.bar.container.children
    assert widget.value == widget.max == gan.step
    assert widget.bar_style == "success"  # not "danger", the red of a crash


def test_sample_grid_png_holds_the_images_and_train_never_imports_pyplot(tmp_path):
    """The CLI's grids are written with Pillow: exact pixels, and no 0.7 s pyplot import at start-up."""
    import subprocess
    import sys

    import numpy as np
    from PIL import Image

    from ganedu.grids import save_grid

    images = torch.full((4, 1, 28, 28), -1.0)  # black...
    images[1] = 1.0  # ...but the second image white
    save_grid(images, tmp_path / "g.png", nrow=2)
    png = np.asarray(Image.open(tmp_path / "g.png"))
    assert png.shape == (2 * 30 + 2, 2 * 30 + 2) and png.dtype == np.uint8
    assert png[2:30, 2:30].max() == 0 and png[2:30, 32:60].min() == 255 and png[0, :].min() == 255
    rgb = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
    rgb[:, 0] = 255  # red
    save_grid(rgb, tmp_path / "rgb.png")
    assert tuple(np.asarray(Image.open(tmp_path / "rgb.png"))[3, 3]) == (255, 0, 0)

    code = "import sys, ganedu.callbacks, ganedu.train; print(sorted(m for m in sys.modules if m.startswith('matplotlib')))"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0 and fresh.stdout.strip() == "[]", fresh.stdout + fresh.stderr
