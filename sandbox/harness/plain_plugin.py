"""The two things every sandbox run sets for the tests, for plain ``pytest`` in the strict
reference container (:mod:`plain`): the same hypothesis profile as the harness's, and
``random`` seeded from the run's seed and the test's id before each test, as the harness's
plugin does. Nothing else of the harness: the candidate runs in the tests' own process.

For a project's own tests, the candidate is the project's module: ``CODEGEN_MODULE`` names it
and ``CODEGEN_MODULE_SOURCE`` holds its source, served in place of its file whenever the
tests (or the package) import it."""

from __future__ import annotations

import json
import os
import random
import sys

import pytest

from . import profile  # noqa: F401  (the harness's hypothesis profile, loaded)
from .candidate import OneModule

if os.environ.get("CODEGEN_MODULE"):
    _module = json.loads(os.environ["CODEGEN_MODULE"])
    with open(os.environ["CODEGEN_MODULE_SOURCE"]) as _handle:
        sys.meta_path.insert(0, OneModule(_module["name"], _module["file"], _handle.read()))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    random.seed(f"{os.environ.get('CODEGEN_SEED', '')}:{item.nodeid}")
