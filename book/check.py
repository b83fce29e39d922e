"""Checks of a rendered book (book/build.py): what a reader would find broken.

- every local link, image, stylesheet and script points at a file that exists, and every
  ``#anchor`` at an id on its page (links to other sites are not followed: the build is offline);
- every figure an executed notebook drew is on its page;
- no maths is left as raw TeX (``$…$``, ``\\(…\\)`` or a TeX command outside an equation).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
RAW_TEX = re.compile(r"\$[^$\n]+\$|\\\(|\\\[|\\(frac|mathbb|mathcal|sum|int|nabla|log|sqrt|left|right)\b")
NOT_PROSE = ["math", "code", "pre", "script", "style", "kbd", "samp"]


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _ids(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        cache[path] = {tag["id"] for tag in _soup(path).find_all(id=True)}
    return cache[path]


def broken_links(page: Path, soup: BeautifulSoup, site: Path, ids: dict[Path, set[str]]) -> list[str]:
    """Local ``href``/``src`` targets on ``page`` that do not exist, or anchors missing on their page."""
    problems = []
    for tag, attr in (("a", "href"), ("img", "src"), ("link", "href"), ("script", "src")):
        for element in soup.find_all(tag, attrs={attr: True}):
            target = element[attr]
            parts = urlsplit(target)
            if parts.scheme or target.startswith("//"):
                continue
            path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if path.is_dir():
                path = path / "index.html"
            where = page.relative_to(site)
            if not path.is_file():
                problems.append(f"{where}: {tag} {target!r} points at a missing file")
            elif tag == "img" and path.stat().st_size == 0:
                problems.append(f"{where}: image {target!r} is empty")
            elif parts.fragment and path.suffix == ".html" and unquote(parts.fragment) not in _ids(path, ids):
                problems.append(f"{where}: link {target!r} points at a missing anchor")
    return problems


def raw_maths(page: Path, soup: BeautifulSoup, site: Path) -> list[str]:
    """Text outside equations and code that still reads as TeX."""
    body = soup.find("article") or soup.body
    if body is None:
        return []
    for element in body.find_all(NOT_PROSE):
        element.decompose()
    return [
        f"{page.relative_to(site)}: maths left as raw TeX: {m.group(0)!r} in {text.strip()[:80]!r}"
        for text in body.find_all(string=True)
        if (m := RAW_TEX.search(text))
    ]


def missing_figures(page: Path, soup: BeautifulSoup, notebook: Path, site: Path) -> list[str]:
    """Fewer images on ``page`` than the figures its executed ``notebook`` holds."""
    cells = json.loads(notebook.read_text())["cells"]
    drawn = sum(
        any(kind in output.get("data", {}) for kind in IMAGE_TYPES)
        for cell in cells
        for output in cell.get("outputs", [])
    )
    body = soup.find("article") or soup.body
    shown = len(body.find_all("img")) if body else 0
    if shown < drawn:
        return [f"{page.relative_to(site)}: {drawn} figures were drawn but {shown} are on the page"]
    return []


def check_site(site: Path, src: Path) -> list[str]:
    """Every problem found in the HTML under ``site`` (notebooks executed into ``src``)."""
    if not (site / "index.html").is_file():
        return [f"{site} holds no index.html: the book was not rendered"]
    problems: list[str] = []
    ids: dict[Path, set[str]] = {}
    for page in sorted(site.rglob("*.html")):
        if page.relative_to(site).parts[0].startswith("_"):
            continue  # Sphinx's own assets
        soup = _soup(page)
        problems += broken_links(page, soup, site, ids)
        notebook = src / page.relative_to(site).with_suffix(".ipynb")
        if notebook.is_file():
            problems += missing_figures(page, soup, notebook, site)
        problems += raw_maths(page, soup, site)
    return problems
