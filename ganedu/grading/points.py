"""Points per graded test, declared beside the graders.

Each autograder ``exercises/test_exNN_<topic>.py`` may hold one module-level literal::

    POINTS = {"test_train_step_matches_the_reference_over_two_steps": 2, ...}

A test function named there is worth that many points; every other test is worth
:data:`DEFAULT_POINTS` (1). A parametrised test's points apply to each of its cases: the
cases are separate tests a learner passes one by one. :func:`read_points` reads the literal
without importing the file (nothing in it runs), and a test of ganedu pins that every key
names a test function of its file, so a renamed test cannot fall back to the default unseen.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from ganedu.errors import GaneduError

DEFAULT_POINTS = 1.0


class PointsError(GaneduError, ValueError):
    """A ``POINTS`` declaration that is not a literal dict of test names to non-negative numbers."""


def read_points(test_file: Path) -> dict[str, float]:
    """The ``POINTS`` dict of one autograder, ``{test function name: points}``, read via the AST.

    Returns ``{}`` when the file declares none (every test then earns :data:`DEFAULT_POINTS`).

    Raises:
        PointsError: ``POINTS`` is not a literal dict of names to numbers >= 0.
    """
    test_file = Path(test_file)
    stat = test_file.stat()
    return dict(_read_points(str(test_file.resolve()), stat.st_mtime_ns, stat.st_size))


@cache
def _read_points(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, float], ...]:
    """:func:`read_points`, remembered while the file keeps its modification time and size."""
    tree = ast.parse(Path(path).read_text(), filename=path)
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if not any(isinstance(t, ast.Name) and t.id == "POINTS" for t in targets):
            continue
        try:
            points = ast.literal_eval(node.value)
        except ValueError:
            raise PointsError(f"{path}:{node.lineno}: POINTS must be a literal dict") from None
        if not isinstance(points, dict) or not all(
            isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
            for k, v in points.items()
        ):
            raise PointsError(
                f"{path}:{node.lineno}: POINTS must map test function names to numbers >= 0, "
                'e.g. {"test_train_step_matches_the_reference": 2}'
            )
        return tuple((k, float(v)) for k, v in points.items())
    return ()


def graded_functions(test_file: Path) -> list[str]:
    """The names of the module-level ``test_*`` functions of an autograder, in file order."""
    tree = ast.parse(Path(test_file).read_text())
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    ]


def function_of(nodeid: str) -> str:
    """The test function of a pytest node id: ``"f.py::test_x[cpu-3]"`` -> ``"test_x"``."""
    return nodeid.split("::")[-1].split("[", 1)[0] if "::" in nodeid else ""


def points_of(nodeid: str, root: Path) -> float:
    """Points for one graded test such as ``"exercises/test_ex02_dcgan.py::test_x[cpu-3]"``.

    The file's ``POINTS`` entry for the test function, else :data:`DEFAULT_POINTS`; a node id
    without a test (a module that failed to collect) or whose file is gone is worth the default.
    """
    path = Path(root) / nodeid.split("::", 1)[0]
    if not path.is_file():
        return DEFAULT_POINTS
    return read_points(path).get(function_of(nodeid), DEFAULT_POINTS)
