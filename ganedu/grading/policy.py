"""What an exercise file may not do when a class is graded, checked by reading it (never running it).

A chapter's tests call the learner's functions in the chapter's own process, so code in the
learner's file could reach the grading machinery there (patch pytest's reports, the journal,
the fixtures) and forge its own results. No exercise needs any of that, so before grading, each
file's syntax tree is checked for the ways in: importing the test machinery or the interpreter's
introspection (``pytest``, ``ganedu.grading``, ``inspect``, ``gc``, ``ctypes``, ``importlib``, ...),
running text as code (``eval``, ``exec``, ``compile``, ``__import__``), reaching other modules or
frames through the interpreter (``sys.modules``, ``sys._getframe``, ``f_back``, ``__globals__``,
``__builtins__``, ``__subclasses__``), starting programs or processes, or lifting a limit
(``resource``, ``signal``). A file that does gets no points for its chapter and is not run.

This is a check of the text, so code written to evade it (a name built at run time from pieces
the check does not know) is not caught; what the sandbox holds (other students' files, the
gradebook, the network) does not depend on it.
"""

from __future__ import annotations

import ast

FORBIDDEN_MODULES = {
    "_pytest": "the test machinery",
    "pytest": "the test machinery",
    "pluggy": "the test machinery",
    "conftest": "the test machinery",
    "ganedu.grading": "the grader",
    "builtins": "the interpreter's built-ins",
    "ctypes": "raw memory access",
    "gc": "the interpreter's object list",
    "inspect": "the interpreter's frames",
    "importlib": "importing by name at run time",
    "subprocess": "starting programs",
    "multiprocessing": "starting processes",
    "pty": "starting programs",
    "signal": "the grader's time limits",
    "resource": "the grader's memory limits",
    "faulthandler": "the grader's crash handling",
}
FORBIDDEN_CALLS = {
    "eval": "running text as code",
    "exec": "running text as code",
    "compile": "running text as code",
    "__import__": "importing by name at run time",
    "breakpoint": "the debugger",
    "globals": "other code's variables",
}
# attributes of any object that lead to other code's frames and variables
FORBIDDEN_ATTRIBUTES = {
    "f_back": "the interpreter's frames",
    "f_globals": "the interpreter's frames",
    "f_locals": "the interpreter's frames",
    "f_builtins": "the interpreter's frames",
    "tb_frame": "the interpreter's frames",
    "gi_frame": "the interpreter's frames",
    "cr_frame": "the interpreter's frames",
    "__globals__": "other code's variables",
    "__builtins__": "the interpreter's built-ins",
    "__subclasses__": "every class in the interpreter",
    "__code__": "functions' code",
}
# names in sys and os, used as ``sys.NAME`` / ``os.NAME`` or imported from them
MODULE_ATTRIBUTES = {
    "sys": {
        "modules": "other modules",
        "_getframe": "the interpreter's frames",
        "settrace": "the interpreter's tracing",
        "setprofile": "the interpreter's tracing",
    },
    "os": {
        "system": "starting programs",
        "popen": "starting programs",
        "fork": "starting processes",
        "forkpty": "starting processes",
        "kill": "signalling processes",
        "killpg": "signalling processes",
        "posix_spawn": "starting programs",
        "posix_spawnp": "starting programs",
        "exec": "starting programs",  # and every os.exec*
        "spawn": "starting programs",  # and every os.spawn*
    },
}


def check_exercise(source: bytes, filename: str) -> str:
    """Why ``source`` may not be graded, naming the line (``""`` when it may).

    A syntax error is a reason too: the file would not import.
    """
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as e:
        where = f"line {e.lineno}: " if e.lineno else ""
        return f"{filename} has a syntax error, {where}{e.msg}; it does not import, so no test can pass"
    except ValueError as e:  # null bytes
        return f"{filename} cannot be read as Python ({e})"
    for node in ast.walk(tree):
        found = _forbidden(node)
        if found:
            what, why = found
            return (
                f"{filename} line {node.lineno} uses {what} ({why}), which an exercise may not use "
                "when it is graded: remove it (this chapter got no points)"
            )
    return ""


def _forbidden(node: ast.AST) -> tuple[str, str] | None:
    """What ``node`` uses that an exercise may not, and why; ``None`` when nothing."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        return _forbidden_import(node)
    if isinstance(node, ast.Name) and node.id in FORBIDDEN_CALLS:
        return node.id, FORBIDDEN_CALLS[node.id]
    if isinstance(node, ast.Name) and node.id in FORBIDDEN_ATTRIBUTES:
        return node.id, FORBIDDEN_ATTRIBUTES[node.id]
    if isinstance(node, ast.Attribute):
        if node.attr in FORBIDDEN_ATTRIBUTES:
            return f".{node.attr}", FORBIDDEN_ATTRIBUTES[node.attr]
        if isinstance(node.value, ast.Name) and node.value.id in MODULE_ATTRIBUTES:
            return _module_attribute(node.value.id, node.attr)
    return None


def _forbidden_import(node: ast.Import | ast.ImportFrom) -> tuple[str, str] | None:
    if isinstance(node, ast.ImportFrom) and node.level > 0:
        return "a relative import", "the test machinery's own modules"
    if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
    else:
        modules = [node.module or "", *(f"{node.module}.{alias.name}" for alias in node.names)]
    for module in modules:
        for name, why in FORBIDDEN_MODULES.items():
            if module == name or module.startswith(name + "."):
                return f"import {module}", why
        parent, _, attr = module.rpartition(".")
        if parent in MODULE_ATTRIBUTES and (found := _module_attribute(parent, attr)):
            return f"import {module}", found[1]
    for alias in node.names:
        if alias.name in FORBIDDEN_CALLS:
            return f"import {alias.name}", FORBIDDEN_CALLS[alias.name]
    return None


def _module_attribute(module: str, attr: str) -> tuple[str, str] | None:
    for name, why in MODULE_ATTRIBUTES[module].items():
        if attr == name or (name in ("exec", "spawn") and attr.startswith(name)):
            return f"{module}.{attr}", why
    return None
