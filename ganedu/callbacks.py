"""Callbacks for :func:`ganedu.train.train`: progress, live plot, logs, checkpoints, sample grids, snapshots."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ganedu import grids
from ganedu.errors import TrainingDiverged
from ganedu.files import append_line
from ganedu.gan import GAN
from ganedu.health import sample_problem
from ganedu.train import Callback, save_run

TRANSLATION_ROWS = ("a", "G(a)", "F(G(a))", "b", "F(b)", "G(F(b))")
"""The rows of a translation model's samples (:meth:`ganedu.models.cyclegan.CycleGAN.sample`)."""


class History(Callback):
    """Keeps every ``every``-th step's losses in ``self.values`` (a dict of lists with a "step" key)."""

    def __init__(self, every: int = 1):
        self.every = every
        self.values: dict[str, list[float]] = defaultdict(list)

    def on_step(self, gan: GAN, logs: dict[str, float]) -> None:
        if gan.step % self.every == 0:
            self.values["step"].append(gan.step)
            for k, v in logs.items():
                self.values[k].append(v)


class Progress(Callback):
    """A tqdm.auto progress bar (a widget in a notebook) showing the latest losses.

    A run that ends before ``total`` (its time budget ran out) ends as a finished bar that
    says so, not as an unfinished one, which a notebook draws red like an error.
    """

    def __init__(self, total: int | None = None, every: int = 10):
        self.total, self.every, self.bar = total, every, None

    def on_train_start(self, gan: GAN) -> None:
        self.bar = tqdm(total=self.total, initial=gan.step, unit="step", dynamic_ncols=True, mininterval=1.0)

    def on_step(self, gan: GAN, logs: dict[str, float]) -> None:
        self.bar.update(1)
        if gan.step % self.every == 0:
            self.bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items()}, refresh=False)

    def on_train_end(self, gan: GAN) -> None:
        if self.bar.total is not None and self.bar.n < self.bar.total:
            self.bar.set_description(
                f"stopped at the time budget after {gan.step:,} of {self.bar.total:,} steps"
            )
            self.bar.total = self.bar.n
            container = getattr(self.bar, "container", None)  # a notebook widget keeps its own maximum
            if container is not None:
                container.children[1].max = self.bar.n
            self.bar.refresh()
        self.bar.close()


