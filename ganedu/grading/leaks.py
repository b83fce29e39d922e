"""Solution text found where learners can read it.

Every ``# BEGIN SOLUTION`` .. ``# END SOLUTION`` block of ``solutions/`` is normalised (comments
and all whitespace removed, so re-indenting or re-wrapping a copy does not hide it) and looked
for in every text file of a folder, normalised the same way; a notebook is searched cell by
cell in its decoded sources. Docstrings and hints stay outside the blocks, so they are allowed.
"""

from __future__ import annotations

import ast
import io
import json
import re
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path

from ganedu.grading.stubs import BEGIN, END, _functions


@dataclass(frozen=True)
class Block:
    """One solution block: where it is, the function it completes, its code without comments
    or whitespace; ``name`` is ``"ex07_cyclegan.ImagePool.query"``."""

    path: Path
    line: int
    name: str
    code: str


def normalise(code: str) -> str:
    """``code`` without comments and without any whitespace.

    Comments are found by Python's tokenizer, so a ``#`` inside a string stays; in text that
    is not Python (a learner's half-written file, YAML) a ``#`` after a space ends the line.
    """
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
        code = "".join(t.string for t in tokens if t.type != tokenize.COMMENT)
    except (tokenize.TokenError, IndentationError, SyntaxError):  # not Python: cut comments by line
        code = "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in code.splitlines())
    return "".join(code.split())


def solution_blocks(root: Path) -> list[Block]:
    """Every solution block of ``root/solutions/ex*.py``, normalised, in file order."""
    blocks = []
    for path in sorted((Path(root) / "solutions").glob("ex[0-9][0-9]_*.py")):
        text = path.read_text()
        lines = text.splitlines(keepends=True)
        functions = list(_functions(ast.parse(text)))
        start = None
        for number, line in enumerate(lines, start=1):
            if line.strip() == BEGIN:
                start = number
            elif line.strip() == END and start is not None:
                body = textwrap.dedent("".join(lines[start : number - 1]))
                function = max(f for f in functions if f[0] < start <= f[1])[2]
                blocks.append(Block(path, start, f"{path.stem}.{function}", normalise(body)))
                start = None
    return blocks


def _searchable(path: Path) -> str | None:
    """A file's text as it is searched: a notebook's cell sources, else the file; None if binary."""
    try:
        text = path.read_text()
    except (UnicodeDecodeError, OSError):
        return None
    if path.suffix == ".py":
        text = _without_hints(text)
    if path.suffix == ".ipynb":
        cells = json.loads(text).get("cells", [])
        return "\n".join(normalise("".join(c.get("source", ""))) for c in cells)
    return normalise(text)


def _without_hints(text: str) -> str:
    """A Python file's text with its ``HINTS = {...}`` literal blanked: a hint may show a key line."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "HINTS" for t in node.targets):
            lines[node.lineno - 1 : node.end_lineno] = ["\n"] * (node.end_lineno - node.lineno + 1)
    return "".join(lines)


def find_leaks(
    folder: Path, blocks: list[Block], allowed: dict[tuple[str, str], str] | None = None
) -> list[str]:
    """Where a solution block appears in a file under ``folder``: one line per leak.

    Files that are not UTF-8 text (weights) are skipped; an exercise file's ``HINTS`` literal
    is not searched (hints are meant to be read).

    Args:
        folder: the folder to search, e.g. a released bundle.
        blocks: :func:`solution_blocks` of the course repository.
        allowed: ``{(file under folder, block name): why}``, e.g.
            ``{("ganedu/models/cyclegan.py", "ex07_cyclegan.ImagePool.query"): "..."}``: a block
            meant to be public in that one file (the package's own reference of the same code).

    Returns:
        ``"<file> holds the solution of <block name> (solutions/<file>:<line>)"`` per leak.
    """
    allowed = allowed or {}
    leaks = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        text = _searchable(path)
        if text is None:
            continue
        name = str(path.relative_to(folder))
        leaks += [
            f"{name} holds the solution of {b.name} (solutions/{b.path.name}:{b.line})"
            for b in blocks
            if b.code and b.code in text and (name, b.name) not in allowed
        ]
    return leaks
