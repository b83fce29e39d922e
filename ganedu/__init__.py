"""ganedu: the reference code of a course on Generative Adversarial Networks.

The notebooks in ``course/`` import this package; each module holds one idea
(``ganedu.losses``, ``ganedu.nets``, ``ganedu.train``, ``ganedu.metrics``, ...).
"""

from ganedu.errors import GaneduError
from ganedu.runtime import budget, device, mode, seed_everything

__version__ = "0.1.0"
__all__ = ["GaneduError", "budget", "grading", "device", "mode", "seed_everything", "__version__"]


def __getattr__(name: str):
    """``ganedu.grading`` on first use, so a notebook's ``ganedu.grading.check(...)`` needs only
    ``import ganedu`` while the command line, which never grades, does not import it (0.04 s)."""
    if name == "grading":
        import importlib

        return importlib.import_module("ganedu.grading")
    raise AttributeError(f"module 'ganedu' has no attribute {name!r}")
