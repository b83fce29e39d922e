"""``python -m ganedu.grading``: see :func:`ganedu.grading.main`."""

from ganedu.exiting import exit_quickly
from ganedu.grading.cli import main

if __name__ == "__main__":  # a grading process started by multiprocessing imports this module too
    exit_quickly(main())
