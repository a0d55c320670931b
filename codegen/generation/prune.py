"""Cut a candidate down to what its function needs, and refuse one that names what is not there.

Models pad their answer: a copy of the visible tests, a ``test_perf_…`` function, a helper that
builds random cases from a ``_reference`` nobody defined. What is tested must be exactly what is
returned (and written to the user's file), so the candidate is cut *before* it is tested: the
entry point and what it reaches (helpers, classes, constants, imports, transitively) stay, the
rest goes. Then pyflakes looks for undefined names: one the stub imports (``List`` from
``typing``, forgotten by the model) is imported as the stub does; any other makes the candidate
unusable, with the names in the reason. When the function lives in a module, whatever the module
defines is there for the candidate (it is tested inside the module:
:mod:`codegen.problems.context`), so only what neither defines is undefined. Pure: source
in, source out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from pyflakes import checker, messages

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


class UndefinedNames(ValueError):
    """The candidate uses names nothing defines; the message lists them."""


def prune(source: str, entry_point: str, stub: str | None = None, module: str | None = None) -> str:
    """``source`` with only the top-level statements ``entry_point`` reaches, plus the stub's
    imports of names it would otherwise lack. ``module``: the module the function lives in,
    whose names the candidate may use. Raises :class:`UndefinedNames`."""
    code = reachable_only(source, entry_point)
    missing = undefined_names(code)
    if missing and module is not None:
        defined = defined_names(module)
        missing = [] if defined is None else [name for name in missing if name not in defined]
    if missing and stub is not None:
        imports = _imports_of(stub, missing)
        if imports:
            code = "\n".join(imports) + "\n\n\n" + code
            missing = undefined_names(code)
    if missing:
        raise UndefinedNames(f"uses undefined name(s): {', '.join(missing)}")
    return code


def reachable_only(source: str, entry_point: str) -> str:
    """``source`` with only the top-level statements ``entry_point`` reaches."""
    tree = ast.parse(source)
    return _without(source, tree, _reachable(tree.body, entry_point))


def undefined_names(source: str, *, star: bool = False) -> list[str]:
    """Names pyflakes finds used but never defined (builtins count as defined), sorted; with
    ``star``, also those a star import may or may not define."""
    tree = ast.parse(source)
    found = checker.Checker(tree, filename="<candidate>").messages
    kinds = (messages.UndefinedName, messages.ImportStarUsage) if star else messages.UndefinedName
    return sorted({m.message_args[0] for m in found if isinstance(m, kinds)})


def defined_names(module: str) -> set[str] | None:
    """The names a module binds at its top level; None when a star import may bind any."""
    try:
        tree = ast.parse(module)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return None
        names.update(_bound(node))
    return names


def _reachable(body: list[ast.stmt], entry_point: str) -> set[int]:
    """Indices of the statements that bind the entry point and, transitively, every name
    they use; star and ``__future__`` imports always stay (they bind what cannot be seen)."""
    binders: dict[str, list[int]] = {}
    keep: set[int] = set()
    for index, node in enumerate(body):
        if isinstance(node, ast.ImportFrom) and (
            node.module == "__future__" or any(a.name == "*" for a in node.names)
        ):
            keep.add(index)
        for name in _bound(node):
            binders.setdefault(name, []).append(index)
    todo = list(binders.get(entry_point, []))
    for index in keep:
        todo.extend(i for name in _used(body[index]) for i in binders.get(name, []))
    while todo:
        index = todo.pop()
        if index in keep:
            continue
        keep.add(index)
        todo.extend(i for name in _used(body[index]) for i in binders.get(name, []))
    return keep


def _bound(node: ast.stmt) -> Iterator[str]:
    """Module-level names a top-level statement binds (not its functions' locals)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield node.name
        return
    for child in _walk_outside_scopes(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store | ast.Del):
            yield child.id
        elif isinstance(child, ast.alias) and child.name != "*":
            yield child.asname or child.name.split(".")[0]
        elif isinstance(child, _SCOPES[:3]):
            yield child.name  # a def inside ``if``/``try`` at the top level
        elif isinstance(child, ast.NamedExpr | ast.MatchAs | ast.MatchStar) and (
            bound := _name(child)
        ):
            yield bound


def _used(node: ast.stmt) -> Iterator[str]:
    """Every name a statement mentions anywhere, also inside its functions, in ``global``
    statements and in string annotations."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            yield child.id
        elif isinstance(child, ast.Global | ast.Nonlocal):
            yield from child.names
        for annotation in (getattr(child, "annotation", None), getattr(child, "returns", None)):
            yield from _string_annotation(annotation)


def _string_annotation(node: ast.expr | None) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            parsed = ast.parse(node.value, mode="eval")
        except SyntaxError:
            return
        yield from (n.id for n in ast.walk(parsed) if isinstance(n, ast.Name))


def _walk_outside_scopes(node: ast.AST) -> Iterator[ast.AST]:
    for child in ast.iter_child_nodes(node):
        yield child
        if not isinstance(child, _SCOPES):
            yield from _walk_outside_scopes(child)


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
        return node.target.id
    return getattr(node, "name", None)


def _without(source: str, tree: ast.Module, keep: set[int]) -> str:
    """The source minus the statements not kept, cut by line so the kept code (and its
    comments) reads as the model wrote it; the unparsed tree when lines are shared. A comment
    block right above a statement (no blank line between) belongs to it and goes with it."""
    drop = [index for index in range(len(tree.body)) if index not in keep]
    if not drop:
        return source
    lines = source.splitlines()
    for index in reversed(drop):
        node = tree.body[index]
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        above = (tree.body[index - 1].end_lineno or 0) if index else 0
        while start - 1 > above and lines[start - 2].startswith("#"):
            start -= 1
        del lines[start - 1 : node.end_lineno or node.lineno]
    code = "\n".join(lines).strip("\n") + "\n"
    if _same_statements(code, tree, keep):
        tidy = _tidy(code)
        return tidy if _same_statements(tidy, tree, keep) else code
    tree.body = [node for index, node in enumerate(tree.body) if index in keep]
    return ast.unparse(tree) + "\n"


def _same_statements(code: str, tree: ast.Module, keep: set[int]) -> bool:
    try:
        cut = ast.parse(code)
    except SyntaxError:
        return False
    wanted = [ast.dump(node) for index, node in enumerate(tree.body) if index in keep]
    return [ast.dump(node) for node in cut.body] == wanted


def _tidy(code: str) -> str:
    """At most two blank lines in a row, where cuts left more."""
    out: list[str] = []
    for line in code.splitlines():
        if not line.strip() and len(out) >= 2 and not out[-1].strip() and not out[-2].strip():
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def _imports_of(stub: str, names: list[str]) -> list[str]:
    """The stub's top-level import statements that bind any of ``names``, one per name."""
    try:
        tree = ast.parse(stub)
    except SyntaxError:
        return []
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound in names:
                    copy = type(node)(**{**node.__dict__, "names": [alias]})
                    found.append(ast.unparse(copy))
    return found
