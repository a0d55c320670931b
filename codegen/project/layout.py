"""Where a module sits in its project: the project's root, the folder its package is imported
from, and its dotted name. Reads the file tree (which folders hold ``__init__.py``, which hold
``pyproject.toml``); runs nothing.

- **src layout**: ``ROOT/src/pkg/text.py`` → imported from ``ROOT/src`` as ``pkg.text``;
- **flat layout**: ``ROOT/pkg/text.py`` → from ``ROOT`` as ``pkg.text``;
- **a loose module**: ``ROOT/tools/text.py`` with no ``__init__.py`` → from ``ROOT/tools`` as
  ``text``, as ``python tools/text.py`` would import its neighbours.

The package is the chain of folders holding ``__init__.py`` above the module; a module with
relative imports deeper than that chain (a namespace package) gets as many folders as its
imports need. The root is the nearest folder from there up with ``pyproject.toml``,
``setup.py`` or ``setup.cfg``, within the repository; else the repository's top; else the
import folder.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


@dataclass(frozen=True)
class Layout:
    root: Path  # the project's root (absolute)
    import_root: Path  # the folder the module's top package is imported from (absolute)
    module: str  # the module's dotted name, from ``import_root``

    @property
    def import_path(self) -> str:
        """``import_root`` relative to ``root`` ("src", "."), as the sandbox mounts it."""
        return self.import_root.relative_to(self.root).as_posix() or "."

    @property
    def package(self) -> str:
        """The module's package ("pkg" for pkg.text; "" for a top-level module)."""
        return self.module.rpartition(".")[0]

    def relative(self, path: Path) -> str:
        """``path`` from the root, for messages and the repository's tests."""
        return path.resolve().relative_to(self.root).as_posix()


def find_layout(module_path: Path, top: Path | None = None, source: str | None = None) -> Layout:
    """The layout of ``module_path``; ``top``: the repository's top, which the root never
    leaves; ``source``: the module's text, read when not given (for its relative imports)."""
    path = module_path.resolve()
    top = top.resolve() if top is not None else None
    parts = [path.stem] if path.stem != "__init__" else []
    folder = path.parent
    depth = _relative_depth(source if source is not None else _read(path))
    # parts the dotted name needs: the packages its relative imports climb, and the module
    needed = max(depth, 1) if path.stem == "__init__" else depth + 1
    while (folder / "__init__.py").is_file() or len(parts) < needed:
        if folder.parent == folder or (top is not None and folder == top):
            break
        parts.insert(0, folder.name)
        folder = folder.parent
    import_root = folder
    return Layout(root=_root(import_root, top), import_root=import_root, module=".".join(parts))


def _root(import_root: Path, top: Path | None) -> Path:
    for folder in (import_root, *import_root.parents):
        if any((folder / name).is_file() for name in PROJECT_FILES):
            return folder
        if folder == top:
            return top
    return top if top is not None and import_root.is_relative_to(top) else import_root


def _relative_depth(source: str) -> int:
    """How many package levels the module's relative imports climb (``from ..x`` = 2)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return 0
    levels = [n.level for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
    return max(levels, default=0)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def as_imported(layout: Layout, path: Path, names: list[str]) -> Layout:
    """The layout under which the project's tests import the module, when one of ``names``
    (the dotted names they import it by) resolves to it from the import folder, the root or
    ``src``: ``pkg.algo`` of a namespace package ``pkg`` rather than a loose ``algo``."""
    path = path.resolve()
    for dotted in names:
        for base in (layout.import_root, layout.root, layout.root / "src"):
            found = module_file(base, dotted)
            if found is not None and found.resolve() == path:
                return Layout(root=layout.root, import_root=base, module=dotted)
    return layout


def module_file(import_root: Path, dotted: str) -> Path | None:
    """The file of module ``dotted`` under ``import_root`` (a module or a package's
    ``__init__.py``), or None when the project does not hold it."""
    if not dotted:
        return None
    base = import_root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None
