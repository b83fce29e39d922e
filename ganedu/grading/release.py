"""The student bundle: the course as learners get it, without a line of the solutions.

``python -m ganedu grading release OUT/`` writes a folder that is a whole course repository a
learner (or a GitHub Classroom template, or a Gradescope autograder) can use:

- ``course/``: the notebooks with every output and execution count stripped, and its README;
- ``exercises/``: the stubs made afresh from ``solutions/`` (so they are current), each with its
  ``HINTS``, the autograders ``test_*.py`` with their ``POINTS``, and ``conftest.py``;
- ``ganedu/``: the package (without caches), ``pyproject.toml``, ``README.md``, ``environment.yml``;
- ``constraints.txt``: every dependency of ``ganedu[course,dev]`` pinned (``==``) to the version
  installed where the release was made; the bundle's ``Makefile`` and ``environment.yml``
  install with ``-c constraints.txt``, so learners get the versions the course was run with;
- ``.github/workflows/classroom.yml``: GitHub Classroom's autograding, one
  ``autograding-command-grader`` step per chapter (``python -m ganedu grading grade exNN_topic``,
  the chapter's points when every test passes) and the ``autograding-grading-reporter``;
- ``gradescope/``: ``setup.sh`` and ``run_autograder`` for a Gradescope autograder zip
  (``python -m ganedu grading gradescope``: per-test points in ``results.json``).

Not in it: ``solutions/``, ``tests/`` (the package's tests and the catalogue of learners' bugs,
which quote the solutions), ``benchmarks/``, ``book/``, ``scripts/``, ``.ci/``. Before the folder
appears the bundle is searched for every solution block (:mod:`ganedu.grading.leaks`); a bundle
that holds one is not written. The folder is built beside ``OUT`` and renamed into place, so
``OUT`` is either the whole bundle or not there.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from ganedu.errors import GaneduError
from ganedu.grading.leaks import find_leaks, solution_blocks
from ganedu.grading.points import points_of
from ganedu.grading.stubs import expected_stubs

TOP_FILES = ("pyproject.toml", "README.md", "environment.yml", "Makefile")
LEFT_OUT = ("solutions", "tests", "benchmarks", "book", "scripts", ".ci")

# Solution blocks that are meant to be public in one file of the package: the package is the
# course's reference code (DESIGN.md), and these exercises ask the learner to rebuild a piece of
# it from its docstring. The exercise's tests are what grade the learner, not secrecy.
PUBLIC_IN_PACKAGE = {
    ("ganedu/models/cyclegan.py", "ex07_cyclegan.ImagePool.query"): (
        "ganedu.models.cyclegan.ImagePool is the history buffer the CycleGAN recipe trains with"
    ),
    ("ganedu/nets/stylegan.py", "ex08_stylegan.truncate"): (
        "the truncation trick is one line, w_avg + psi * (w - w_avg), the equation of its docstring"
    ),
}

STUDENT_NOTE = """\
> **Student release.** This copy of ganedu holds the course, the exercises and their
> autograders, not the reference solutions: `solutions/`, `tests/` and `benchmarks/` are not
> part of it, so the commands below that name them are for the instructors' repository.
> `make test` here grades your exercises and runs every notebook in smoke mode.

