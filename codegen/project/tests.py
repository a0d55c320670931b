"""The project's own tests of a function, found by reading its test files: every test function
(or Test class) of a ``test_*.py`` / ``*_test.py`` file under the project's root that imports
the function from its module and uses it, as pytest node ids from the root. They run, as they
are, in the sandbox (``RunJob.repository_tests``). Reads files; runs nothing."""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import TypeGuard

from codegen.project.layout import Layout

MAX_TEST_FILES = 400
SKIPPED_FOLDERS = {"node_modules", "build", "dist", "site-packages", "__pycache__"}


def test_files(root: Path) -> list[Path]:
    """The project's test files, hidden folders, virtual environments and builds skipped."""
    found: list[Path] = []
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(
            name for name in folders
            if not name.startswith(".") and name not in SKIPPED_FOLDERS
            and not (Path(folder) / name / "pyvenv.cfg").exists()
        )  # fmt: skip
        for name in sorted(files):
            if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
                found.append(Path(folder) / name)
                if len(found) >= MAX_TEST_FILES:
                    return found
    return found


def repository_tests(layout: Layout, entry_point: str) -> tuple[str, ...]:
    """Node ids (``tests/test_text.py::test_spaces``) of the tests that use ``entry_point``
    imported from the layout's module."""
    ids: list[str] = []
    for path in test_files(layout.root):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        alias = imported_as(tree, layout.module, entry_point)
        if alias is None:
            continue
        where = layout.relative(path)
        for node in tree.body:
            if _is_test(node) and alias in _names(node):
                ids.append(f"{where}::{node.name}")
    return tuple(ids)


def importing_modules(root: Path, module: str, name: str) -> list[str]:
    """The dotted modules the project's test files import ``name`` from, where they end like
    ``module``'s own name: how the tests see the module."""
    found: list[str] = []
    for path in test_files(root):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            if (
                isinstance(node, ast.ImportFrom) and node.module and not node.level
                and _same_module(node.module, module)
                and any(alias.name == name for alias in node.names)
            ):  # fmt: skip
                found.append(node.module)
    return list(dict.fromkeys(found))


def _same_module(imported: str, module: str) -> bool:
    stem = module.rpartition(".")[2]
    return imported in (module, stem) or imported.endswith(f".{stem}")


def imported_as(tree: ast.Module, module: str, name: str) -> str | None:
    """The name ``name`` of ``module`` has in a test file that imports it, else None."""
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
            continue
        if _same_module(node.module, module):
            for alias in node.names:
                if alias.name == name:
                    return alias.asname or name
    return None


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_test(node: ast.stmt) -> TypeGuard[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return node.name.startswith("test")
    return isinstance(node, ast.ClassDef) and node.name.startswith("Test")
