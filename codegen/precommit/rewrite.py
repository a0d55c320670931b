"""Put a solution into the user's file in place of a stub's body. Pure: text in, text out.

Only the stub statement (`...` or `raise NotImplementedError`) is replaced; the signature,
decorators, docstring, comments and every other line of the file stay byte for byte. What the
candidate needs beyond its function body (imports, helper functions, constants) goes at the top
of the new body, so nothing outside the function changes.
"""

from __future__ import annotations

import ast
import difflib
import textwrap
from collections.abc import Sequence

from codegen.precommit.find import MarkedStub

INDENT = "    "


def implementation_body(code: str, entry_point: str) -> str:
    """The candidate as the statements of one function body, dedented: its module-level
    imports and helpers first (`from __future__` dropped), then the entry point's own body
    without its docstring."""
    tree = ast.parse(code)
    lines = code.splitlines(keepends=True)
    entry = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry_point]
    if not entry:
        raise ValueError(f"the solution does not define {entry_point}")
    function = entry[-1]
    parts: list[str] = []
    for node in tree.body:
        if node is function or _is_docstring(node) or _is_future(node):
            continue
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            continue  # an earlier restatement
        parts.append(textwrap.dedent(_segment(lines, node)))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            parts.append("\n")  # a blank line after a nested definition, as formatters do
    body = function.body
    if _is_docstring(body[0]) and len(body) > 1:
        body = body[1:]
    first = body[0]
    start = min([first.lineno, *(d.lineno for d in getattr(first, "decorator_list", []))])
    parts.append(textwrap.dedent("".join(lines[start - 1 : function.end_lineno])))
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts)


def apply(source: str, replacements: Sequence[tuple[MarkedStub, str]]) -> str:
    """`source` with each stub's body replaced by its dedented implementation body."""
    lines = source.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    for stub, body in sorted(replacements, key=lambda r: r[0].body_lineno, reverse=True):
        start_line = lines[stub.body_lineno - 1]
        end_line = lines[stub.end_lineno - 1]
        before = start_line[: stub.body_col]
        after = end_line[stub.end_col :]
        own_line = not before.strip()
        indent = before if own_line else _indent_of(lines[stub.lineno - 1]) + INDENT
        body_lines = textwrap.indent(body, indent).splitlines()
        if own_line:
            body_lines[0] = body_lines[0][len(indent) :]
            text = before + newline.join(body_lines)
        else:  # `def f(x): ...` on one line: the body moves below the signature
            text = before.rstrip() + newline + newline.join(body_lines)
        replaced = text + (after if after.strip() else after.lstrip(" \t"))
        lines[stub.body_lineno - 1 : stub.end_lineno] = [replaced]
    return "".join(lines)


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )


def _segment(lines: list[str], node: ast.stmt) -> str:
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "".join(lines[start - 1 : node.end_lineno])


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _is_future(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "__future__"


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
