"""What the models are shown of a function's surroundings, bounded: the module trimmed to what
matters (its imports, constants, and the signatures and docstrings of its helpers), then the
signatures of what it imports from its own package (a small repository map, as aider builds
one from the definitions a file references).

Read with ``ast`` only, never run. The bound is in tokens (about four characters each): pieces
go in by priority (the module's own names first, then the package's), and what does not fit
is left out and counted.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from pathlib import Path

from codegen.project.layout import Layout, module_file

CHARS_PER_TOKEN = 4
DOC_LINES = 3  # of a helper's docstring: its first paragraph, at most this many lines
VALUE_CHARS = 60  # a constant's value is shown when this short, else `...`
MAX_IMPORTED_MODULES = 8

Reader = Callable[[Path], str | None]


@dataclass
class RepoMap:
    """The text the models see and what it holds."""

    text: str = ""
    tokens: int = 0
    modules: list[str] = field(default_factory=list)  # the package modules whose names it shows
    omitted: int = 0  # pieces left out to stay within the bound

    def describe(self) -> str:
        shown = f"the module's outline and {len(self.modules)} package module(s)"
        left = f", {self.omitted} piece(s) left out" if self.omitted else ""
        return f"context: {shown}, ≈{self.tokens} tokens{left}"


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def repo_map(
    source: str,
    entry_point: str,
    layout: Layout | None,
    max_tokens: int,
    path: str = "",
    read: Reader | None = None,
) -> RepoMap:
    """The context of ``entry_point`` in ``source`` (the module at ``path``), within
    ``max_tokens``; with a ``layout``, what the module imports from its package too."""
    read = read or _read
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return RepoMap()
    budget = max_tokens * CHARS_PER_TOKEN
    result = RepoMap()
    sections: list[str] = []
    header = f"# {path}: the module around `{entry_point}`" if path else "# the module"
    kept, left = _within(outline(tree, source, skip={entry_point}), budget - len(header) - 1)
    result.omitted += left
    if kept:
        sections.append(header + "\n" + "\n".join(kept))
    used = sum(len(s) for s in sections)
    if layout is not None:
        for dotted, names in imported(tree, layout)[:MAX_IMPORTED_MODULES]:
            file = module_file(layout.import_root, dotted)
            text = read(file) if file is not None else None
            if text is None:
                continue
            assert file is not None  # read only what has a file
            try:
                other = ast.parse(text)
            except SyntaxError:
                continue
            pieces = outline(other, text, only=names, imports=False)
            header = f"# {layout.relative(file)} ({dotted})"
            kept, left = _within(pieces, budget - used - len(header) - 3)
            result.omitted += left
            if kept:
                section = header + "\n" + "\n".join(kept).lstrip()
                sections.append(section)
                used += len(section)
                result.modules.append(dotted)
    result.text = "\n\n".join(sections)
    result.tokens = estimate_tokens(result.text) if result.text else 0
    return result


def outline(
    tree: ast.Module,
    source: str,
    *,
    skip: Set[str] = frozenset(),
    only: set[str] | None = None,
    imports: bool = True,
) -> list[str]:
    """One piece per top-level statement that matters: imports (verbatim), constants (short
    values shown), functions and classes as signatures with the first paragraph of their
    docstring. ``only``: the names to show (None: all public ones and the module's own)."""
    pieces = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            if imports:
                pieces.append(ast.get_source_segment(source, node) or ast.unparse(node))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name in skip or not _wanted(node.name, only):
                continue
            pieces.append("\n" + _definition(node))  # a blank line before a definition
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            names = _targets(node)
            if names and all(_wanted(n, only) for n in names) and not set(names) & skip:
                pieces.append(_constant(node, source))
    return pieces


def imported(tree: ast.Module, layout: Layout) -> list[tuple[str, set[str] | None]]:
    """The package modules the module imports from, each with the names it takes (None: the
    module itself is imported, so all its public names)."""
    found: dict[str, set[str] | None] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            base = _absolute(node, layout)
            if base is None:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}" if base else alias.name
                if module_file(layout.import_root, sub) is not None:
                    found.setdefault(sub, None)  # `from . import util`: a whole module
                elif module_file(layout.import_root, base) is not None:
                    names = found.setdefault(base, set())
                    if names is not None and alias.name != "*":
                        names.add(alias.name)
                    elif alias.name == "*":
                        found[base] = None
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if module_file(layout.import_root, alias.name) is not None:
                    found.setdefault(alias.name, None)
    own = layout.module
    return [(name, names) for name, names in found.items() if name != own]


def _absolute(node: ast.ImportFrom, layout: Layout) -> str | None:
    """The dotted module an import names, relative ones resolved against the module's
    package; None when it is not the project's."""
    if node.level == 0:
        top = (node.module or "").split(".")[0]
        return node.module if module_file(layout.import_root, top) is not None else None
    package = layout.module.split(".")[:-1]
    if node.level - 1 > len(package):
        return None
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _wanted(name: str, only: set[str] | None) -> bool:
    return name in only if only is not None else not name.startswith("__")


def _targets(node: ast.Assign | ast.AnnAssign) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return [t.id for t in targets if isinstance(t, ast.Name)]


def _constant(node: ast.Assign | ast.AnnAssign, source: str) -> str:
    value = ""
    if node.value is not None:
        value = ast.get_source_segment(source, node.value) or ast.unparse(node.value)
    shown = value if len(value) <= VALUE_CHARS and "\n" not in value else "..."
    if isinstance(node, ast.AnnAssign):
        return f"{ast.unparse(node.target)}: {ast.unparse(node.annotation)}" + (
            f" = {shown}" if node.value is not None else ""
        )
    return " = ".join([*(ast.unparse(t) for t in node.targets), shown])


def _definition(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
        lines = [f"class {node.name}({bases}):" if bases else f"class {node.name}:"]
        lines += _docstring(node, "    ")
        methods = [m for m in node.body if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)]
        for method in methods:
            if method.name.startswith("_") and method.name != "__init__":
                continue
            lines.append("    " + _signature(method) + " ...")
        if len(lines) == 1:
            lines.append("    ...")
        return "\n".join(lines)
    return "\n".join([_signature(node), *_docstring(node, "    "), "    ..."])


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    decorators = "".join(f"@{ast.unparse(d)}\n" for d in node.decorator_list)
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{decorators}{prefix} {node.name}({ast.unparse(node.args)}){returns}:"


def _docstring(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module, indent: str
) -> list[str]:
    doc = ast.get_docstring(node)
    if not doc:
        return []
    first = doc.strip().split("\n\n")[0].splitlines()[:DOC_LINES]
    text = "\n".join(first).replace('"""', "'''")
    lines = f'"""{text}"""'.splitlines()
    return [indent + line for line in lines]


def _within(pieces: list[str], budget: int) -> tuple[list[str], int]:
    """The pieces, in order, that fit in ``budget`` characters; and how many did not."""
    kept: list[str] = []
    used = 0
    for piece in pieces:
        if used + len(piece) + 1 > budget:
            continue
        kept.append(piece)
        used += len(piece) + 1
    return kept, len(pieces) - len(kept)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
