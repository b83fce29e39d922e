"""Where code runs and how big it runs: device choice, seeding and the speed modes.

`GANEDU_MODE` is one of ``smoke`` (CI: every notebook in well under a minute), ``cpu``
(a 2-core laptop: about ten minutes a notebook) or ``full`` (an instructor's GPU). It is
``smoke`` when ``CI`` is set, otherwise ``full`` with a GPU and ``cpu`` without one.
Notebooks never test the mode themselves: they ask :func:`budget` for a value.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

MODES = ("smoke", "cpu", "full")


def device(prefer: str | None = None) -> torch.device:
    """Return the best available device: cuda > mps > cpu, or ``prefer`` when given.

    ``prefer`` may be ``"auto"`` (the same as ``None``), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.
    """
    if prefer not in (None, "auto"):
        dev = torch.device(prefer)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' was asked for but no CUDA GPU is visible; use --device cpu")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and every GPU) so a CPU run is reproducible.

    Returns a fresh ``torch.Generator`` seeded with ``seed`` for code that wants its own stream.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def mode() -> str:
    """The speed mode in force: ``GANEDU_MODE``, else smoke under CI, else full on a GPU, else cpu."""
    chosen = os.environ.get("GANEDU_MODE", "").strip().lower()
    if chosen:
        if chosen not in MODES:
            raise ValueError(f"GANEDU_MODE={chosen!r} is not one of {', '.join(MODES)}")
        return chosen
    if os.environ.get("CI"):
        return "smoke"
    return "full" if torch.cuda.is_available() else "cpu"


def budget(smoke, cpu, full=None):
    """Pick the value for the current speed mode, e.g. ``steps = budget(smoke=20, cpu=2000, full=20000)``.

    ``full`` defaults to ``cpu``.
    """
    return {"smoke": smoke, "cpu": cpu, "full": cpu if full is None else full}[mode()]
