"""The autograder's shared machinery: which file is graded, on which device, for how long.

``pytest exercises/`` grades your files in ``exercises/``; ``pytest exercises/ --solutions``
grades the reference solutions in ``solutions/``. ``--device cuda`` runs the tests on a GPU.
Every test has a time limit of 60 s unless it says otherwise (``@pytest.mark.timeout(N)``),
so an exercise that loops forever fails instead of hanging the grader.

Each test file is graded in a Python process of its own (two at a time), so nothing one
chapter's file does (patching ``torch.allclose``, a float64 default dtype, ``os._exit``) can
change another chapter's grades. A test whose process dies fails alone, with the reason
(crashed, timed out, out of memory); the rest of its chapter runs again without it. A chapter
may use 40% of the machine's memory (``--memory-limit GIB`` to change it).

A test module gets the exercise it grades as a fixture::

    from conftest import exercise_fixture

    ex = exercise_fixture("ex01_gan_basics")

    def test_noise_has_the_asked_shape(ex, device):
        assert ex.sample_noise(4, 8, device=device).shape == (4, 8)

When the environment variable ``GANEDU_MUTANTS`` names a directory, the ``ex`` fixture is
instead parametrised over the files ``<name>__<bug_id>.py`` found there: one run grades many
variants of an exercise (``tests/test_graders_catch_bugs.py`` checks that each catalogued bug
fails at least one test).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest
import torch

from ganedu.grading import isolation, journal

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TIMEOUT_S = 60
MUTANTS_ENV = "GANEDU_MUTANTS"


def pytest_addoption(parser):
    group = parser.getgroup("ganedu", "ganedu autograder")
    group.addoption(
        "--solutions", action="store_true", help="grade solutions/ instead of the exercises in exercises/"
    )
    group.addoption("--device", default="cpu", help="device the tests run on: cpu (default), cuda, mps")
    group.addoption(
        "--memory-limit",
        type=float,
        default=None,
        metavar="GIB",
        help="memory one chapter's tests may use, in GiB (default: 40%% of this machine's)",
    )


def pytest_configure(config):
    if journal.in_chapter_process():  # two chapters run at once: two threads each from four cores
        torch.set_num_threads(max(1, min(2, torch.get_num_threads() // isolation.PARALLEL_CHAPTERS)))
        return
    device = config.getoption("--device")
    gib = config.getoption("--memory-limit")
    isolation.configure(
        config,
        chapter_args=[f"--device={device}", *(["--solutions"] if config.getoption("--solutions") else [])],
        memory_limit=int(gib * journal.GIB) if gib else journal.default_memory_limit(),
        cap_data=torch.device(device).type == "cpu",
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT_S))


def exercise_path(name: str, solutions: bool) -> Path:
    """``solutions/<name>.py`` or ``exercises/<name>.py``."""
    return ROOT / ("solutions" if solutions else "exercises") / f"{name}.py"


def load_module(name: str, solutions: bool):
    """Import the exercise file afresh (never a cached copy), under its own module name."""
    path = exercise_path(name, solutions)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing; run `python -m ganedu.grading make-stubs` to recreate it"
        )
    module_name = f"graded_{'solutions' if solutions else 'exercises'}_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_exercise(request):
    """A function ``load_exercise("ex01_gan_basics") -> module``, honouring ``--solutions``."""
    solutions = request.config.getoption("--solutions")
    return lambda name: load_module(name, solutions)


def exercise_fixture(name: str):
    """A module-scoped fixture named ``ex``: the exercise module ``name`` being graded.

    Use it at module level: ``ex = exercise_fixture("ex04_wgan")``.
    """
    if os.environ.get(MUTANTS_ENV):
        return _mutant_fixture(name, Path(os.environ[MUTANTS_ENV]))

    @pytest.fixture(scope="module", name="ex")
    def _exercise(load_exercise):
        return load_exercise(name)

    return _exercise


def _mutant_fixture(name: str, directory: Path):
    """The ``ex`` fixture parametrised over ``directory/<name>__<bug_id>.py``, one test id per bug."""
    paths = sorted(directory.glob(f"{name}__*.py"))

    @pytest.fixture(scope="module", name="ex", params=paths, ids=[p.stem.split("__", 1)[1] for p in paths])
    def _mutant(request):
        module_name = f"graded_mutant_{request.param.stem}"
        spec = importlib.util.spec_from_file_location(module_name, request.param)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module

    return _mutant


@pytest.fixture(scope="session")
def device(request) -> torch.device:
    """The device given by ``--device`` (default cpu)."""
    dev = torch.device(request.config.getoption("--device"))
    if dev.type == "cuda" and not torch.cuda.is_available():
        pytest.exit("--device cuda was given but no CUDA GPU is visible", returncode=4)
    return dev


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state, default dtype and grad mode, so a grade
    never depends on test order or on what an earlier test's exercise code left behind."""
    torch.manual_seed(0)
    dtype, grad = torch.get_default_dtype(), torch.is_grad_enabled()
    yield
    torch.set_default_dtype(dtype)
    torch.set_grad_enabled(grad)


# ------------------------------------------------------- shared by the graders of training steps


class CountingSGD(torch.optim.SGD):
    """SGD that counts its steps (``steps``) and calls ``on_step()``, if given, before each."""

    def __init__(self, params, lr, on_step=None):
        super().__init__(params, lr)
        self.steps, self.on_step = 0, on_step

    def step(self, closure=None):
        self.steps += 1
        if self.on_step is not None:
            self.on_step()
        return super().step(closure)


def max_difference(a, b) -> float:
    """The largest absolute difference between two networks' parameters."""
    return max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters(), strict=True))


def max_gap(a: dict, b: dict) -> float:
    """The largest absolute difference between two state dicts with the same keys."""
    return max((a[k] - b[k]).abs().max().item() for k in a)
