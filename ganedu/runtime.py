"""Where code runs and how big it runs: device choice, hardware detection, seeding and the speed modes.

`GANEDU_MODE` is one of ``smoke`` (CI: every notebook in well under a minute), ``cpu``
(a 2-core laptop: about ten minutes a notebook) or ``full`` (an instructor's GPU). It is
``smoke`` when ``CI`` is set, otherwise ``full`` with a GPU and ``cpu`` without one.
Notebooks never test the mode themselves: they ask :func:`budget` for a value.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import random
import time

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
    """Whether bf16 autocast pays off on ``dev``: on CUDA where supported; on a CPU with bf16 units
    (AVX512-BF16 or AMX) where a bf16 convolution also measured faster than fp32 (:func:`cpu_bf16_faster`).
    """
    if dev.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if dev.type == "cpu":
        return cpu_has_bf16_units() and cpu_bf16_faster()
    return False


def cpu_has_bf16_units() -> bool:
    """Whether this CPU reports native bf16 arithmetic (AVX512-BF16 or AMX) that PyTorch's kernels use."""
    return torch.backends.cpu.get_cpu_capability() in ("AVX512", "AMX") and _cpu_has_bf16_flags()


@functools.cache  # read once a process: resolve_precision and doctor both ask
def _cpu_has_bf16_flags() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@functools.cache
def cpu_bf16_faster() -> bool:
    """Whether a bf16 convolution runs at least 10% faster than fp32 here: a probe of about 0.1 s, once a process.

    The flags alone do not decide it. With AMX, or AVX512-BF16 on an AMD EPYC, a bf16 DCGAN
    step ran 1.5-2.2x as fast as fp32; on an Intel Xeon reporting AVX512-BF16 without AMX,
    bf16 convolutions ran at 0.6x and every recipe trained about 1.45x slower in bf16
    (benchmarks/README.md, "Every model's training speed"). The probe is one of D's layers
    (128 -> 256 channels, 4x4, stride 2, a batch of 32 at 16x16, channels_last), forward only,
    fastest of three passes after one warm-up in each precision.

    The answer is kept in ``precision-probe.json`` in ganedu's cache folder, keyed by what
    decides it (:func:`_probe_key`: the CPU's model and flags, the kernels PyTorch picks, its
    version, the thread count), so later processes on the same machine skip the probe. A
    cache file that is unreadable, corrupt or cannot be written is ignored: the probe runs.
    """
    key = _probe_key()
    cached = _probe_cache().get(key)
    faster = cached if isinstance(cached, bool) else _probe_bf16_faster()
    if not isinstance(cached, bool):
        _remember_probe(key, faster)
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized() and dist.get_backend() == "gloo":
        # ranks sharing a CPU time the probe at the same moment and may disagree near the
        # threshold; the ranks of one CPU (Gloo) job must train in one precision: rank 0's
        from ganedu.distributed import rank_0s  # not at the top: ganedu.distributed imports this module

        return rank_0s(faster)
    return faster


def _probe_bf16_faster() -> bool:
    x = torch.randn(32, 128, 16, 16).contiguous(memory_format=torch.channels_last)
    w = torch.randn(256, 128, 4, 4).contiguous(memory_format=torch.channels_last)
    seconds = {dtype: _fastest_conv(x.to(dtype), w.to(dtype)) for dtype in (torch.float32, torch.bfloat16)}
    return seconds[torch.bfloat16] < 0.9 * seconds[torch.float32]


def _probe_key() -> str:
    """What the probe's answer depends on: the CPU (model name and flags), PyTorch's kernels and threads."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            first_cpu = f.read().split("\n\n")[0]
        fields = dict(map(str.strip, line.split(":", 1)) for line in first_cpu.splitlines() if ":" in line)
    except OSError:
        pass
    import platform

    model = fields.get("model name") or platform.processor() or platform.machine()
    flags = hashlib.sha256(fields.get("flags", "").encode()).hexdigest()[:16]
    kernels = f"{torch.backends.cpu.get_cpu_capability()} {os.environ.get('ONEDNN_MAX_CPU_ISA', '')}".strip()
    return (
        f"{model} (flags {flags}) | torch {torch.__version__} {kernels} | {torch.get_num_threads()} threads"
    )


def _probe_cache_file():
    from ganedu.data.lookup import cache_dir

    return cache_dir() / "precision-probe.json"


def _probe_cache() -> dict:
    try:
        cached = json.loads(_probe_cache_file().read_text())
    except (OSError, ValueError):
        return {}
    return cached if isinstance(cached, dict) else {}


def _remember_probe(key: str, faster: bool) -> None:
    from ganedu.files import write_atomically

    with contextlib.suppress(OSError, GaneduError):  # read-only or full: probe again next time
        write_atomically(_probe_cache_file(), json.dumps({**_probe_cache(), key: faster}, indent=1).encode())


def _fastest_conv(x: torch.Tensor, w: torch.Tensor, passes: int = 3) -> float:
    with torch.no_grad():
        torch.nn.functional.conv2d(x, w, stride=2, padding=1)  # creates the kernel
        best = float("inf")
        for _ in range(passes):
            start = time.perf_counter()
            torch.nn.functional.conv2d(x, w, stride=2, padding=1)
            best = min(best, time.perf_counter() - start)
    return best


def resolve_precision(precision: str, dev: torch.device) -> str:
    """``"fp32"`` or ``"bf16"``: ``"auto"`` becomes bf16 where :func:`fast_bf16_available`, else fp32."""
    if precision == "auto":
        return "bf16" if fast_bf16_available(dev) else "fp32"
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be 'fp32', 'bf16' or 'auto', not {precision!r}")
    return precision
