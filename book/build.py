"""Build the course book: execute every notebook, render them as a static site, check it.

    python book/build.py [--out build/book]      (make book; GANEDU_MODE picks the speed mode)

1. Each notebook of ``course/`` is executed in ``OUT/src/`` (the mode in force: ``make book``
   sets ``cpu`` unless ``GANEDU_MODE`` says otherwise; CI builds in ``smoke``).
2. Widgets cannot move in a static page: each widget output is replaced by the figures its
   ``Output`` holds after execution (an ``interact`` draws its first picture there) and a line
   naming the controls a learner would move in JupyterLab.
3. Sphinx with MyST-NB renders ``OUT/src`` into ``OUT/html`` (book/conf.py), warnings as errors.
4. book/check.py fails the build on a broken link, a missing figure or maths left as raw TeX.

Open ``OUT/html/index.html`` in a browser.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CELL_TIMEOUT_S = 1800


def execute(path: Path, folder: Path) -> nbformat.NotebookNode:
    """Run every cell of ``path`` with ``folder`` as working directory; widget state is kept."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return nb


def _model_id(ref: str) -> str:
    return ref.removeprefix("IPY_MODEL_")


def _widget_parts(model_id: str, state: dict) -> tuple[list[dict], list[str]]:
    """The outputs held by ``model_id``'s Output widgets and the controls under it, depth first."""
    model = state.get(model_id)
    if model is None:
        return [], []
    values = model["state"]
    if model["model_name"] == "OutputModel":
        return list(values.get("outputs", [])), []
    outputs, controls = [], []
    for child in values.get("children", []):
        child_outputs, child_controls = _widget_parts(_model_id(child), state)
        outputs += child_outputs
        controls += child_controls
    name = model["model_name"].removesuffix("Model")
    if values.get("description") and name not in ("HTML", "Label"):
        controls.append(f"{values['description']} ({name})")
    return outputs, controls


def flatten_widgets(nb: nbformat.NotebookNode) -> int:
    """Replace each widget output by the figures it shows and a line naming its controls.

    Returns:
        The number of widget outputs replaced. Progress bars (no Output, no control) disappear.
    """
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        flat = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                flat.append(output)
                continue
            replaced += 1
            shown, controls = _widget_parts(view["model_id"], state)
            flat += [nbformat.from_dict(o) for o in shown]
            if controls:
                note = "In JupyterLab, move " + ", ".join(controls) + " to redraw this figure."
                flat.append(nbformat.v4.new_output("display_data", data={"text/markdown": f"*{note}*"}))
        cell.outputs = flat
    return replaced


def build(out: Path) -> int:
    """Execute, flatten, render and check; returns 0 when the book is whole, 1 otherwise."""
    src, html = out / "src", out / "html"
    shutil.rmtree(out, ignore_errors=True)
    src.mkdir(parents=True)
    shutil.copy(BOOK / "conf.py", src)
    shutil.copy(BOOK / "index.md", src)
    for path in sorted((ROOT / "course").glob("[0-9]*.ipynb")):
        t0 = time.monotonic()
        print(f"== executing {path.name}", flush=True)
        nb = execute(path, src)
        widgets = flatten_widgets(nb)
        nbformat.write(nb, src / path.name)
        print(f"   {time.monotonic() - t0:.0f} s, {widgets} widget outputs made static", flush=True)
    print(f"== rendering into {html}", flush=True)
    sphinx = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", str(src), str(html)]
    if subprocess.run(sphinx).returncode:
        print("the book has Sphinx warnings (above): fix them in the notebooks or book/", file=sys.stderr)
        return 1
    sys.path.insert(0, str(BOOK))
    from check import check_site

    problems = check_site(html, src)
    for problem in problems:
        print(f"book: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"== the book is in {html / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute the course's notebooks and render them as a book.")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book")
    return build(parser.parse_args(argv).out.resolve())


if __name__ == "__main__":
    sys.exit(main())
