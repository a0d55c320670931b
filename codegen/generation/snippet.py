"""Turn a candidate into the snippet a user gets: a clean module holding the function and exactly
what it needs. Pure: source in, source out. Every candidate goes through here before it is
tested, so what is tested is what `codegen solve` prints, `-o` writes and the hook inserts.

    calls, asserts, `if __name__` blocks at the top level ─▶ dropped
    `from solution import f`, relative imports, imports of the function itself ─▶ dropped
    `from typing import *` (standard library) ─▶ `from typing import List`, or nothing
    what the entry point does not reach (tests, examples, demo data) ─▶ dropped (prune)
    names nothing binds ─▶ imported as the stub or the previous version did, else the
        standard-library import that binds them; otherwise the candidate is refused
    pyflakes findings that can be fixed without changing behaviour ─▶ fixed (lint)
    comments left between statements ("# Test the function", "# Example usage") ─▶ dropped

:func:`problems` is the check a returned snippet must pass: pyflakes is clean, and it defines
the entry point.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from codegen.generation import lint, stdlib_names
from codegen.generation.edits import first_line, parses, remove_statement
from codegen.generation.prune import (
    UndefinedNames,
    defined_names,
    reachable_only,
    undefined_names,
)

SELF_MODULES = frozenset({"solution", "__main__"})
_TESTISH = re.compile(
    r"\b(tests?|testing|tested|examples?|usage|demo|driver|sample (inputs?|outputs?)|"
    r"expected output|output:|check (the|if|with)|verify|try it|run the)\b",
    re.IGNORECASE,
)


def clean_snippet(
    source: str,
    entry_point: str,
    import_sources: Sequence[str] = (),
    module: str | None = None,
) -> str:
    """The clean module for `entry_point` (see the module docstring); `import_sources` (the
    stub, the version being repaired or optimised) say how a forgotten name is imported;
    `module`: the module the function lives in, whose names it may use.
    Raises :class:`~codegen.generation.prune.UndefinedNames`, or SyntaxError for broken code."""
    ast.parse(source)
    code = drop_noise(source)
    code = _drop_self_imports(code, entry_point)
    code = _explicit_star_imports(code)
    code = reachable_only(code, entry_point)
    provided = _module_names(module)
    code = _import_missing(code, import_sources, provided)
    code = lint.fix(code)
    code = _drop_stray_comments(code)
    missing = [] if provided is None else [n for n in undefined_names(code) if n not in provided]
    if missing:
        raise UndefinedNames(f"uses undefined name(s): {', '.join(missing)}")
    return code


def problems(code: str, entry_point: str) -> list[str]:
    """Why `code` is not a clean snippet for `entry_point`: pyflakes' findings, or a missing
    definition; empty when it is one."""
    found = lint.findings(code)
    if found:
        return found
    tree = ast.parse(code)
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    assigned = {t.id for n in tree.body if isinstance(n, ast.Assign)
                for t in n.targets if isinstance(t, ast.Name)}  # fmt: skip
    if entry_point not in defined | assigned:
        return [f"it does not define {entry_point}"]
    return []


def is_noise(node: ast.stmt) -> bool:
    """A top-level statement that only acts when imported: a call, an assert, a bare string, a
    `Note: text` prose line (parsed as an annotation), an `if __name__ == ...` block."""
    if isinstance(node, ast.Expr | ast.Assert):
        return True
    if isinstance(node, ast.AnnAssign) and node.value is None:
        return True
    return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)


def drop_noise(source: str) -> str:
    """`source` without its :func:`is_noise` statements."""
    tree = ast.parse(source)
    for node in reversed(tree.body):
        if is_noise(node):
            source = remove_statement(source, tree, node)
    return source


def _drop_self_imports(source: str, entry_point: str) -> str:
    """Imports that only work where the candidate was tested (the module `solution`), relative
    ones, and any import of the function itself: the snippet defines it."""
    while True:
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            drop = {lint.import_label(node, a) for a in node.names
                    if _self_import(node, a, entry_point)}  # fmt: skip
            if drop:
                source = lint.without_aliases(source, tree, node, drop)
                break
        else:
            return source


def _self_import(node: ast.Import | ast.ImportFrom, alias: ast.alias, entry_point: str) -> bool:
    if (alias.asname or alias.name) == entry_point:
        return True
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] in SELF_MODULES
    return alias.name.split(".")[0] in SELF_MODULES


def _explicit_star_imports(source: str) -> str:
    """`from M import *` of a standard module becomes an import of the names the code takes from
    it, or goes; a later star import wins a name, as it would at run time. Others stay."""
    tree = ast.parse(source)
    stars = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.level == 0
             and n.module and any(a.name == "*" for a in n.names)
             and stdlib_names.public_names(n.module)]  # fmt: skip
    if not stars:
        return source
    without = source
    for node in reversed(stars):
        without = remove_statement(without, tree, node)
    wanted = set(undefined_names(without, star=True)) if parses(without) else set()
    lines = source.splitlines(keepends=True)
    for node in reversed(stars):  # the last one first: it binds what it exports
        assert node.module is not None
        names = sorted(wanted & stdlib_names.public_names(node.module))
        wanted -= set(names)
        start, end = first_line(node), node.end_lineno or node.lineno
        indent = lines[start - 1][: len(lines[start - 1]) - len(lines[start - 1].lstrip())]
        text = f"{indent}from {node.module} import {', '.join(names)}\n" if names else ""
        lines[start - 1 : end] = [text]
    code = "".join(lines)
    return code if parses(code) else source


def _module_names(module: str | None) -> set[str] | None:
    """What the function's module binds (its candidates may use it as it is); None when a star
    import there may bind anything, an empty set for a function of its own."""
    return defined_names(module) if module is not None else set()


def _import_missing(
    source: str, import_sources: Sequence[str], provided: AbstractSet[str] | None = frozenset()
) -> str:
    """Names nothing binds, imported as an import source does, else from the standard library;
    none that the function's module ``provided`` (None: it may provide any)."""
    if provided is None:
        return source
    missing = [name for name in undefined_names(source) if name not in provided]
    if not missing:
        return source
    known = _imports_in(import_sources)
    statements: set[str] = set()
    for name in missing:
        statement = known.get(name) or stdlib_names.forgotten_import(name)
        if statement:
            statements.add(statement)
    ordered = sorted(statements, key=lambda s: (s.startswith("from "), s))
    return _insert_imports(source, ordered) if ordered else source


