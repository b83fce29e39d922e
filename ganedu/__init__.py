"""ganedu: the reference code of a course on Generative Adversarial Networks.

The notebooks in ``course/`` import this package; each module holds one idea
(``ganedu.losses``, ``ganedu.nets``, ``ganedu.train``, ``ganedu.metrics``, ...).
"""

from ganedu import grading  # so a notebook's `ganedu.grading.check(...)` needs only `import ganedu`
from ganedu.errors import GaneduError
from ganedu.runtime import budget, device, mode, seed_everything

__version__ = "0.1.0"
__all__ = ["GaneduError", "budget", "grading", "device", "mode", "seed_everything", "__version__"]
