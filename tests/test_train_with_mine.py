"""The notebooks train with the learner's own code once it passes: shown by running them with the
reference solutions in place of the stubs, as a learner who solved every exercise would.

Each notebook that calls ``ganedu.grading.use("exNN_topic")`` must then print
``training with your exercises/exNN_topic.py`` (not the reference's line) and still learn: the
notebook's own learning check (a cell printing ``learned:``) must report success.
"""

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["01_gan_basics.ipynb", "05_wgan_gp.ipynb"]


def uses(notebook: Path) -> list[str]:
    """The exercises a notebook trains with through ``ganedu.grading.use``."""
    import re

    text = "".join(
        "".join(c["source"]) for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"
    )
    return sorted(set(re.findall(r"grading\.use\(\"(ex\d\d_\w+)\"", text)))


def solved_copy(tmp_path: Path, notebook: str) -> Path:
    """A copy of the course where every exercise file is the reference solution."""
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    for solution in (ROOT / "solutions").glob("ex[0-9][0-9]_*.py"):
        shutil.copy(solution, tmp_path / "exercises" / solution.name)
    (tmp_path / "course").mkdir()
    shutil.copy(ROOT / "course" / notebook, tmp_path / "course" / notebook)
    return tmp_path / "course" / notebook


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_trains_with_the_learners_passing_code_and_still_learns(notebook, tmp_path, monkeypatch):
    names = uses(ROOT / "course" / notebook)
    assert names, (
        f"course/{notebook} never calls ganedu.grading.use(...): it cannot train with the learner's code"
    )
    path = solved_copy(tmp_path, notebook)
    monkeypatch.setenv("GANEDU_MODE", "smoke")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    text = "\n".join(
        out.get("text", "") if isinstance(out.get("text", ""), str) else ""
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    for name in names:
        assert f"training with your exercises/{name}.py" in text, (
            f"course/{notebook} did not train with the learner's passing {name}.py:\n{text[-2000:]}"
        )
        assert f"training with the reference solutions/{name}.py" not in text
    learned = [line for line in text.splitlines() if line.startswith("learned:")]
    assert learned, f"course/{notebook} prints no 'learned:' line to check that training with it learns"
    assert all("yes" in line for line in learned), learned
