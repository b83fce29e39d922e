"""What a benchmark row records about the machine it ran on: results differ across CPU models."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (e.g. "AMD EPYC"), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# The vector extensions that decide which precision is fast: AVX2 (fp32 FMA), AVX-512,
# AVX512-BF16 (bf16 dot products) and AMX (bf16 matrix tiles).
EXTENSIONS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def cpu_extensions() -> list[str]:
    """Which of ``EXTENSIONS`` the CPU reports in /proc/cpuinfo (empty where it cannot be read)."""
    try:
        flags = next(
            line.split(":", 1)[1].split()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("flags")
        )
    except (OSError, StopIteration):
        return []
    return [e for e in EXTENSIONS if e in flags]


# Caps that make a CPU run narrower kernels than it has, to emulate one without AVX-512:
# ONEDNN_MAX_CPU_ISA=AVX2 (oneDNN's convolutions) and ATEN_CPU_CAPABILITY=avx2 (PyTorch's own ops).
ISA_CAPS = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")


def isa_caps() -> dict:
    """The ``ISA_CAPS`` set in the environment, e.g. ``{"ONEDNN_MAX_CPU_ISA": "AVX2"}``; empty if none."""
    return {k: os.environ[k] for k in ISA_CAPS if os.environ.get(k)}


def machine() -> dict:
    """The fields every benchmark row carries: CPU name, its vector extensions, core count, and any ISA cap."""
    caps = isa_caps()
    return {
        "cpu": cpu_name(),
        "extensions": cpu_extensions(),
        "cores": os.cpu_count(),
        **({"isa_caps": caps} if caps else {}),
    }


def append_rows(path: Path, rows: list[dict], indent: int = 1) -> None:
    """Add ``rows`` to the JSON list in ``path`` (created with its folder if missing), atomically.

    The list is written to a temporary file beside ``path`` and renamed over it, so a run
    stopped mid-write leaves the earlier rows intact. The temporary file is named for this
    process, so two benchmarks appending to one file at once never write into the same one.
    (``ganedu.files.atomic_write`` does the same with an fsync; this module stays free of
    ``ganedu``, whose import brings torch, so light scripts can use it.)
    """
    old = json.loads(path.read_text()) if path.is_file() else []
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps([*old, *rows], indent=indent) + "\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