"""


class ReleaseError(GaneduError):
    """The bundle could not be made (an existing OUT, a stale Makefile, solution text in it)."""


def pinned_requirements(extras: tuple[str, ...] = ("course", "dev")) -> list[str]:
    """``name==version`` for ganedu's dependencies (with ``extras``) and theirs, as installed here.

    The local version label is dropped (``torch==2.5.1``, not ``2.5.1+cpu``): PEP 440 lets
    ``==2.5.1`` accept the CPU and the CUDA builds alike. Dependencies not installed here (a
    marker for another platform) are left out.
    """
    pins: dict[str, str] = {}
    todo = [req for req in metadata.requires("ganedu") or [] if _wanted(req, extras)]
    while todo:
        name = re.split(r"[\s<>=!~;\[(]", todo.pop(), maxsplit=1)[0]
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in pins or key == "ganedu":
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        pins[key] = dist.version.split("+", 1)[0]
        todo += [req for req in dist.requires or [] if _wanted(req, ())]
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def _wanted(requirement: str, extras: tuple[str, ...]) -> bool:
    """Whether a ``Requires-Dist`` line is needed: no extra, or one of ``extras``; platform met."""
    marker = requirement.split(";", 1)[1] if ";" in requirement else ""
    extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
    if extra:
        return extra.group(1) in extras
    if not marker.strip():
        return True
    try:
        from packaging.markers import Marker

        return Marker(marker).evaluate({"extra": ""})
    except Exception:  # an unparsable marker: keep the pin, pip ignores a constraint it never needs
        return True


def _strip_notebook(text: str) -> str:
    """A notebook with no outputs, execution counts or saved widget state."""
    notebook = json.loads(text)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    notebook.get("metadata", {}).pop("widgets", None)
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _student_makefile(text: str) -> str:
    """The course Makefile, installing with ``constraints.txt`` and testing what the bundle has."""
    replacements = [
        (
            '$(PY) -m pip install -e ".[course,dev]"',
            '$(PY) -m pip install -e ".[course,dev]" -c constraints.txt',
        ),
        ('"torch>=2.2,<2.15" "torchvision>=0.17,<0.30"', "torch torchvision -c constraints.txt"),
        ("test: data lint test-unit test-grading test-notebooks", "test: data test-exercises test-notebooks"),
        (
            "test-unit: $(STAMP)",
            "# your exercises, graded (a stub fails with NotImplementedError until you write it)\n"
            "test-exercises: $(STAMP)\n\t$(TIMED) $(PY) -m pytest exercises/ -p no:cacheprovider\n\n"
            "test-unit: $(STAMP)",
        ),
    ]
    for old, new in replacements:
        if old not in text:
            raise ReleaseError(
                f"the Makefile no longer holds {old!r}: update _student_makefile in {__file__}"
            )
        text = text.replace(old, new, 1)
    return text


def _student_environment(text: str) -> str:
    old = "      - -e .[course,dev]\n"
    if old not in text:
        raise ReleaseError(f"environment.yml no longer holds {old.strip()!r}: update {__file__}")
    return text.replace(old, "      - -c constraints.txt\n" + old, 1)


def _collected(bundle: Path) -> list[str]:
    """The node ids of every graded test of the bundle, as pytest collects them."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "exercises"],
        cwd=bundle,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(bundle)},
        timeout=300,
    )
    nodeids = [line for line in proc.stdout.splitlines() if "::" in line]
    if proc.returncode != 0 or not nodeids:
        raise ReleaseError(f"the bundle's autograders do not collect: {proc.stdout.strip()[-300:]}")
    return nodeids


def classroom_workflow(chapters: dict[str, float], python: str = "3.11") -> str:
    """GitHub Classroom's ``.github/workflows/classroom.yml`` grading ``chapters`` ({name: points}).

    One ``classroom-resources/autograding-command-grader@v1`` step per chapter runs
    ``python -m ganedu grading grade <chapter>``; it earns ``max-score`` (the chapter's points)
    when every test of the chapter passes, nothing otherwise. The
    ``autograding-grading-reporter@v1`` step adds them up for Classroom.
    """
    steps = []
    for name, points in chapters.items():
        steps.append(
            f"""      - name: {name}
        id: {name}
        uses: classroom-resources/autograding-command-grader@v1
        with:
          test-name: {name}
          setup-command: ""
          command: python -m ganedu grading grade {name}
          timeout: 15
          max-score: {points:g}
"""
        )
    env = "".join(f"          {n.upper()}_RESULTS: ${{{{ steps.{n}.outputs.result }}}}\n" for n in chapters)
    return f"""# GitHub Classroom autograding, made by `python -m ganedu grading release`.
# Each chapter's step runs its autograder; the chapter earns its points when all its tests pass.
name: Autograding Tests
"on": [push, repository_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "{python}"
      - name: Install ganedu with the pinned versions
        run: |
          python -m pip install torch torchvision -c constraints.txt --index-url https://download.pytorch.org/whl/cpu
          python -m pip install -e . pytest pytest-timeout -c constraints.txt
{"".join(steps)}      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
{env}        with:
          runners: {",".join(chapters)}
"""


