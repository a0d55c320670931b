"""The project as users install it, made once per test session, each a pip install of every
dependency (minutes here):

- its wheel (not this checkout) in a fresh virtualenv, for tests/test_packaging.py and
  tests/test_readme_quickstart.py. Neither installs into it: what they run writes to their own
  folders and caches (the embedded model's engine goes into the user's cache, in an environment
  of its own);
- a git repository of this working tree, as a pre-commit user's `repo:` points at, and one
  PRE_COMMIT_HOME, where pre-commit installs that repository into a virtualenv of its own once
  per repository and rev: the `repo:` form's tests (tests/test_precommit_e2e.py,
  tests/test_project_e2e.py) then share it, as one user's commits do."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli_support import ROOT

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
}  # fmt: skip


def project_repository(where: Path) -> tuple[Path, str]:
    """A git repository holding exactly this project's working tree, committed: what a user's
    `repo: <url>` points at. pre-commit clones it at `rev` and pip-installs it (not editable)
    into a virtualenv of its own, so the hook runs from an installed wheel, not this checkout."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source, target = ROOT / name, where / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    env = {**os.environ, **GIT_IDENTITY}
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *command], cwd=where, env=env, check=True, capture_output=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True)
    return where, head.stdout.strip()


def made_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], str]
) -> tuple[Path, str]:
    """What ``make`` builds in the folder ``name``, once for the whole test session: under
    `make test`'s pytest-xdist workers the first to take the lock builds it and the others wait
    for it and reuse it (their base folders share a parent). ``make`` returns a string (a
    file's name, a commit), handed to every caller with the folder."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            done.write_text(make(folder))
    return folder, done.read_text()


@pytest.fixture(scope="session")
def project_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def build(out: Path) -> str:
        work = out / "build"  # keep build/ out of the checkout
        work.mkdir()
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
            check=True, cwd=work, env={**os.environ, "TMPDIR": str(work)},
            capture_output=True, timeout=600,
        )  # fmt: skip
        (found,) = out.glob("codegen-*.whl")
        return found.name

    folder, wheel = made_once(tmp_path_factory, "wheel", build)
    return folder / wheel


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory, project_wheel: Path) -> Path:
    """A fresh virtualenv holding the project's wheel and its dependencies, nothing else."""

    def install(folder: Path) -> str:
        venv = folder / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(project_wheel)],
            check=True, capture_output=True, timeout=1200,
        )  # fmt: skip
        return venv.name

    folder, venv = made_once(tmp_path_factory, "wheel-venv", install)
    return folder / venv


@pytest.fixture(scope="session")
def project_snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This working tree as a `repo:` (path, rev), committed once for the session."""
    folder, rev = made_once(
        tmp_path_factory, "project", lambda folder: project_repository(folder / "codegen")[1]
    )
    return folder / "codegen", rev


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One PRE_COMMIT_HOME for the session (pre-commit locks its own store, so workers may
    use it at once)."""
    return made_once(tmp_path_factory, "pre-commit-home", lambda folder: "")[0]
