"""Running a course notebook top to bottom in a fresh kernel, as a learner would.

:func:`execute` runs one notebook with nbclient (the engine behind ``jupyter nbconvert
--execute``) in the ``python3`` kernel of this Python, from a scratch copy of its folder, so
nothing it writes lands in ``course/``. The kernel gets the speed mode (``GANEDU_MODE``) and a
file for the numbers the notebook records (``GANEDU_METRICS``, :mod:`ganedu.report`). The
wall time includes the kernel's start-up and every import, as a learner sees it. Instructor
mode (:mod:`ganedu.instructor`) and ``benchmarks/notebook_times.py`` both run notebooks this way.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ganedu.report import METRICS_ENV, recorded


@dataclass
class NotebookRun:
    """What :func:`execute` saw: wall time, the first error (``None`` when every cell ran) and the records."""

    notebook: str
    mode: str
    seconds: float
    error: str | None
    metrics: list[dict] = field(default_factory=list)
    """the ``{"name", "value"}`` records the notebook made (:func:`ganedu.report.record`)"""
    cell_seconds: dict[int, float] = field(default_factory=dict)
    """seconds each executed code cell took, by cell index"""

    @property
    def ok(self) -> bool:
        """Whether every cell ran without an error."""
        return self.error is None


def execute(path: str | os.PathLike, mode: str, timeout: float | None = None) -> NotebookRun:
    """Run the notebook at ``path`` in speed mode ``mode``; return its :class:`NotebookRun`.

    Args:
        path: the notebook; its whole folder is copied to a temporary one and run there.
        mode: ``smoke``, ``cpu`` or ``full`` (``GANEDU_MODE`` in the kernel).
        timeout: seconds for the whole notebook, kernel start-up included; ``None`` for no limit.
            The cell running when it runs out is interrupted and reported as timed out.

    A failing cell stops the notebook, as in JupyterLab's "Run All"; ``error`` then reads
    ``"cell 7: ValueError: ..."`` (one line) and the time is the time up to it.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="ganedu-notebook-") as tmp:
        work = Path(tmp) / path.parent.name
        shutil.copytree(path.parent, work)
        metrics = Path(tmp) / "metrics.jsonl"
        env = {**os.environ, "GANEDU_MODE": mode, METRICS_ENV: str(metrics)}
        nb = nbformat.read(work / path.name, as_version=4)
        client = NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(work)}})
        start = time.monotonic()
        error = None
        index = None
        try:
            with client.setup_kernel(env=env):
                for index, cell in enumerate(nb.cells):
                    left = None if timeout is None else max(1, round(timeout - (time.monotonic() - start)))
                    client.timeout = left
                    client.execute_cell(cell, index)
        except Exception as e:  # a failing cell still gives the time up to it
            error = _one_line(e, index)
        seconds = time.monotonic() - start
        return NotebookRun(path.name, mode, round(seconds, 1), error, recorded(metrics), cell_seconds(nb))


def _one_line(error: Exception, index: int | None) -> str:
    """``"cell N: Name: message"``: the exception a cell raised (or the runner's), first line only."""
    name = getattr(error, "ename", None) or type(error).__name__
    message = str(getattr(error, "evalue", None) or error).strip()
    message = message.splitlines()[0] if message else ""
    where = "kernel start" if index is None else f"cell {index}"
    return f"{where}: {name}: {message}" if message else f"{where}: {name}"


def cell_seconds(nb) -> dict[int, float]:
    """Seconds each executed code cell took, by cell index (nbclient's execution timestamps)."""
    out = {}
    for i, cell in enumerate(nb.cells):
        stamps = cell.get("metadata", {}).get("execution", {})
        if "iopub.status.busy" in stamps and "iopub.status.idle" in stamps:
            busy, idle = (datetime.fromisoformat(stamps[k].replace("Z", "+00:00"))
                          for k in ("iopub.status.busy", "iopub.status.idle"))  # fmt: skip
            out[i] = round((idle - busy).total_seconds(), 1)
    return out
