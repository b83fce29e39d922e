"""The headline numbers of a notebook run, kept for instructor mode's report.

When the environment variable ``GANEDU_METRICS`` names a file, :func:`record` appends one
JSON line ``{"name": ..., "value": ...}`` to it; otherwise it does nothing, so a learner's
notebook is unchanged by it. ``python -m ganedu instructor`` sets the variable for each
notebook's kernel and reads the lines back (:func:`recorded`) into its report.

The package records where it computes a headline number: :func:`ganedu.train.train`
records the steps reached, steps per second and final losses of each call, and
:class:`ganedu.metrics.SampleScorer` each score (FD in classifier features, classes present).
Numbers that a notebook computes itself (chapter 3's share of samples of the asked class,
chapter 7's translation rates) are recorded by the notebook with one call.
"""

from __future__ import annotations

import json
import math
import os
from numbers import Number
from pathlib import Path

from ganedu.files import append_line

METRICS_ENV = "GANEDU_METRICS"


def record(name: str, value) -> None:
    """Append ``name = value`` to the file named by ``GANEDU_METRICS``; nothing when it is unset.

    ``value`` is a number (Python, NumPy or a one-element tensor) or a dict of numbers;
    floats are kept to 4 significant digits.
    """
    path = os.environ.get(METRICS_ENV)
    if path:
        append_line(path, json.dumps({"name": name, "value": _plain(value)}))


def recorded(path: str | os.PathLike) -> list[dict]:
    """The ``{"name", "value"}`` records in ``path``, in the order they were made; ``[]`` if none."""
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _plain(value):
    """``value`` as JSON: dicts of numbers stay dicts, numbers become int or 4-digit float."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "item"):  # a NumPy scalar or a one-element tensor
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Number):
        raise TypeError(f"record a number or a dict of numbers, not {type(value).__name__}")
    if isinstance(value, int):
        return value
    value = float(value)
    return float(f"{value:.4g}") if math.isfinite(value) else str(value)
