"""The training loop: one readable loop, everything else in callbacks.

::

    gan, data = ganedu.models.build(RunConfig("dcgan"))   # or a GAN(...) you assemble yourself
    train(gan, data, steps=2000, callbacks=[Progress(), LivePlot()])

Each step asks the bundle for one training step (:meth:`ganedu.gan.GAN.train_step`:
``n_critic`` discriminator updates on real batches drawn by indexing tensors already on the
device, one generator update, the EMA update), checks that every loss is finite, and hands
the losses to the callbacks (progress bar, live plot, log file, checkpoints, sample grids).
A run stops after ``steps`` steps in total, after ``minutes`` of wall time, or when a
callback asks it to; a resumed run continues from ``gan.step``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import torch

from ganedu.checkpoint import load_checkpoint, save_checkpoint
from ganedu.errors import TrainingDiverged
from ganedu.health import check_healthy
from ganedu.nets.layers import minibatch_group_sizes, refuse_undivided_batch
from ganedu.report import record
from ganedu.threads import ThreadGovernor


class Callback:
    """Hooks called by :func:`train`. Override the ones you need."""

    def on_train_start(self, gan) -> None: ...

    def on_step(self, gan, logs: dict[str, float]) -> None: ...

    def should_stop(self, gan) -> bool:
        """True to end training after this step (e.g. a budget shared by several processes)."""
        return False

    def on_train_end(self, gan) -> None: ...


def train(gan, data, *, steps: int | None = None, minutes: float | None = None, batch_size: int = 64,
          callbacks: Sequence[Callback] = (), adapt_threads: bool = True):  # fmt: skip
    """Train ``gan`` on batches from ``data`` until ``gan.step == steps`` or ``minutes`` have passed.

    Args:
        gan: the bundle to train (its ``step`` counts from where a checkpoint left it).
        data: anything with ``sample(batch_size) -> (images, labels)``, e.g. ``ImageBatches``.
        steps: total number of generator steps to reach; ``None`` for no limit (then give ``minutes``).
        minutes: wall-clock budget for this call; ``None`` for no limit.
        batch_size: real images per discriminator update.
        callbacks: :class:`Callback` objects, called in order after every step.
        adapt_threads: on a CPU, train on the cores other programs leave free
            (:class:`ganedu.threads.ThreadGovernor`; ``OMP_NUM_THREADS`` turns it off). The
            thread count in force before the call is restored when it returns.

    Returns:
        The same ``gan``, trained.

    Raises:
        TrainingDiverged: a loss became NaN or infinite. Nothing from that step is saved, so the
            last checkpoint written before it is the last good one.
    """
    if steps is None and minutes is None and not callbacks:
        raise ValueError("give steps=, minutes= or both, so the loop knows when to stop")
    check_batch_size(gan, batch_size)
    deadline = time.monotonic() + 60 * minutes if minutes is not None else math.inf
    governor = (
        ThreadGovernor() if adapt_threads and ThreadGovernor.wanted(getattr(gan, "device", None)) else None
    )
    first_step, start, logs = gan.step, time.monotonic(), {}
    try:
        for cb in callbacks:
            cb.on_train_start(gan)
        while (steps is None or gan.step < steps) and time.monotonic() < deadline:
            logs = _step(gan, data, batch_size)
            for cb in callbacks:
                cb.on_step(gan, logs)
            if any(cb.should_stop(gan) for cb in callbacks):
                break
            if governor is not None:
                governor.poll()
        for cb in callbacks:
            cb.on_train_end(gan)
    finally:
        if governor is not None:
            governor.restore()
    _record(gan, gan.step - first_step, time.monotonic() - start, logs)
    return gan


def _record(gan, steps_done: int, seconds: float, logs: dict[str, float]) -> None:
    """Record the steps reached, steps/s and final losses for instructor mode (:mod:`ganedu.report`)."""
    final = {f"final {name}": value for name, value in logs.items()}
    record(
        f"training {type(gan).__name__}",
        {"steps": gan.step, "steps/s": steps_done / max(seconds, 1e-9), **final},
    )


def _step(gan, data, batch_size: int) -> dict[str, float]:
    """One training step; its losses as floats, after the NaN/Inf guard."""
    try:
        logs = gan.train_step(data, batch_size)
    except RuntimeError as e:  # an optimizer's arithmetic overflowed float32 (a huge learning rate)
        if "overflow" not in str(e):
            raise
        logs = {"overflow": torch.tensor(float("inf"))}
    gan.step += 1
    values = torch.stack([v.detach().float() for v in logs.values()])  # one sync for all losses
    if not torch.isfinite(values).all():  # the NaN/Inf guard
        bad = ", ".join(f"{k} = {float(v):.4g}" for k, v in zip(logs, values, strict=True))
        raise TrainingDiverged(
            f"training diverged at step {gan.step} ({bad}); nothing from this step was saved, "
            "the last checkpoint written before it is the last good one. Try a lower learning "
            "rate, a gradient penalty, or fp32 precision"
        )
    return dict(zip(logs, values.tolist(), strict=True))


def check_batch_size(gan, batch_size: int) -> None:
    """Refuse, before the first step, a ``batch_size`` that D's minibatch-stddev groups do not divide.

    The CLI checks this when it builds a recipe; this catches the same mistake in a notebook,
    ``train(gan, data, batch_size=30)`` with a D whose groups are 4, with one readable message
    instead of a traceback from inside D at the first step.
    """
    D = getattr(gan, "D", None)
    if isinstance(D, torch.nn.Module):
        refuse_undivided_batch(batch_size, minibatch_group_sizes(D), named=f"batch_size={batch_size}")


def checkpoint_state(gan, data) -> dict:
    """All a run needs to continue exactly: the bundle and every random number generator."""
    state = {"gan": gan.state_dict(), "torch_rng": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    if getattr(data, "generator", None) is not None:
        state["data_rng"] = data.generator.get_state()
    return state


def restore(gan, data, state: dict) -> None:
    """Put ``gan`` and ``data`` back in the state :func:`checkpoint_state` recorded (``data`` may be ``None``)."""
    gan.load_state_dict(state["gan"])
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    if "data_rng" in state and getattr(data, "generator", None) is not None:
        data.generator.set_state(state["data_rng"])


def save_run(path, gan, data, extra: dict | None = None):
    """Write a resumable checkpoint of ``gan`` and ``data`` to ``path`` atomically.

    Raises:
        TrainingDiverged: the model is not worth keeping (:func:`ganedu.health.check_healthy`: a
            NaN or infinity in its weights, buffers, EMA or optimizer state, or samples that are
            NaN or one flat colour); the checkpoint already at ``path`` is kept as the last good one.
    """
    check_healthy(gan)
    return save_checkpoint(path, {**checkpoint_state(gan, data), **(extra or {})})


def resume(path, gan, data=None) -> dict:
    """Load the checkpoint at ``path`` into ``gan`` (and ``data``'s generator); returns the checkpoint dict."""
    state = load_checkpoint(path, map_location="cpu")  # RNG states must stay on the CPU
    restore(gan, data, state)
    return state
