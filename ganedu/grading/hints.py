"""Progressive hints: a nudge first, then the key line, each hidden until the learner opens it.

Every exercise file holds a ``HINTS = {"function": ["nudge", "the key line"], ...}`` dict (kept
in the stubs). :func:`hints` reads it without importing the file (the learner's code does not
run) and shows each function's hints as folded sections in a notebook, one level at a time::

    ganedu.grading.hints("ex05_wgan_gp")                    # every function of the chapter
    ganedu.grading.hints("ex05_wgan_gp", "gradient_penalty")
"""

from __future__ import annotations

import ast
import html
from dataclasses import dataclass
from pathlib import Path

from ganedu.errors import GaneduError
from ganedu.grading.stubs import repository_root

LEVELS = ("a nudge", "the key line", "one more step")


def read_hints(path: Path) -> dict[str, list[str]]:
    """The ``HINTS`` dict of an exercise file, read as a literal (nothing in the file runs)."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "HINTS" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


@dataclass
class Hints:
    """Hints for some functions of one exercise, shown folded (HTML ``<details>``) or as text."""

    name: str
    hints: dict[str, list[str]]

    def __repr__(self) -> str:
        lines = []
        for function, levels in self.hints.items():
            lines.append(f"{function}:")
            lines += [f"  hint {i + 1} ({LEVELS[min(i, 2)]}): {text}" for i, text in enumerate(levels)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = []
        for function, levels in self.hints.items():
            inner = ""
            for i, text in reversed(list(enumerate(levels))):  # each level folded inside the one before
                inner = (
                    f"<details style='margin-left:1em'><summary>hint {i + 1}: {LEVELS[min(i, 2)]}</summary>"
                    f"<p><code>{html.escape(text)}</code></p>{inner}</details>"
                )
            parts.append(f"<p><b><code>{html.escape(function)}</code></b></p>{inner}")
        return "".join(parts)


def hints(name: str, function: str | None = None, root: Path | str | None = None) -> Hints:
    """The hints of exercise ``name`` (all its functions, or ``function``), folded until opened."""
    root = Path(root) if root is not None else repository_root()
    path = root / "exercises" / f"{name}.py"
    if not path.is_file():
        path = root / "solutions" / f"{name}.py"
    if not path.is_file():
        raise GaneduError(f"no exercise {name!r} in {root}")
    found = read_hints(path)
    if function is not None:
        if function not in found:
            raise GaneduError(f"{name} has no hints for {function!r}; it has hints for: {', '.join(found)}")
        found = {function: found[function]}
    return Hints(name, found)