GRADESCOPE_SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image; the bundle is /autograder/source.
set -euo pipefail
cd /autograder/source
apt-get install -y python3 python3-pip python3-venv
python3 -m pip install torch torchvision -c constraints.txt --index-url https://download.pytorch.org/whl/cpu
python3 -m pip install -e . pytest pytest-timeout -c constraints.txt
"""

GRADESCOPE_RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission: the student's files are in /autograder/submission,
# per-test points go to /autograder/results/results.json.
cd /autograder/source
exec python3 -m ganedu grading gradescope /autograder/submission /autograder/results/results.json
"""


def release(root: Path, out: Path) -> list[Path]:
    """Write the student bundle of the course repository ``root`` to the new folder ``out``.

    Returns:
        The files written, relative to ``out``.

    Raises:
        ReleaseError: ``out`` exists and is not empty, ``root`` is not a course repository, or
            solution text would be in the bundle (then nothing is written).
    """
    root, out = Path(root).resolve(), Path(out).resolve()
    if not (root / "solutions").is_dir() or not (root / "exercises" / "conftest.py").is_file():
        raise ReleaseError(f"{root} is not the course repository (it needs solutions/ and exercises/)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReleaseError(f"{out} already exists; give a new folder (nothing was written)")
    staging = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        _build(root, staging)
        if out.exists():
            out.rmdir()
        os.rename(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())


def _build(root: Path, bundle: Path) -> None:
    def write(relative: str, text: str, mode: int = 0o644) -> None:
        path = bundle / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*", "*.egg-info")
    shutil.copytree(root / "ganedu", bundle / "ganedu", ignore=ignore)
    for notebook in sorted((root / "course").glob("*.ipynb")):
        write(f"course/{notebook.name}", _strip_notebook(notebook.read_text()))
    if (root / "course" / "README.md").is_file():
        write("course/README.md", (root / "course" / "README.md").read_text())
    for path in [root / "exercises" / "conftest.py", *sorted((root / "exercises").glob("test_ex*.py"))]:
        write(f"exercises/{path.name}", path.read_text())
    for path, text in expected_stubs(root).items():
        write(f"exercises/{path.name}", text)
    write("pyproject.toml", (root / "pyproject.toml").read_text())
    write("README.md", STUDENT_NOTE + (root / "README.md").read_text())
    write("Makefile", _student_makefile((root / "Makefile").read_text()))
    write("environment.yml", _student_environment((root / "environment.yml").read_text()))
    header = (
        "# The versions this course was run with (python -m ganedu grading release); pip -c constraints.txt\n"
    )
    write("constraints.txt", header + "\n".join(pinned_requirements()) + "\n")
    write("gradescope/setup.sh", GRADESCOPE_SETUP, 0o755)
    write("gradescope/run_autograder", GRADESCOPE_RUN, 0o755)
    chapters: dict[str, float] = {}
    for nodeid in _collected(bundle):
        name = Path(nodeid.split("::", 1)[0]).stem.removeprefix("test_")
        chapters[name] = chapters.get(name, 0.0) + points_of(nodeid, bundle)
    write(".github/workflows/classroom.yml", classroom_workflow(chapters))
    leaks = find_leaks(bundle, solution_blocks(root), PUBLIC_IN_PACKAGE)
    if leaks:
        raise ReleaseError(f"the bundle would hold solution text, so it was not written: {'; '.join(leaks)}")
