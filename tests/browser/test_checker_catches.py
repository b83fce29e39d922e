"""The browser check itself: a notebook whose widgets work passes with every widget moved, and
each way a widget breaks is caught (fixtures/widgets_broken.ipynb breaks them on purpose)."""

import pytest

from .lab import check_notebook

pytestmark = pytest.mark.browser


def test_working_widgets_pass_and_each_is_moved(lab, browser, shots):
    report = check_notebook(browser, lab, "widget_responds.ipynb", shots)
    assert report.problems == []
    assert report.widgets_moved == ["cell 1 slider 'height'", "cell 1 list 'colour'"]


def test_each_broken_widget_is_caught(lab, browser, tmp_path):
    report = check_notebook(browser, lab, "widgets_broken.ipynb", tmp_path)
    problems = "\n".join(report.problems)
    expected = [
        "cell 1: moving the slider 'height' did not change its image",
        "cell 2: moving the slider 'height' printed a traceback",
        "cell 3: Error displaying widget",
        "cell 4 shows the text 'IntSlider(' where a widget should be drawn",
        "cell 5 raised RuntimeError: a cell that fails",
        "cell 6 did not run",
    ]
    for line in expected:
        assert line in problems
    assert (tmp_path / "widgets_broken.png").is_file()
    assert (tmp_path / "widgets_broken-cell1.png").is_file()
