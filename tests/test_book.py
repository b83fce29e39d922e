"""The book's build steps (book/build.py, book/check.py) on small made-up pages and notebooks:
widgets become their figures, and each kind of breakage a reader would meet is caught."""

import importlib.util
import json
import sys
from pathlib import Path

import nbformat
import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"book_{name}", BOOK / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build, check = _load("build"), _load("check")
PNG = {"image/png": "iVBORw0KGgo="}


def _page(site: Path, name: str, body: str) -> Path:
    path = site / name
    path.write_text(f"<html><body><article>{body}</article></body></html>")
    return path


def test_a_whole_site_has_no_problems(tmp_path):
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "a.png").write_bytes(b"png")
    _page(tmp_path, "index.html", '<a href="two.html#part">two</a> <a href="https://example.org">out</a>')
    _page(tmp_path, "two.html", '<h2 id="part">x</h2><img src="_images/a.png"><math><mi>x</mi></math>')
    assert check.check_site(tmp_path, tmp_path) == []


def test_broken_link_missing_anchor_and_missing_image_are_caught(tmp_path):
    _page(
        tmp_path,
        "index.html",
        '<a href="gone.html">g</a> <a href="index.html#nowhere">n</a> <img src="x.png">',
    )
    problems = "\n".join(check.check_site(tmp_path, tmp_path))
    assert "'gone.html' points at a missing file" in problems
    assert "'index.html#nowhere' points at a missing anchor" in problems
    assert "'x.png' points at a missing file" in problems


@pytest.mark.parametrize("prose", ["the loss $D(x)$ falls", r"with \frac{1}{2} of it", r"where \(x\) is"])
def test_maths_left_as_tex_is_caught(tmp_path, prose):
    _page(tmp_path, "index.html", f"<p>{prose}</p><pre>$HOME stays in code</pre>")
    assert len(check.check_site(tmp_path, tmp_path)) == 1


def test_page_with_fewer_images_than_its_notebook_drew_is_caught(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[])])
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data=PNG)] * 2
    (tmp_path / "ch.ipynb").write_text(json.dumps(nb))
    (tmp_path / "a.png").write_bytes(b"png")
    _page(tmp_path, "index.html", '<a href="ch.html">chapter</a>')
    _page(tmp_path, "ch.html", '<img src="a.png">')
    assert check.check_site(tmp_path, tmp_path) == ["ch.html: 2 figures were drawn but 1 are on the page"]


def test_a_site_that_was_not_rendered_is_a_problem(tmp_path):
    assert check.check_site(tmp_path, tmp_path) == [
        f"{tmp_path} holds no index.html: the book was not rendered"
    ]


def test_an_interact_becomes_its_first_figure_and_names_its_controls():
    view = {"model_id": "box", "version_major": 2, "version_minor": 0}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell()])
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={build.WIDGET_VIEW: view})]
    drawn = {"output_type": "display_data", "data": PNG, "metadata": {}}
    state = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_s", "IPY_MODEL_o"]}},
        "s": {"model_name": "IntSliderModel", "state": {"description": "seed"}},
        "o": {"model_name": "OutputModel", "state": {"outputs": [drawn]}},
    }
    nb.metadata["widgets"] = {build.WIDGET_STATE: {"state": state}}
    assert build.flatten_widgets(nb) == 1
    outputs = nb.cells[0].outputs
    assert outputs[0]["data"] == PNG
    assert "seed (IntSlider)" in outputs[1]["data"]["text/markdown"]
    assert "widgets" not in nb.metadata