class LivePlot(History):
    """Loss curves beside a grid from a fixed z, redrawn in place every ``every`` steps.

    A translation model (one with ``preview`` inputs, :class:`ganedu.models.cyclegan.CycleGAN`)
    shows its six labelled rows instead: a, G(a), F(G(a)), b, F(b), G(F(b)).
    In a notebook the figure updates in its own output; elsewhere it is drawn once at the end.
    """

    def __init__(self, every: int = 100, n: int = 64, seed: int = 0, keys=("loss_D", "loss_G")):
        super().__init__(every=1)
        self.plot_every, self.n, self.seed, self.keys = every, n, seed, keys
        self.handle = None

    def _draw(self, gan: GAN):
        import matplotlib.pyplot as plt  # here, not at the top: `ganedu train` never draws

        from ganedu import viz

        fig, (ax_loss, ax_img) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1.4, 1]})
        smooth = max(1, len(self.values.get("step", [])) // 50)
        viz.plot_losses(
            self.values, ax=ax_loss, keys=[k for k in self.keys if k in self.values], smooth=smooth
        )
        ax_loss.set_title("losses")
        images = gan.sample(self.n, seed=self.seed)
        if getattr(gan, "preview", None) is not None:  # a translation model: six rows of fixed inputs
            k = len(images) // len(TRANSLATION_ROWS)
            viz.show_grid(
                images, nrow=k, ax=ax_img, title=f"fixed inputs, step {gan.step}", row_labels=TRANSLATION_ROWS
            )
        else:
            viz.show_grid(images, ax=ax_img, title=f"fixed z, step {gan.step}")
        fig.tight_layout()
        return fig

    def _show(self, gan: GAN) -> None:
        import matplotlib.pyplot as plt

        fig = self._draw(gan)
        try:
            from IPython import get_ipython
            from IPython.display import display

            in_notebook = get_ipython() is not None
        except ImportError:
            in_notebook = False
        if in_notebook:
            if self.handle is None:
                self.handle = display(fig, display_id=True)
            else:
                self.handle.update(fig)
        plt.close(fig)

    def on_step(self, gan: GAN, logs: dict[str, float]) -> None:
        super().on_step(gan, logs)
        if gan.step % self.plot_every == 0:
            self._show(gan)

    def on_train_end(self, gan: GAN) -> None:
        self._show(gan)


class WassersteinEstimate(Callback):
    r"""Adds the critic's estimate of :math:`K \cdot W_1` to the logs as ``"W estimate"``.

    A Wasserstein critic minimises ``loss_D`` :math:`= \mathbb{E}[f(G(z))] - \mathbb{E}[f(x)]`
    (penalties are logged apart), so :math:`-` ``loss_D`` estimates :math:`K \cdot W_1(P_r, P_g)`
    for a K-Lipschitz f. List it before the callbacks that should see the value (bar, plot).
    """

    def on_step(self, gan: GAN, logs: dict[str, float]) -> None:
        logs["W estimate"] = -logs["loss_D"]


class Snapshots(Callback):
    """Samples of one fixed z over training: the history of the same codes.

    Takes ``n`` samples (seed ``seed``) at the start, every ``every`` steps, at each step in
    ``at`` and at the end (``ends=False`` skips start and end). ``measure(gan)``, when given, is
    called at the same moments, e.g. to score the model as it was then; ``n=0`` only measures.

    Attributes:
        frames: ``[(step, images), ...]`` in the order taken, one per step.
        measured: ``{step: measure(gan)}``.
    """

    def __init__(
        self,
        every: int | None = None,
        n: int = 16,
        seed: int = 0,
        at: Iterable[int] = (),
        measure: Callable[[GAN], object] | None = None,
        ends: bool = True,
    ):
        self.every, self.n, self.seed, self.at = every, n, seed, set(at)
        self.measure, self.ends = measure, ends
        self.frames: list[tuple[int, torch.Tensor]] = []
        self.measured: dict[int, object] = {}
        self.last_step: int | None = None

    def _take(self, gan: GAN) -> None:
        if self.last_step == gan.step:  # the end of a run that just took one
            return
        self.last_step = gan.step
        if self.n:
            self.frames.append((gan.step, gan.sample(self.n, seed=self.seed)))
        if self.measure is not None:
            self.measured[gan.step] = self.measure(gan)

    def on_train_start(self, gan: GAN) -> None:
        if self.ends:
            self._take(gan)

    def on_step(self, gan: GAN, logs: dict[str, float]) -> None:
        if gan.step in self.at or (self.every and gan.step % self.every == 0):
            self._take(gan)

    def on_train_end(self, gan: GAN) -> None:
        if self.ends:
            self._take(gan)


class JsonlLog(Callback):
    """Appends ``{"step", "time", losses...}`` every ``every`` steps to a JSON-lines file, a whole
    line at a time (:func:`ganedu.files.append_line`: a full disk leaves no half line)."""

    def __init__(self, path, every: int = 10):
        self.path, self.every = Path(path), every
        self.start = time.monotonic()

    def on_step(self, gan: GAN, logs: dict[str, float]) -> None:
        if gan.step % self.every == 0:
            line = json.dumps({"step": gan.step, "time": round(time.monotonic() - self.start, 3), **logs})
            append_line(self.path, line)


class Checkpointer(Callback):
    """Writes a resumable checkpoint every ``every`` steps and at the end, atomically.

    ``last_step`` is the step of the newest checkpoint on disk (``None`` before the first).
    """

    def __init__(self, path, data, every: int = 500, extra: dict | None = None):
        self.path, self.data, self.every, self.extra = Path(path), data, every, extra
        self.last_step: int | None = None

    def _save(self, gan: GAN) -> None:
        save_run(self.path, gan, self.data, self.extra)
        self.last_step = gan.step

    def on_step(self, gan: GAN, logs: dict[str, float]) -> None:
        if gan.step % self.every == 0:
            self._save(gan)

    def on_train_end(self, gan: GAN) -> None:
        if self.last_step != gan.step:
            self._save(gan)


class SampleGrid(Callback):
    """Saves a PNG grid from a fixed z every ``every`` steps (``samples_<step>.png``) and at the end.

    Samples that are NaN or one flat colour (:func:`ganedu.health.sample_problem`) stop training
    with :class:`ganedu.errors.TrainingDiverged` instead of being drawn.
    """

    def __init__(self, out_dir, every: int = 500, n: int = 64, seed: int = 0):
        self.out_dir, self.every, self.n, self.seed = Path(out_dir), every, n, seed

    def _save(self, gan: GAN) -> None:
        images = gan.sample(self.n, seed=self.seed)
        problem = sample_problem(images)
        if problem:  # a grid of NaNs would be written as noise; a flat one says nothing
            raise TrainingDiverged(
                f"at step {gan.step} the generator's samples are broken ({problem}); no grid was written. "
                "Try a lower learning rate, a gradient penalty, or fp32 precision"
            )
        grids.save_grid(images, self.out_dir / f"samples_{gan.step:06d}.png", nrow=8)

    def on_step(self, gan: GAN, logs: dict[str, float]) -> None:
        if gan.step % self.every == 0:
            self._save(gan)

    def on_train_end(self, gan: GAN) -> None:
        self._save(gan)
