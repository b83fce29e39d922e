"""ganedu: the reference code of a course on Generative Adversarial Networks.

The notebooks in ``course/`` import this package; each module holds one idea
(``ganedu.losses``, ``ganedu.nets``, ``ganedu.train``, ``ganedu.metrics``, ...).
"""

from ganedu.errors import GaneduError

__version__ = "0.1.0"
__all__ = ["GaneduError", "budget", "grading", "device", "mode", "seed_everything", "__version__"]


RUNTIME = ("budget", "device", "mode", "seed_everything")  # from ganedu.runtime, which imports PyTorch


def __getattr__(name: str):
    """``ganedu.budget`` and the rest of :data:`RUNTIME`, and ``ganedu.grading``, on first use.

    So ``import ganedu`` imports no PyTorch (``python -m ganedu options`` needs none), a
    notebook's ``ganedu.grading.check(...)`` needs only ``import ganedu``, and the command
    line, which never grades, does not import the grader (0.04 s).
    """
    import importlib

    if name in RUNTIME:
        return getattr(importlib.import_module("ganedu.runtime"), name)
    if name == "grading":
        return importlib.import_module("ganedu.grading")
    raise AttributeError(f"module 'ganedu' has no attribute {name!r}")
