"""``python -m ganedu doctor``: one screen that says what this machine gives the course, and
what to fix when something is off.

Each line is one :class:`Finding`: what was looked at, what was found, and, when it is a
problem, what to do about it. It reads the same functions the course uses to decide (the
device, bf16 or fp32, the speed mode, where the data comes from), so what it prints is what a
notebook will do. Exit status 1 when there is a problem, 0 otherwise.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import torch

from ganedu import data, pretrained, runtime
from ganedu.threads import omp_pinned, usable_cores

MIN_FREE_BYTES = 2 * 10**9  # CIFAR-10 and the Inception weights take 0.3 GB; runs and checkpoints the rest
OPTIONAL_DATASETS = {"mnist", "cifar10"}  # come by download when a learner asks for them


@dataclass
class Finding:
    """One line of the report: ``what`` was looked at, what was ``found``; ``fix`` when it is a problem."""

    what: str
    found: str
    fix: str | None = None

    @property
    def problem(self) -> bool:
        return self.fix is not None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def python_findings() -> list[Finding]:
    """The interpreter and ganedu itself."""
    version = platform.python_version()
    fix = (
        None
        if sys.version_info >= (3, 10)
        else "ganedu needs Python 3.10 or newer: make clean-venv; make lab"
    )
    where = Path(__file__).resolve().parent
    return [
        Finding("Python", f"{version} ({sys.executable})", fix),
        Finding("ganedu", f"{_version('ganedu') or 'not installed, imported'} from {where}"),
    ]


def _nvidia_gpu_present() -> bool:
    return shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia/version").is_file()


def torch_findings() -> list[Finding]:
    """PyTorch's build, the GPU it sees, and whether the two fit this machine."""
    cuda_build = torch.version.cuda
    build = f"CUDA {cuda_build} build" if cuda_build else "CPU-only build"
    findings = [Finding("PyTorch", f"{torch.__version__}, {build}")]
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        findings.append(Finding("GPU", ", ".join(names)))
    elif cuda_build and _nvidia_gpu_present():
        findings.append(
            Finding(
                "GPU",
                "an NVIDIA driver is installed but PyTorch sees no GPU",
                "check `nvidia-smi`; the driver must support CUDA "
                f"{cuda_build}, and CUDA_VISIBLE_DEVICES must not hide the GPU",
            )
        )
    elif not cuda_build and _nvidia_gpu_present():
        findings.append(
            Finding(
                "GPU",
                "an NVIDIA GPU is here but this PyTorch cannot use it",
                "make clean-venv; make lab   (installs PyTorch's CUDA build)",
            )
        )
    else:
        note = "none visible"
        if cuda_build:
            note += " (this PyTorch carries 4.5 GB of CUDA libraries; `make clean-venv; make lab TORCH=cpu` drops them)"
        findings.append(Finding("GPU", note))
    return findings


def _device_reason(dev: torch.device) -> str:
    if dev.type == "cuda":
        return "a CUDA GPU is visible"
    if dev.type == "mps":
        return "Apple's Metal GPU is available"
    return "no CUDA or Metal GPU is visible"


def _precision_reason(dev: torch.device, precision: str) -> str:
    if dev.type == "cuda":
        return "this GPU computes in bf16" if precision == "bf16" else "this GPU has no fast bf16"
    if dev.type == "cpu" and precision == "bf16":
        return "this CPU has native bf16 units, AVX512-BF16/AMX, and a bf16 convolution measured faster than fp32 here"
    if dev.type == "cpu" and runtime.cpu_has_bf16_units():
        return (
            "this CPU has bf16 units, AVX512-BF16/AMX, but a bf16 convolution measured slower than fp32 here"
        )
    if dev.type == "cpu":
        return "this CPU has no native bf16 units, AVX512-BF16/AMX, so bf16 would be slower than fp32"
    return "bf16 autocast is not used on this device"


def _mode_reason() -> str:
    if os.environ.get("GANEDU_MODE", "").strip():
        return "GANEDU_MODE is set"
    if os.environ.get("CI"):
        return "CI is set"
    return "a GPU is visible" if torch.cuda.is_available() else "the default without a GPU"


def runtime_findings() -> list[Finding]:
    """The device, precision, speed mode and threads that a notebook or ``train`` would use."""
    dev = runtime.device()
    precision = runtime.resolve_precision("auto", dev)
    try:
        mode = f"{runtime.mode()} ({_mode_reason()})"
        mode_fix = None
    except ValueError as e:
        mode, mode_fix = str(e), "unset GANEDU_MODE or set it to smoke, cpu or full"
    findings = [
        Finding("device", f"{dev} ({_device_reason(dev)})"),
        Finding("precision", f"{precision} ({_precision_reason(dev, precision)}; --precision chooses)"),
        Finding("speed mode", mode, mode_fix),
    ]
    cores = len(usable_cores())
    threads = torch.get_num_threads()
    fix = None
    if threads > cores:
        fix = f"more threads than cores slows every step: export OMP_NUM_THREADS={cores}"
    if omp_pinned():
        how = "pinned by OMP_NUM_THREADS"
    elif threads > 1:
        how = "training gives a thread up while another program keeps a core busy"
    else:
        how = "one thread, nothing to adapt"
    findings.append(Finding("threads", f"{threads} PyTorch threads on {cores} usable CPU cores ({how})", fix))
    return findings


