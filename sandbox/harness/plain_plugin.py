"""The two things every sandbox run sets for the tests, for plain ``pytest`` in the strict
reference container (:mod:`plain`): the same hypothesis profile as the harness's, and
``random`` seeded from the run's seed and the test's id before each test, as the harness's
plugin does. Nothing else of the harness: the candidate runs in the tests' own process."""

from __future__ import annotations

import os
import random

import pytest

from . import profile  # noqa: F401  (the harness's hypothesis profile, loaded)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    random.seed(f"{os.environ.get('CODEGEN_SEED', '')}:{item.nodeid}")
