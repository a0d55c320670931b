"""Which third-party modules a problem needs: what the function's module, the project modules it
imports (followed, transitively) and the tests import that is neither the standard library,
the project itself nor what the sandbox brings (pytest, hypothesis). Read with ``ast``; runs
nothing. Nothing needed: the plain sandbox image will do, and no project image is built."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

from codegen.problems import Problem
from codegen.project.layout import module_file

MAX_MODULES = 300
PROVIDED = {"pytest", "_pytest", "hypothesis", "pytest_benchmark", "solution", "__future__"}


def third_party(problem: Problem) -> set[str]:
    """The top-level names of the third-party modules ``problem`` needs."""
    context = problem.context
    if context is None or context.root is None:
        return set()
    root = Path(context.root)
    import_root = (root / context.import_path).resolve()
    sources = [(context.source, context.module or "")]
    sources += [(test.source, "") for test in problem.visible_tests]
    for node in context.repository_tests:
        path = root / node.split("::")[0]
        for file in (path, *(folder / "conftest.py" for folder in _folders(path, root))):
            sources.append((_read(file), ""))
    return needed(sources, [import_root, root])


def needed(sources: Iterable[tuple[str, str]], roots: list[Path]) -> set[str]:
    """Third-party top-level modules imported by ``sources`` (text, dotted module name) and the
    project modules they import, found under ``roots``."""
    found: set[str] = set()
    seen: set[Path] = set()
    todo = list(sources)
    while todo and len(seen) < MAX_MODULES:
        text, name = todo.pop()
        for dotted in _imports(text, name):
            top = dotted.split(".")[0]
            if top in sys.stdlib_module_names or top in PROVIDED:
                continue
            local = _local(dotted, roots)
            if not local:
                found.add(top)
            for path, module in local:
                if path not in seen:
                    seen.add(path)
                    package = path.name == "__init__.py"  # its relative imports start here
                    todo.append((_read(path), f"{module}.__init__" if package else module))
    return found


def _imports(text: str, name: str) -> list[str]:
    """The absolute dotted names a module's imports reach (relative ones resolved)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    package = name.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = (
                    package[: len(package) - (node.level - 1)]
                    if node.level - 1 <= len(package)
                    else []
                )
                stem = ".".join([*base, *([node.module] if node.module else [])])
                found += [f"{stem}.{a.name}" if stem else a.name for a in node.names]
                if stem:
                    found.append(stem)
            elif node.module:
                found.append(node.module)
                found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def _local(dotted: str, roots: list[Path]) -> list[tuple[Path, str]]:
    """The project's files along ``dotted`` (its packages and the module), if it is the
    project's; empty when the project does not hold it."""
    parts = dotted.split(".")
    for root in roots:
        if module_file(root, parts[0]) is None and not (root / parts[0]).is_dir():
            continue
        files = []
        for end in range(1, len(parts) + 1):
            file = module_file(root, ".".join(parts[:end]))
            if file is not None:
                files.append((file.resolve(), ".".join(parts[:end])))
        return files or [(root / parts[0], parts[0])]  # a namespace package: nothing to read
    return []


def _folders(path: Path, root: Path) -> list[Path]:
    return [folder for folder in path.parents if folder.is_relative_to(root)]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else ""
    except (OSError, UnicodeDecodeError):
        return ""