def _imports_in(sources: Sequence[str]) -> dict[str, str]:
    """Name → the import statement (one name) that binds it, from each source's top level."""
    found: dict[str, str] = {}
    for text in sources:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for alias in node.names:
                if alias.name == "*" or _self_import(node, alias, ""):
                    continue
                bound = alias.asname or alias.name.split(".")[0]
                copy = type(node)(**{**node.__dict__, "names": [alias]})
                found.setdefault(bound, ast.unparse(copy))
    return found


def _insert_imports(source: str, statements: list[str]) -> str:
    """After the leading docstring and imports; followed by two blank lines when code follows."""
    tree = ast.parse(source)
    after = 0
    for node in tree.body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not (docstring and after == 0) and not isinstance(node, ast.Import | ast.ImportFrom):
            break
        after = node.end_lineno or node.lineno
    lines = source.splitlines(keepends=True)
    block = "".join(s + "\n" for s in statements)
    if after == 0:
        return block + "\n\n" + source.lstrip("\n")
    if after < len(lines) and not lines[after - 1].endswith("\n"):
        lines[after - 1] += "\n"
    return "".join(lines[:after]) + block + "".join(lines[after:])


def _drop_stray_comments(source: str) -> str:
    """Keep the comments inside the kept statements and a comment block right above one (not
    about tests or examples); drop every other top-level comment. Blank lines between the
    statements are tidied; the statements' own lines are never touched."""
    tree = ast.parse(source)
    lines = source.splitlines()
    inside: set[int] = set()
    starts: set[int] = set()
    for node in tree.body:
        start = first_line(node)
        starts.add(start)
        inside.update(range(start, (node.end_lineno or node.lineno) + 1))
    kept: list[str] = []
    blanks = 0
    for number, line in enumerate(lines, start=1):
        if number in inside:
            kept.append(line)
            blanks = 0
        elif not line.strip():
            if kept and blanks < 2:
                kept.append("")
            blanks += 1
        elif line.lstrip().startswith("#") and _attached(lines, number, starts, inside):
            kept.append(line)
            blanks = 0
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""


def _attached(lines: list[str], number: int, starts: set[int], inside: set[int]) -> bool:
    """A comment in an unbroken run of comment lines that ends at a statement's first line, and
    the run says nothing of tests or examples."""
    run = [number]
    following = number + 1
    while following <= len(lines) and following not in inside:
        text = lines[following - 1].strip()
        if not text.startswith("#"):
            break
        run.append(following)
        following += 1
    previous = number - 1
    while previous >= 1 and previous not in inside and lines[previous - 1].strip().startswith("#"):
        run.append(previous)
        previous -= 1
    if following not in starts:
        return False
    return not any(_TESTISH.search(lines[n - 1]) for n in run)
