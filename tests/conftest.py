"""Settings for the whole test suite."""

import os

# Commands the tests start run cold: none leaves a warm process behind (tests/test_warm.py starts
# its own and stops it).
os.environ["GANEDU_WARM"] = "0"