def course_findings() -> list[Finding]:
    """JupyterLab and the widgets' two halves (kernel side, browser side), which must match."""
    lab, widgets, lab_widgets = _version("jupyterlab"), _version("ipywidgets"), _version("jupyterlab_widgets")
    if not (lab and widgets and lab_widgets):
        return [
            Finding(
                "JupyterLab",
                f"jupyterlab {lab or 'missing'}, ipywidgets {widgets or 'missing'}, "
                f"jupyterlab_widgets {lab_widgets or 'missing'}",
                "pip install -e '.[course]'   (or make lab)",
            )
        ]
    return [Finding("JupyterLab", f"{lab}, ipywidgets {widgets} (jupyterlab_widgets {lab_widgets})")]


def data_findings(rows: list[dict] | None = None) -> list[Finding]:
    """Each dataset (from :func:`ganedu.data.info`) and the Inception weights for FID."""
    findings = []
    for row in data.info() if rows is None else rows:
        name = row["name"]
        if row["status"] == "verified":
            findings.append(Finding(name, f"verified, {row['source']}: {row['path']}"))
        elif row["status"] == "missing" and name in OPTIONAL_DATASETS:
            findings.append(Finding(name, f"not downloaded (optional: python -m ganedu data fetch {name})"))
        elif row["status"] == "missing":
            fix = f"python -m ganedu data fetch {name}"
            if name == "fashion-mnist":
                fix = f"sudo apt-get install dataset-fashion-mnist   (offline), or {fix}"
            findings.append(Finding(name, "not found", fix))
        else:
            findings.append(
                Finding(
                    name,
                    f"{row['status']} in {row['path']}",
                    f"delete the file, then python -m ganedu data fetch {name}",
                )
            )
    findings.append(_inception_finding())
    return findings


def _inception_finding() -> Finding:
    from ganedu.metrics.inception import INCEPTION_SHA256, inception_path

    path = inception_path()
    if not path.is_file():
        return Finding(
            "Inception",
            f"not at {path} (needed for FID with Inception features)",
            "python -m ganedu data fetch inception   (or make lab, which fetches it)",
        )
    if data.sha256_file(path) != INCEPTION_SHA256:
        return Finding(
            "Inception",
            f"{path} is not the TF-2015 Inception file (SHA-256 differs)",
            f"rm {path}; python -m ganedu data fetch inception",
        )
    return Finding("Inception", f"verified: {path}")


def pretrained_findings(specs: dict[str, pretrained.PretrainedSpec] | None = None) -> list[Finding]:
    """The shipped models of chapters 7 and 8, each checked against its pinned SHA-256."""
    findings = []
    for name, spec in (pretrained.PRETRAINED if specs is None else specs).items():
        if not spec.path.is_file():
            findings.append(Finding(name, f"{spec.path} is missing", "reinstall: pip install -e ."))
            continue
        actual = data.sha256_file(spec.path)
        if actual != spec.sha256:
            findings.append(
                Finding(
                    name,
                    f"{spec.file} has SHA-256 {actual[:12]}…, expected {spec.sha256[:12]}…",
                    f"git checkout -- ganedu/weights/{spec.file}   (or reinstall ganedu)",
                )
            )
        else:
            findings.append(Finding(name, f"{spec.file}, SHA-256 {actual[:12]}… verified"))
    return findings


def disk_finding(folder: Path | None = None) -> Finding:
    """Free space where downloads and the cache go."""
    folder = folder or data.cache_dir()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    free = shutil.disk_usage(existing).free
    found = f"{free / 1e9:.1f} GB free under {folder}"
    if free < MIN_FREE_BYTES:
        return Finding(
            "disk",
            found,
            f"free at least {MIN_FREE_BYTES / 1e9:.0f} GB, or set XDG_CACHE_HOME to a larger disk",
        )
    return Finding("disk", found)


def findings() -> list[Finding]:
    """Everything the report shows, in its order."""
    return [
        *python_findings(),
        *torch_findings(),
        *runtime_findings(),
        *course_findings(),
        *data_findings(),
        *pretrained_findings(),
        disk_finding(),
    ]


def report(rows: list[Finding] | None = None) -> str:
    """The findings as one screen of text: a line each, then the problems with their fixes."""
    rows = findings() if rows is None else rows
    width = max(len(f.what) for f in rows)
    lines = ["ganedu doctor"]
    lines += [f"  {'!!' if f.problem else '  '} {f.what.ljust(width)}  {f.found}" for f in rows]
    problems = [f for f in rows if f.problem]
    if problems:
        lines += ["", f"{len(problems)} problem{'s' if len(problems) > 1 else ''}, and what to do:"]
        lines += [f"  {f.what}: {f.fix}" for f in problems]
    else:
        lines += ["", "No problems found."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print :func:`report`; return 1 when it found a problem, else 0."""
    argparse.ArgumentParser(
        prog="python -m ganedu doctor",
        description="What this machine gives the course (Python, PyTorch, device, data, shipped models), "
        "and how to fix what is off.",
    ).parse_args(argv)
    rows = findings()
    print(report(rows))
    return 1 if any(f.problem for f in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
