"""Train with your own code: the learner's exercise module once its autograder passes.

Each chapter's main experiment runs on the learner's implementation when it is right::

    mine = ganedu.grading.use("ex05_wgan_gp")      # prints which implementation it hands back
    gan = GAN(..., step=lambda gan, data, b: mine.train_step(gan.G, gan.D, ...))

:func:`use` grades ``exercises/<name>.py`` in a process of its own (as :func:`check` does).
When every test passes it imports and returns that file; otherwise it returns the reference
``solutions/<name>.py`` (in a student release, which has none, the package's stand-in from
:mod:`ganedu.grading.stand_ins`) and says, in one line, which tests still fail. The module returned
carries the same line as ``module.implementation``, so a notebook can say what it trained with.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from ganedu.grading.report import check
from ganedu.grading.stubs import repository_root

_GRADED: dict[tuple[str, str], tuple[bool, str]] = {}  # (name, digest of both files) -> (passed, line)


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes() if path.is_file() else b"missing")
    return h.hexdigest()


def _import(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    return module


def verdict(name: str, device: str = "cpu", root: Path | str | None = None) -> tuple[bool, str]:
    """``(passed, line)``: whether ``exercises/<name>.py`` passes every test, and a line saying so.

    Graded once per content of the learner's file and its autograder, so calling it again
    after no edit costs nothing.
    """
    root = Path(root) if root is not None else repository_root()
    mine, tests = root / "exercises" / f"{name}.py", root / "exercises" / f"test_{name}.py"
    key = (name, _digest(mine, tests))
    if key not in _GRADED:
        report = check(name, device=device, root=root)
        total = len(report.results)
        failing = [r.name for r in report.results if r.outcome != "passed"]
        if report.problem:
            _GRADED[key] = (False, f"the reference solutions/{name}.py ({report.problem})")
        elif not failing and total:
            _GRADED[key] = (True, f"your exercises/{name}.py (all {total} tests pass)")
        else:
            shown = ", ".join(failing[:3]) + (", ..." if len(failing) > 3 else "")
            _GRADED[key] = (
                False,
                f"the reference solutions/{name}.py: your exercises/{name}.py still fails "
                f"{len(failing)} of {total} tests ({shown})",
            )
    return _GRADED[key]


def use(name: str, device: str = "cpu", root: Path | str | None = None, quiet: bool = False) -> ModuleType:
    """The learner's ``exercises/<name>.py`` if its autograder passes, else the reference solution
    (in a student release: the package's stand-in, :func:`ganedu.grading.stand_ins.stand_in`).

    Prints (unless ``quiet``) and stores as ``module.implementation`` one line naming the
    implementation handed back and, for the reference, which of the learner's tests still fail.

    Args:
        name: the exercise, e.g. ``"ex05_wgan_gp"``.
        device: where the autograder runs.
        root: the repository (default: found from the working directory).
        quiet: do not print the line.
    """
    from ganedu.grading.stand_ins import stand_in  # here: it imports PyTorch, which grading needs not

    root = Path(root) if root is not None else repository_root()
    passed, line = verdict(name, device=device, root=root)
    reference = root / "solutions" / f"{name}.py"
    if passed:
        module = _import(root / "exercises" / f"{name}.py", f"ganedu_learner_{name}")
    elif reference.is_file():
        module = _import(reference, f"ganedu_reference_{name}")
    elif (module := stand_in(name)) is not None:  # a student release: the package's code stands in
        line = line.replace(
            f"the reference solutions/{name}.py", "ganedu's own code (ganedu.grading.stand_ins)"
        )
    else:  # a student release, and a chapter that trains with none of its exercise's functions
        module = _import(root / "exercises" / f"{name}.py", f"ganedu_learner_{name}")
        line = line.replace(f"the reference solutions/{name}.py", f"your exercises/{name}.py as it is")
    module.implementation = f"training with {line}"
    module.is_learners = passed
    if not quiet:
        print(module.implementation)
    return module
