"""Learner stubs generated from the solutions, and where a course repository keeps them.

Each chapter's exercises have one source, ``solutions/exNN_<topic>.py``. Inside a function
body the reference code sits between ``# BEGIN SOLUTION`` and ``# END SOLUTION``;
:func:`make_stub` replaces that block by ``raise NotImplementedError(...)`` to make the
learner's file ``exercises/exNN_<topic>.py``. The docstring above the markers stays, so the
stub still says what to compute.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ganedu.errors import GaneduError

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
STUB_HEADER = (
    "# Generated from solutions/{name}.py by `python -m ganedu.grading make-stubs`.\n"
    "# Replace each `raise NotImplementedError(...)` with your code; grade with\n"
    "# `ganedu.grading.check({name!r})` in the notebook or `pytest exercises/test_{name}.py`.\n"
)


class StubError(GaneduError, ValueError):
    """A solution file whose ``BEGIN/END SOLUTION`` markers cannot be turned into a stub."""


def make_stub(source_text: str, name: str | None = None) -> str:
    """Turn a solution module into the learner's stub.

    Every block from a line ``# BEGIN SOLUTION`` to a line ``# END SOLUTION`` (both included,
    at the indentation of the function body) becomes one line
    ``raise NotImplementedError("<function>: ...")`` at that indentation.

    Args:
        source_text: the text of ``solutions/exNN_<topic>.py``.
        name: the exercise name (``"ex01_gan_basics"``); when given, a comment saying where the
            file comes from and how to grade it is put on top.

    Returns:
        The stub's text.

    Raises:
        StubError: a marker without its partner, nested markers, ends at another indentation,
            or a block outside any function.
    """
    lines = source_text.splitlines(keepends=True)
    try:
        tree = ast.parse(source_text)
    except SyntaxError as e:
        raise StubError(f"line {e.lineno}: the solution is not valid Python: {e.msg}") from None
    functions = list(_functions(tree))
    out: list[str] = []
    block_indent: str | None = None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if block_indent is not None:  # inside a solution block: drop lines until END
            if stripped == BEGIN:
                raise StubError(f"line {number}: {BEGIN} inside another solution block")
            if stripped == END:
                if indent != block_indent:
                    raise StubError(f"line {number}: {END} is not indented like its {BEGIN}")
                block_indent = None
            continue
        if stripped == END:
            raise StubError(f"line {number}: {END} without a {BEGIN} before it")
        if stripped == BEGIN:
            enclosing = [f for f in functions if f[0] < number <= f[1]]
            if not enclosing:
                raise StubError(f"line {number}: {BEGIN} outside a function body")
            function = max(enclosing)[2]  # the innermost one starts last
            out.append(
                f'{indent}raise NotImplementedError("{function}: not implemented yet, see its docstring")\n'
            )
            block_indent = indent
            continue
        out.append(line)
    if block_indent is not None:
        raise StubError(f"{BEGIN} without an {END} after it")
    header = STUB_HEADER.format(name=name) if name else ""
    return header + "".join(out)


def _functions(node: ast.AST, prefix: str = ""):
    """``(first line, last line, qualified name)`` of every function under ``node``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = prefix + child.name
            if not isinstance(child, ast.ClassDef):
                yield child.lineno, child.end_lineno, name
            yield from _functions(child, name + ".")
        else:
            yield from _functions(child, prefix)


def repository_root(start: Path | None = None) -> Path:
    """The course repository: the first folder at or above ``start`` (default: the working
    directory) that holds ``exercises/conftest.py``, else the folder that holds this package."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "exercises" / "conftest.py").is_file():
            return folder
    return Path(__file__).resolve().parents[2]  # ganedu/grading/stubs.py -> the repository


def exercise_names(root: Path) -> list[str]:
    """Names of the exercises, one per ``solutions/exNN_<topic>.py``, in chapter order; in a
    student release (no ``solutions/``) one per autograder ``exercises/test_exNN_<topic>.py``."""
    names = sorted(p.stem for p in (root / "solutions").glob("ex[0-9][0-9]_*.py"))
    return names or sorted(
        p.stem.removeprefix("test_") for p in (root / "exercises").glob("test_ex[0-9][0-9]_*.py")
    )


def expected_stubs(root: Path) -> dict[Path, str]:
    """What :func:`make_stub` makes from every solution: ``{stub path: text}``."""
    return {
        root / "exercises" / path.name: make_stub(path.read_text(), path.stem)
        for path in sorted((root / "solutions").glob("ex[0-9][0-9]_*.py"))
    }


def write_stubs(root: Path) -> list[Path]:
    """Write every stub that differs from its solution's; returns the paths written."""
    written = []
    for path, text in expected_stubs(root).items():
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written
