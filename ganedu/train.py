"""The training loop: one readable loop, everything else in callbacks.

::

    gan = recipes.build("dcgan").gan          # or a GAN(...) you assemble yourself
    data = ImageBatches(images, labels, device=gan.device, pad_to=32)
    train(gan, data, steps=2000, callbacks=[Progress(), LivePlot(gan)])

Each step draws real batches by indexing tensors already on the device, runs
``n_critic`` discriminator updates and one generator update (:meth:`GAN.train_step`), checks
that every loss is finite, and hands the losses to the callbacks (progress bar, live plot,
log file, checkpoints, sample grids). A run stops after ``steps`` steps in total or after
``minutes`` of wall time, whichever comes first; a resumed run continues from ``gan.step``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import torch

from ganedu import distributed
from ganedu.checkpoint import load_checkpoint, save_checkpoint
from ganedu.errors import TrainingDiverged
from ganedu.gan import GAN


class Callback:
    """Hooks called by :func:`train`. Override the ones you need."""

    def on_train_start(self, gan: GAN) -> None: ...

    def on_step(self, gan: GAN, logs: dict[str, float]) -> None: ...

    def on_train_end(self, gan: GAN) -> None: ...


def train(
    gan: GAN,
    data,
    *,
    steps: int | None = None,
    minutes: float | None = None,
    batch_size: int = 64,
    callbacks: Sequence[Callback] = (),
) -> GAN:
    """Train ``gan`` on batches from ``data`` until ``gan.step == steps`` or ``minutes`` have passed.

    Args:
        gan: the bundle to train (its ``step`` counts from where a checkpoint left it).
        data: anything with ``sample(batch_size) -> (images, labels)``, e.g. ``ImageBatches``.
        steps: total number of generator steps to reach; ``None`` for no limit (then give ``minutes``).
        minutes: wall-clock budget for this call; ``None`` for no limit.
        batch_size: real images per discriminator update.
        callbacks: :class:`Callback` objects, called in order after every step.

    Returns:
        The same ``gan``, trained.

    Raises:
        TrainingDiverged: a loss became NaN or infinite. Nothing from that step is saved, so the
            last checkpoint written before it is the last good one.
    """
    if steps is None and minutes is None:
        raise ValueError("give steps=, minutes= or both, so the loop knows when to stop")
    deadline = time.monotonic() + 60 * minutes if minutes is not None else math.inf
    for cb in callbacks:
        cb.on_train_start(gan)
    while (steps is None or gan.step < steps) and not _time_is_up(deadline):
        logs = gan.train_step(data, batch_size)
        gan.step += 1
        # under torchrun: the mean over the ranks, i.e. the losses of the global batch
        values = distributed.mean_over_ranks(torch.stack([v.float() for v in logs.values()]))
        if not torch.isfinite(values).all():  # the NaN/Inf guard
            bad = ", ".join(f"{k} = {float(v):.4g}" for k, v in zip(logs, values, strict=True))
            raise TrainingDiverged(
                f"training diverged at step {gan.step} ({bad}); nothing from this step was saved, "
                "the last checkpoint written before it is the last good one. Try a lower learning "
                "rate, a gradient penalty, or fp32 precision"
            )
        logs = dict(zip(logs, values.tolist(), strict=True))
        for cb in callbacks:
            cb.on_step(gan, logs)
    for cb in callbacks:
        cb.on_train_end(gan)
    return gan


def _time_is_up(deadline: float) -> bool:
    """Past the deadline; under torchrun, past it on any rank, so every rank stops at the same step."""
    return deadline < math.inf and distributed.any_rank(time.monotonic() >= deadline)


def checkpoint_state(gan: GAN, data) -> dict:
    """All a run needs to continue exactly: the bundle and every random number generator."""
    state = {"gan": gan.state_dict(), "torch_rng": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    if getattr(data, "generator", None) is not None:
        state["data_rng"] = data.generator.get_state()
    return state


def restore(gan: GAN, data, state: dict) -> None:
    """Put ``gan`` and ``data`` back in the state :func:`checkpoint_state` recorded."""
    gan.load_state_dict(state["gan"])
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    if "data_rng" in state and getattr(data, "generator", None) is not None:
        data.generator.set_state(state["data_rng"])


def save_run(path, gan: GAN, data, extra: dict | None = None):
    """Write a resumable checkpoint of ``gan`` and ``data`` to ``path`` atomically."""
    return save_checkpoint(path, {**checkpoint_state(gan, data), **(extra or {})})


def resume(path, gan: GAN, data) -> dict:
    """Load the checkpoint at ``path`` into ``gan`` and ``data``; returns the checkpoint dict."""
    state = load_checkpoint(path, map_location="cpu")  # RNG states must stay on the CPU
    restore(gan, data, state)
    return state
