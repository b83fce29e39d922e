"""``python -m ganedu.grading``: see :func:`ganedu.grading.main`."""

import sys

from ganedu.grading.cli import main

if __name__ == "__main__":  # a grading process started by multiprocessing imports this module too
    sys.exit(main())
