"""Is a model worth keeping? Finite state, and samples that are finite and not one flat colour.

A loss that stays finite does not make a working generator. After a learning rate of 1e30 the
weights can be finite and still so large that every output saturates to the same value, or a
BatchNorm running variance (a buffer, not a parameter) can be infinite, so that the generator in
eval mode, which is how ``sample`` runs it, returns NaN. A checkpoint is the promise that
``python -m ganedu sample`` gives varied images from it; :func:`check_healthy` tests that promise
before a checkpoint is written, on what the checkpoint holds (parameters, buffers, EMA, optimizer
state) and on what it will produce (a few samples from a fixed z, the EMA generator in eval mode).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganedu.errors import TrainingDiverged

PROBE_SAMPLES = 16  # images drawn to test a generator: enough that a working one is never constant
PROBE_SEED = 1234  # a fixed z of its own, apart from the seeds of the grids


def nonfinite_state(state, prefix: str = "") -> list[str]:
    """The names (``models.G.main.1.running_var``) of every floating tensor in ``state`` that holds
    a NaN or an infinity; ``state`` is a (nested) dict or list of tensors, as ``GAN.state_dict()``."""
    bad: list[str] = []
    if isinstance(state, Tensor):
        if (state.is_floating_point() or state.is_complex()) and not torch.isfinite(state).all():
            bad.append(prefix or "tensor")
    elif isinstance(state, dict):
        for key, value in state.items():
            bad += nonfinite_state(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(state, list | tuple):
        for i, value in enumerate(state):
            bad += nonfinite_state(value, f"{prefix}.{i}" if prefix else str(i))
    return bad


def sample_problem(images: Tensor) -> str | None:
    """Why ``images`` (float in [-1, 1], or uint8) are not samples of a working generator, or ``None``.

    Two faults: a NaN or infinity anywhere, and every pixel of every image one value (a flat
    colour: std 0), which is what a saturated generator gives.
    """
    if images.is_floating_point():
        finite = torch.isfinite(images)
        if not finite.all():
            share = 1.0 - finite.float().mean().item()
            return f"{share:.0%} of their pixels are NaN or infinite"
    flat = images.detach().flatten()
    if flat.numel() > 1 and bool((flat == flat[0]).all()):
        return f"every pixel of all {len(images)} is the same value ({flat[0].item():.4g}): one flat colour"
    return None


def check_healthy(gan) -> None:
    """Raise :class:`TrainingDiverged` unless ``gan`` is worth a checkpoint.

    Checks every floating tensor of ``gan.state_dict()`` (weights, buffers such as BatchNorm's
    running statistics, the EMA generator, the optimizers' moments) and :data:`PROBE_SAMPLES`
    samples drawn as ``sample`` draws them. Draws from a generator of its own: the global random
    state, and so exact resume, is untouched.
    """
    bad = nonfinite_state(gan.state_dict())
    if bad:
        shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        raise TrainingDiverged(
            f"at step {gan.step} the model holds NaN or infinite values ({shown}); it was not saved. "
            "Try a lower learning rate, a gradient penalty, or fp32 precision"
        )
    problem = sample_problem(gan.sample(PROBE_SAMPLES, seed=PROBE_SEED))
    if problem:
        raise TrainingDiverged(
            f"at step {gan.step} the generator's samples are broken ({problem}); it was not saved. "
            "Try a lower learning rate, a gradient penalty, or fp32 precision"
        )
