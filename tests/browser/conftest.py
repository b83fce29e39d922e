"""The browser tests: JupyterLab in headless Chromium (``make test-browser``).

They need Chromium (Debian's ``chromium``) and Playwright for Python (``ganedu[dev]``), and
run only when asked for (``-m browser``); screenshots of what failed go to ``build/browser/``
(``$GANEDU_BROWSER_SHOTS`` elsewhere), which CI keeps.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .lab import LabServer, chromium_executable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
COURSE = sorted((ROOT / "course").glob("*.ipynb"))
FIXTURES = sorted((HERE / "fixtures").glob("*.ipynb"))


@pytest.fixture(scope="session")
def shots() -> Path:
    return Path(os.environ.get("GANEDU_BROWSER_SHOTS", ROOT / "build" / "browser"))


@pytest.fixture(scope="session")
def lab(tmp_path_factory, shots):
    """JupyterLab over a scratch copy of the course's notebooks and the fixtures, smoke mode."""
    os.environ.setdefault("GANEDU_MODE", "smoke")
    shots.mkdir(parents=True, exist_ok=True)
    server = LabServer(COURSE + FIXTURES, tmp_path_factory.mktemp("lab"), shots / "jupyterlab.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_executable())
        yield chromium
        chromium.close()
