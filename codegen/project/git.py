"""Asking git about the repository a function lies in (the pre-commit hook runs there)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git_output(cwd: Path, *args: str) -> str | None:
    """What `git ARGS` prints in `cwd`, stripped; None when git fails or is missing."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out else None


def repo_root(start: Path) -> Path:
    """The git work tree's top (pre-commit runs hooks there), else `start`."""
    top = git_output(start, "rev-parse", "--show-toplevel")
    return Path(top) if top else start
