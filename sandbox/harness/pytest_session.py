"""pytest, configured once per container and given a fresh session for every job.

Configuring pytest and building its fixture manager is most of its start-up (tens of ms); the
harness pays it once, then per job creates a new ``Session`` whose fixture manager starts from a
snapshot holding only the plugins' fixtures. Collected test modules are dropped after each job,
so one job's tests and fixtures never leak into the next. This leans on pytest internals: both
image recipes pin pytest 7.2.1, and the Docker test suite runs many jobs per container.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from typing import Any

import pytest
from _pytest.config import _prepareconfig
from _pytest.main import Session
from _pytest.runner import SetupState

UNUSED_PLUGINS = [
    "cacheprovider", "pastebin", "junitxml", "doctest", "nose", "logging", "stepwise",
    "setuponly", "setupplan", "faulthandler", "freeze_support", "debugging",
]  # fmt: skip


def _arguments(root: str, test_dir: str) -> list[str]:
    disabled = [arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")]
    return ["-q", "--capture=no", "-o", "python_files=test_*.py", "--rootdir", root, *disabled,
            test_dir]  # fmt: skip


class ReusablePytest:
    def __init__(self, root: str, test_dir: str, plugin: Any) -> None:
        self.test_dir = test_dir
        os.makedirs(test_dir, exist_ok=True)
        _warm_up(root)
        self.config = _prepareconfig(_arguments(root, test_dir), plugins=[plugin])
        self.config._do_configure()
        first = Session.from_config(self.config)
        self.config.hook.pytest_sessionstart(session=first)
        self.fixtures = first._fixturemanager
        # `type: ignore` below: mypy reads the host's pytest; these are private attributes of the
        # image's pytest 7.2 (images/Dockerfile.*), where this module runs
        self._defs = {name: list(defs) for name, defs in self.fixtures._arg2fixturedefs.items()}  # type: ignore[attr-defined]  # the image's pytest 7.2
        self._seen = set(self.fixtures._holderobjseen)  # type: ignore[attr-defined]  # the image's pytest 7.2
        self._autouse = {k: list(v) for k, v in self.fixtures._nodeid_autousenames.items()}
        self.session = first

    def new_session(self) -> Session:
        manager = self.config.pluginmanager
        manager.unregister(self.session)
        # else the same test path is skipped as a duplicate
        manager._duplicatepaths.clear()  # type: ignore[attr-defined]  # the image's pytest 7.2
        session = Session.from_config(self.config)
        session.exitstatus = 0
        session._setupstate = SetupState()
        self.fixtures.session = session
        self.fixtures._arg2fixturedefs = {name: list(d) for name, d in self._defs.items()}  # type: ignore[attr-defined]  # the image's pytest 7.2
        self.fixtures._holderobjseen = set(self._seen)  # type: ignore[attr-defined]  # the image's pytest 7.2
        self.fixtures._nodeid_autousenames = {k: list(v) for k, v in self._autouse.items()}  # type: ignore[misc]  # the image's pytest 7.2
        session._fixturemanager = self.fixtures
        terminal = manager.get_plugin("terminalreporter")
        if terminal is not None:
            terminal._session = session
        self.session = session
        return session

    def finish(self) -> None:
        """Tear down session-scoped fixtures and forget the job's test modules."""
        with contextlib.suppress(Exception):
            self.session._setupstate.teardown_exact(None)
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None) or ""
            if name == "solution" or path.startswith(self.test_dir):
                del sys.modules[name]


def _warm_up(root: str) -> None:
    """Run pytest once on a throwaway test so that its lazy imports happen now."""
    warm = os.path.join(root, "warm")
    os.makedirs(warm, exist_ok=True)
    with open(os.path.join(warm, "test_warm.py"), "w") as handle:
        handle.write("import pytest\n\n@pytest.mark.parametrize('x', [1])\n"
                     "def test_warm(x):\n    assert x == 1\n")  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", root, warm])
    sys.modules.pop("test_warm", None)
