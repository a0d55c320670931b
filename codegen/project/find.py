"""Find the functions a file marks for generation. Pure: source text in, stubs out.

A function is marked when it is top-level, carries a `# codegen: solve` comment (on the line
above it or its decorators, on its signature, or in its body) and its body, after an optional
docstring, is only `...` or `raise NotImplementedError`. Once implemented its body is real
code, so it is no longer found: the marker may stay.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

from codegen.errors import BadInput
from codegen.problems.splice import char_col

MARKER = re.compile(r"#\s*codegen:\s*solve\b")


@dataclass(frozen=True)
class MarkedStub:
    """One marked function: where it is and the source the models see."""

    path: str
    name: str
    lineno: int  # the `def` line (1-based)
    body_lineno: int  # first statement after the docstring
    body_col: int  # its column, in characters
    end_lineno: int
    end_col: int
    stub: str  # the file's imports, then the function with its stub body
    has_doctests: bool


def find_stubs(source: str, path: str) -> tuple[list[MarkedStub], list[str]]:
    """The marked stubs of a file, and warnings for markers that cannot be honoured."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as error:
        raise BadInput(f"{path}:{error.lineno or 0}: syntax error: {error.msg}") from None
    marked = _marker_lines(source)
    if not marked:
        return [], []
    lines = source.splitlines(keepends=True)
    imports = [ast.get_source_segment(source, node) or "" for node in tree.body
               if isinstance(node, ast.Import | ast.ImportFrom)]  # fmt: skip
    stubs: list[MarkedStub] = []
    warnings: list[str] = []
    top_level = set()
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        top_level.add(id(node))
        if not _is_marked(node, marked):
            continue
        if isinstance(node, ast.AsyncFunctionDef):
            warnings.append(f"{path}:{node.lineno}: {node.name} is async; only plain functions")
            continue
        body = stub_body(node)
        if body is None:
            continue  # already implemented
        stubs.append(marked_stub(node, body, lines, imports, path))
    for inner in ast.walk(tree):
        if (
            isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef)
            and id(inner) not in top_level
            and _is_marked(inner, marked)
            and stub_body(inner) is not None
        ):
            warnings.append(
                f"{path}:{inner.lineno}: {inner.name} is not a top-level function; "
                "only module-level functions can be generated"
            )
    return stubs, warnings


def _marker_lines(source: str) -> set[int]:
    """Lines holding a `# codegen: solve` comment (real comments, not text in strings)."""
    found = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and MARKER.search(token.string):
                found.add(token.start[0])
    except (tokenize.TokenError, IndentationError):
        pass
    return found


def _is_marked(node: ast.FunctionDef | ast.AsyncFunctionDef, marked: set[int]) -> bool:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return any(first - 1 <= line <= (node.end_lineno or node.lineno) for line in marked)


def stub_body(node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.stmt | None:
    """The single `...` / `raise NotImplementedError` statement after the docstring, if any."""
    body = node.body
    if ast.get_docstring(node, clean=False) is not None:
        body = body[1:]
    if len(body) != 1:
        return None
    statement = body[0]
    if (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and statement.value.value is Ellipsis
    ):
        return statement
    if isinstance(statement, ast.Raise) and statement.exc is not None:
        exc = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
            return statement
    return None


def marked_stub(
    node: ast.FunctionDef,
    body: ast.stmt,
    lines: list[str],
    imports: list[str],
    path: str,
) -> MarkedStub:
    """``node`` as a stub whose body, from ``body`` to the function's end, a rewrite replaces."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    end_line = node.end_lineno or node.lineno
    text = "".join(lines[first - 1 : end_line])
    text = text if text.endswith("\n") else text + "\n"
    stub = "\n".join([*imports, "", ""]) + text if imports else text
    doc = ast.get_docstring(node, clean=False) or ""
    return MarkedStub(
        path=path,
        name=node.name,
        lineno=node.lineno,
        body_lineno=body.lineno,
        body_col=char_col(lines[body.lineno - 1], body.col_offset),
        end_lineno=end_line,
        end_col=char_col(lines[end_line - 1], node.end_col_offset or 0),
        stub=stub,
        has_doctests=">>>" in doc,
    )
