"""Solved stubs, remembered so that a commit never pays for the same LLM calls twice.

Keyed by `Problem.fingerprint()` (the stub's source and its tests): editing either one makes a
new key. Kept under `$CODEGEN_CACHE/solved` when that is set, else in the repository's own git
folder (`.git/codegen/solved`, never committed), else `~/.cache/codegen/solved`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pydantic import BaseModel, ValidationError

from codegen.paths import cache_root
from codegen.project.git import git_output


class SolvedEntry(BaseModel):
    """What a later run needs: the winning code, and who wrote it, for the message."""

    problem: str
    code: str
    model: str = ""
    persona: str = ""
    created: float = 0.0


def cache_dir(repo: Path) -> Path:
    if os.environ.get("CODEGEN_CACHE"):
        return cache_root() / "solved"
    git_dir = _git_common_dir(repo)
    if git_dir is not None:
        return git_dir / "codegen" / "solved"
    return cache_root() / "solved"


class SolvedCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: str) -> SolvedEntry | None:
        try:
            return SolvedEntry.model_validate_json((self.folder / f"{key}.json").read_text())
        except (OSError, ValidationError, ValueError):
            return None  # absent or unreadable: solve again

    def put(self, key: str, entry: SolvedEntry) -> None:
        """Written atomically, so a killed hook never leaves half an entry."""
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = entry.model_copy(update={"created": entry.created or time.time()})
        partial = self.folder / f".{key}.{os.getpid()}.partial"
        partial.write_text(entry.model_dump_json(indent=2))
        partial.replace(self.folder / f"{key}.json")


def _git_common_dir(repo: Path) -> Path | None:
    out = git_output(repo, "rev-parse", "--git-common-dir")
    if out is None:
        return None
    path = Path(out)
    return path if path.is_absolute() else (repo / path).resolve()
