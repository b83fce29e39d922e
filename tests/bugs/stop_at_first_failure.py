"""pytest plugin for grading bug variants: once a variant has failed a test, skip its other tests.

``tests/test_graders_catch_bugs.py`` loads it (``-p stop_at_first_failure``) in the process that
grades a chapter's variants; one failure is all it asks of a variant, so the rest is saved time.
"""

import pytest

_failed: set[str] = set()


def _variant(item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return str(callspec.params["ex"]) if callspec is not None and "ex" in callspec.params else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if outcome.get_result().failed and _variant(item) is not None:
        _failed.add(_variant(item))


def pytest_runtest_setup(item):
    if _variant(item) in _failed:
        pytest.skip("this variant has already failed a test")
