"""Where code runs and how big it runs: device choice, hardware detection, seeding and the speed modes.

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

from ganedu.errors import GaneduError

MODES = ("smoke", "cpu", "full")


def device(prefer: str | None = None) -> torch.device:
    """Return the best available device: cuda > mps > cpu, or ``prefer`` when given.

    ``prefer`` may be ``"auto"`` (the same as ``None``), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.
    """
    if prefer not in (None, "auto"):
        try:
            dev = torch.device(prefer)
        except RuntimeError:
            raise GaneduError(f"unknown device {prefer!r}; use auto, cpu, cuda, cuda:N or mps") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise GaneduError(f"device {prefer!r} was asked for but no CUDA GPU is visible; use --device cpu")
        if dev.type == "mps" and not (
            getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
        ):
            raise GaneduError(
                "device 'mps' was asked for but this machine has no Apple GPU; use --device cpu"
            )
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


def fast_bf16_available(dev: torch.device) -> bool:
    """bf16 autocast pays off on CUDA and on CPUs with native bf16 matrix units (AVX512-BF16/AMX)."""
    if dev.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if dev.type == "cpu":
        return torch.backends.cpu.get_cpu_capability() in ("AVX512", "AMX") and _cpu_has_bf16_flags()
    return False


def _cpu_has_bf16_flags() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str, dev: torch.device) -> str:
    """``"fp32"`` or ``"bf16"``: ``"auto"`` becomes bf16 where :func:`fast_bf16_available`, else fp32."""
    if precision == "auto":
        return "bf16" if fast_bf16_available(dev) else "fp32"
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be 'fp32', 'bf16' or 'auto', not {precision!r}")
    return precision


def skip_compiler_import() -> int:
    """Let a process that never compiles construct optimizers without importing ``torch._dynamo``.

    PyTorch marks ``Optimizer.__init__``, ``load_state_dict`` and a few other methods "not to be
    compiled" through a wrapper that imports its compiler, ``torch._dynamo``, on first call: about
    2 s on a 2-core laptop, more than the rest of ``python -m ganedu sample``. The mark only
    matters inside ``torch.compile``. For each such wrapper on ``torch.optim.Optimizer``, this
    fills in the cache the wrapper would fill (``fn.__dynamo_disable``) with the method itself,
    so the wrapper calls it directly. ``sample`` and ``eval`` call this; training never does
    (``Optimizer.step`` needs the compiler module anyway). Should a PyTorch release change the
    wrapper, nothing matches and this does nothing: the commands are only slower.

    Returns:
        How many methods now skip the import.
    """
    marker = torch._compile._disable_dynamo(lambda: None).__code__  # the wrapper's code object
    skipped = 0
    for member in vars(torch.optim.Optimizer).values():
        inner = getattr(member, "__wrapped__", None)
        if getattr(member, "__code__", None) is marker and inner is not None:
            if getattr(inner, "__dynamo_disable", None) is None:
                inner.__dynamo_disable = inner  # what the wrapper calls from now on
            skipped += 1
    return skipped
