"""Notebooks are stored clean: no outputs, no execution counts, no saved widget state.

Outputs in git make diffs unreadable and can hold a stale picture of what the code does.
Strip them before committing, e.g. ``jupyter nbconvert --clear-output --inplace course/*.ipynb``.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "course").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    notebook = json.loads(path.read_text())
    dirty = [
        i
        for i, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} hold outputs; clear them with jupyter nbconvert --clear-output"
    )
    assert "widgets" not in notebook.get("metadata", {}), f"{path.name} stores widget state in its metadata"
