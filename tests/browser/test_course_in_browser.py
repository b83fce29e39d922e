"""Every notebook of the course, opened and run in JupyterLab as a learner does: each cell runs
without a traceback, each widget is drawn as a widget, and moving it changes the image it draws."""

import pytest

from .conftest import COURSE
from .lab import check_notebook

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("notebook", COURSE, ids=[p.stem for p in COURSE])
def test_notebook_runs_and_its_widgets_respond_in_the_browser(notebook, lab, browser, shots):
    report = check_notebook(browser, lab, notebook.name, shots)
    assert not report.problems, f"{notebook.name} in JupyterLab (screenshots in {shots}):\n" + "\n".join(
        report.problems
    )
    assert report.cells_run > 0
