"""Fixtures shared by test modules in different folders."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from tests.install_support import (  # noqa: F401 - each made once a session
    pre_commit_home,
    project_snapshot,
    project_wheel,
    wheel_venv,
)
from tests.ray_support import ray_cluster  # noqa: F401 - the two-node Ray cluster

# A shell without job control starts a background command (`make test &`) with SIGINT ignored,
# and every process started from it inherits that: the Ctrl-C tests' subprocesses would never
# see their signal. A handler here is reset to the default in each child at exec.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True, scope="session")
def own_user_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A user directory of the test session's own: a `codegen serve` one test leaves running
    (or the developer's own) is never found by another test's `codegen solve`, and nothing is
    written to the real one. Tests of the discovery set CODEGEN_HOME themselves."""
    before = os.environ.get("CODEGEN_HOME")
    os.environ["CODEGEN_HOME"] = str(tmp_path_factory.mktemp("codegen-home"))
    yield
    if before is None:
        os.environ.pop("CODEGEN_HOME", None)
    else:
        os.environ["CODEGEN_HOME"] = before
