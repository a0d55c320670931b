"""pyflakes on a candidate: its findings as lines, and the ones that can be fixed without changing
what the code does, fixed. Pure: source in, source out.

Fixed: an unused import (the name goes, the statement when it was the last name), an unused
local variable (`x = f()` keeps `f()`; a literal or a bare name goes whole; `except E as e`
and `with f() as x` lose ` as …`), an f-string without placeholders (loses its `f`), and a
definition redefined before any use (the first goes). Anything else is reported, not
touched. Every fix is kept only when the result still compiles.
"""

from __future__ import annotations

import ast
import re

from pyflakes import checker, messages

from codegen.generation.edits import (
    Edit,
    apply_edits,
    first_line,
    parses,
    remove_statement,
    replace_statement,
)

_MAX_FIXES = 50
_PURE_CALLS = {"list", "dict", "set", "tuple", "frozenset", "defaultdict", "Counter", "deque",
               "OrderedDict", "str", "int", "float", "bool", "object"}  # fmt: skip


def findings(source: str) -> list[str]:
    """What pyflakes says about `source`, one line each (`line 3: 'os' imported but unused`)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [f"line {error.lineno or 0}: syntax error: {error.msg}"]
    found = checker.Checker(tree, filename="<snippet>").messages
    return [
        f"line {m.lineno}: {m.message % m.message_args}"
        for m in sorted(found, key=lambda m: (m.lineno, m.col))
    ]


def fix(source: str) -> str:
    """`source` with every fixable finding fixed (see the module docstring), one at a time."""
    skipped: set[tuple[str, int, int]] = set()
    for _ in range(_MAX_FIXES):
        tree = ast.parse(source)
        found = [m for m in checker.Checker(tree, filename="<snippet>").messages
                 if (type(m).__name__, m.lineno, m.col) not in skipped]  # fmt: skip
        fixed = None
        for message in sorted(found, key=lambda m: (m.lineno, m.col), reverse=True):
            fixed = _fix_one(source, tree, message)
            if fixed is not None and fixed != source and parses(fixed):
                break
            skipped.add((type(message).__name__, message.lineno, message.col))
            fixed = None
        if fixed is None:
            return source
        source = fixed
    return source


def _fix_one(source: str, tree: ast.Module, message: messages.Message) -> str | None:
    if isinstance(message, messages.UnusedImport):
        return _drop_import(source, tree, message.lineno, message.message_args[0])
    if isinstance(message, messages.UnusedVariable):
        return _drop_binding(source, tree, message.lineno, message.col, message.message_args[0])
    if isinstance(message, messages.FStringMissingPlaceholders):
        return _plain_string(source, tree, message.lineno, message.col)
    if isinstance(message, messages.RedefinedWhileUnused):
        name, line = message.message_args
        return _drop_definition(source, tree, name, line)
    return None


def import_label(node: ast.Import | ast.ImportFrom, alias: ast.alias) -> str:
    """How pyflakes names one imported name: `os.path`, `collections.Counter as C`."""
    if isinstance(node, ast.ImportFrom):
        module = "." * node.level + (node.module or "")
        dotted = module and not module.endswith(".")
        full = f"{module}.{alias.name}" if dotted else module + alias.name
    else:
        full = alias.name
    return f"{full} as {alias.asname}" if alias.asname else full


def without_aliases(
    source: str, tree: ast.Module, node: ast.Import | ast.ImportFrom, drop: set[str]
) -> str:
    """`source` with the names in `drop` (pyflakes labels) taken out of one import statement;
    the statement goes when none is left."""
    kept = [a for a in node.names if import_label(node, a) not in drop]
    if len(kept) == len(node.names):
        return source
    if not kept:
        return remove_statement(source, tree, node)
    copy = type(node)(**{**node.__dict__, "names": kept})
    return replace_statement(source, node, ast.unparse(copy))


def _drop_import(source: str, tree: ast.Module, line: int, label: str) -> str | None:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Import | ast.ImportFrom)
            and node.lineno == line
            and any(import_label(node, a) == label for a in node.names)
        ):
            return without_aliases(source, tree, node, {label})
    return None


def _drop_binding(source: str, tree: ast.Module, line: int, col: int, name: str) -> str | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.name == name and node.lineno == line:
            return _drop_except_name(source, node)
        if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
            target = node.optional_vars
            if (target.id, target.lineno, target.col_offset) == (name, line, col):
                expr = node.context_expr
                return apply_edits(
                    source,
                    [
                        Edit(
                            expr.end_lineno or line,
                            expr.end_col_offset or 0,
                            line,
                            target.end_col_offset or 0,
                            "",
                        )
                    ],
                )
        if not (isinstance(node, ast.Assign | ast.AnnAssign) and node.lineno == line):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            continue
        if targets[0].id != name or targets[0].col_offset != col or node.value is None:
            continue
        if _pure(node.value):
            return remove_statement(source, tree, node)
        return _drop_target(source, node)
    return None


def _drop_target(source: str, node: ast.Assign | ast.AnnAssign) -> str | None:
    """`x = value` → `value`: the text from the target through its `=` goes."""
    assert node.value is not None
    lines = source.splitlines(keepends=True)
    after = node.annotation if isinstance(node, ast.AnnAssign) else node.targets[0]
    line, col = after.end_lineno or node.lineno, after.end_col_offset or 0
    text = lines[line - 1].encode("utf-8")
    equals = text.find(b"=", col)
    if equals < 0:
        return None
    end = equals + 1
    while end < len(text) and text[end : end + 1] in (b" ", b"\t"):
        end += 1
    return apply_edits(source, [Edit(node.lineno, node.col_offset, line, end, "")])


def _drop_except_name(source: str, handler: ast.ExceptHandler) -> str | None:
    if handler.type is None:
        return None
    line, col = handler.type.end_lineno or handler.lineno, handler.type.end_col_offset or 0
    text = source.splitlines(keepends=True)[line - 1].encode("utf-8")
    found = re.match(rb"\)?\s+as\s+\w+", text[col:])
    if found is None:
        return None
    start = col + (1 if text[col : col + 1] == b")" else 0)
    return apply_edits(source, [Edit(line, start, line, col + found.end(), "")])


def _plain_string(source: str, tree: ast.Module, line: int, col: int) -> str | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.lineno == line and node.col_offset == col:
            text = source.splitlines(keepends=True)[line - 1].encode("utf-8")
            prefix = re.match(rb"[rRbBuU]?[fF][rR]?", text[col:])
            if prefix is None:
                return None
            letters = prefix.group().replace(b"f", b"").replace(b"F", b"").decode()
            return apply_edits(source, [Edit(line, col, line, col + prefix.end(), letters)])
    return None


def _drop_definition(source: str, tree: ast.Module, name: str, line: int) -> str | None:
    """The first of two definitions of `name` (the one never used) goes."""
    for node in ast.walk(tree):
        definition = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        if (
            isinstance(node, definition)
            and node.name == name
            and first_line(node) <= line <= node.lineno
        ):
            return remove_statement(source, tree, node)
        if isinstance(node, ast.Import | ast.ImportFrom) and node.lineno == line:
            labels = {import_label(node, a) for a in node.names
                      if (a.asname or a.name.split(".")[0]) == name}  # fmt: skip
            return without_aliases(source, tree, node, labels) if labels else None
    return None


def _pure(value: ast.expr) -> bool:
    """An expression that cannot raise nor act: a literal, a name, a container of them, an
    empty constructor call or `defaultdict(list)`."""
    if isinstance(value, ast.Constant | ast.Name):
        return True
    if isinstance(value, ast.List | ast.Tuple | ast.Set):
        return all(_pure(e) for e in value.elts)
    if isinstance(value, ast.Dict):
        return all(k is None or _pure(k) for k in value.keys) and all(map(_pure, value.values))
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and not value.keywords:
        if value.func.id not in _PURE_CALLS:
            return False
        factory = value.func.id == "defaultdict" and len(value.args) == 1
        arg = value.args[0] if factory else None
        return not value.args or isinstance(arg, ast.Name) and arg.id in _PURE_CALLS
    return False
