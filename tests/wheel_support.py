"""The project as users install it, built once per test session: its wheel (not this checkout),
and a fresh virtualenv holding it with every dependency resolved from the wheel's metadata.
Installing that virtualenv takes minutes here (a pip install of every dependency); the tests of
the installed project (tests/test_packaging.py, tests/test_readme_quickstart.py) share it. Neither
installs into it: what they run writes to their own folders and caches (the embedded model's
engine goes into the user's cache, in an environment of its own)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_support import ROOT


@pytest.fixture(scope="session")
def project_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")  # keep build/ out of the checkout
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True, cwd=build, env={**os.environ, "TMPDIR": str(build)},
        capture_output=True, timeout=600,
    )  # fmt: skip
    (found,) = out.glob("codegen-*.whl")
    return found


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory, project_wheel: Path) -> Path:
    """A fresh virtualenv holding the project's wheel and its dependencies, nothing else."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(project_wheel)],
        check=True, capture_output=True, timeout=1200,
    )  # fmt: skip
    return venv
