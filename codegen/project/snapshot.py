"""A copy of a project's source for the sandbox to mount read-only: what the candidates may
import and the project's tests read, taken once per run.

A copy, not the folder itself, so that what a run sees does not change under it (the hook's
``--fix`` writes files) and so that what is not source stays out: the files git lists (tracked,
or new and not ignored), else every file; never a hidden file or folder (``.git``, ``.env``,
``.venv``), a virtual environment, ``__pycache__``, a symbolic link or a file over
MAX_FILE_BYTES. The copy's files are readable by anyone (the sandbox's users are not yours).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from codegen.errors import BadInput
from codegen.project.tests import SKIPPED_FOLDERS

MAX_FILE_BYTES = 5 << 20
MAX_TOTAL_BYTES = 200 << 20
MAX_FILES = 20_000


def take_snapshot(root: Path) -> Path:
    """A fresh folder holding the project's source; the caller removes it (:func:`remove`)."""
    root = root.resolve()
    files = source_files(root)
    target = Path(tempfile.mkdtemp(prefix="codegen-project-"))
    target.chmod(0o755)
    total = 0
    try:
        for relative in files:
            source = root / relative
            size = source.stat().st_size
            total += size
            if total > MAX_TOTAL_BYTES:
                raise BadInput(
                    f"{root}: the project's source is over {MAX_TOTAL_BYTES >> 20} MB; "
                    "keep large data out of it (or in .gitignore)"
                )
            destination = target / relative
            _make_folders(target, destination.parent)
            shutil.copyfile(source, destination)
            destination.chmod(0o644)
    except BaseException:
        remove(target)
        raise
    return target


def source_files(root: Path) -> list[Path]:
    """The files of the project worth mounting, relative to ``root``."""
    listed = _git_files(root)
    candidates = listed if listed is not None else _walked(root)
    venvs = {path.parent for path in candidates if path.name == "pyvenv.cfg"}
    kept = []
    for relative in candidates:
        parts = relative.parts
        if any(p.startswith(".") or p in SKIPPED_FOLDERS for p in parts):
            continue
        if any(parent in venvs for parent in relative.parents):
            continue
        path = root / relative
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            continue
        kept.append(relative)
        if len(kept) > MAX_FILES:
            raise BadInput(f"{root}: the project has over {MAX_FILES} files to mount")
    return kept


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _git_files(root: Path) -> list[Path] | None:
    """Tracked files, and new ones git does not ignore; None outside a git work tree."""
    try:
        done = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, capture_output=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return [Path(name) for name in done.stdout.decode("utf-8", "replace").split("\0") if name]


def _walked(root: Path) -> list[Path]:
    found = []
    for folder, folders, files in os.walk(root):
        here = Path(folder)
        folders[:] = [f for f in folders if not (here / f / "pyvenv.cfg").exists()]
        found += [(here / name).relative_to(root) for name in files]
    return found


def _make_folders(top: Path, folder: Path) -> None:
    missing = []
    while folder != top and not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        path.chmod(0o755)
