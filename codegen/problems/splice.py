"""Put a function body into a module in place of another. Pure: text in, text out.

Only the span of the body (from its first statement after the docstring to the function's end)
is replaced; the signature, decorators, docstring, comments and every other line stay byte for
byte. What a candidate needs beyond its function body (imports, helper functions, constants)
goes at the top of the new body, so nothing outside the function changes. The pre-commit
hook's ``--fix`` writes exactly this, and a candidate in its module's context is tested as
exactly this (:mod:`codegen.problems.context`).
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

INDENT = "    "


class Span(Protocol):
    """Where a function's body lies in its module (1-based lines, character columns)."""

    @property
    def lineno(self) -> int: ...  # the `def` line

    @property
    def body_lineno(self) -> int: ...

    @property
    def body_col(self) -> int: ...

    @property
    def end_lineno(self) -> int: ...

    @property
    def end_col(self) -> int: ...


@dataclass(frozen=True)
class BodySpan:
    lineno: int
    body_lineno: int
    body_col: int
    end_lineno: int
    end_col: int


def body_span(node: ast.FunctionDef, lines: list[str]) -> BodySpan | None:
    """The span of ``node``'s body after its docstring; None when it has nothing but one."""
    body = node.body[1:] if ast.get_docstring(node, clean=False) is not None else node.body
    if not body:
        return None
    first = body[0]
    start = min([first.lineno, *(d.lineno for d in getattr(first, "decorator_list", []))])
    column = first.col_offset if start == first.lineno else 0
    end_line = node.end_lineno or node.lineno
    return BodySpan(
        lineno=node.lineno,
        body_lineno=start,
        body_col=char_col(lines[start - 1], column),
        end_lineno=end_line,
        end_col=char_col(lines[end_line - 1], node.end_col_offset or 0),
    )


def char_col(line: str, byte_col: int) -> int:
    """ast columns count UTF-8 bytes; text slicing counts characters."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


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


def apply(source: str, replacements: Sequence[tuple[Span, str]]) -> str:
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
