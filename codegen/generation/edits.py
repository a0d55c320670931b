"""Small text edits of Python source located by AST positions, so that what is not edited (its
comments and layout) stays as the model wrote it. Pure: source in, source out.

AST columns count UTF-8 bytes; every helper here takes and converts them, so that a candidate
holding non-ASCII text is cut where the AST says.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """Replace the text from (line, byte column) to (end line, end byte column) by `text`."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str = ""


def apply_edits(source: str, edits: list[Edit]) -> str:
    """`source` with every edit made; edits must not overlap (later ones are applied first)."""
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, col: int) -> int:
        if line > len(lines):
            return len(source)
        text = lines[line - 1]
        return starts[line - 1] + len(text.encode("utf-8")[:col].decode("utf-8", "ignore"))

    out = source
    for edit in sorted(edits, key=lambda e: (e.line, e.col), reverse=True):
        start, end = offset(edit.line, edit.col), offset(edit.end_line, edit.end_col)
        out = out[:start] + edit.text + out[end:]
    return out


def parses(source: str) -> bool:
    """Compiles, not just parses: `return` outside a function must count as broken."""
    try:
        compile(source, "<candidate>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def first_line(node: ast.stmt) -> int:
    """Where a statement starts, its decorators included."""
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])


def remove_statement(source: str, tree: ast.Module, node: ast.stmt) -> str:
    """`source` without `node`: its whole lines when it has them to itself, else its text; the
    only statement of a block becomes `pass`."""
    lines = source.splitlines(keepends=True)
    start, end = first_line(node), node.end_lineno or node.lineno
    before = _text_before(lines, start, node)
    after = lines[end - 1].encode("utf-8")[node.end_col_offset or 0 :].decode("utf-8", "ignore")
    alone = not before.strip() and (not after.strip() or after.strip().startswith("#"))
    sole = _sole_in_block(tree, node)
    if alone:
        indent = before if node.lineno == start else _indent(lines[start - 1])
        replacement = f"{indent}pass\n" if sole else ""
        return "".join(lines[: start - 1]) + replacement + "".join(lines[end:])
    col = node.col_offset if start == node.lineno else 0
    end_col = node.end_col_offset or 0
    return apply_edits(source, [Edit(start, col, end, end_col, "pass" if sole else "")])


def replace_statement(source: str, node: ast.stmt, text: str) -> str:
    """`node`'s text replaced by `text` (one line, at the same place)."""
    return apply_edits(
        source,
        [Edit(node.lineno, node.col_offset, node.end_lineno or node.lineno,
              node.end_col_offset or 0, text)],
    )  # fmt: skip


def parents(tree: ast.AST) -> Iterator[tuple[ast.AST, list[ast.stmt]]]:
    """Every block of statements in `tree`, with its owner."""
    for owner in ast.walk(tree):
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(owner, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield owner, block


def _sole_in_block(tree: ast.Module, node: ast.stmt) -> bool:
    for owner, block in parents(tree):
        if any(stmt is node for stmt in block):
            return len(block) == 1 and owner is not tree
    return False


def _text_before(lines: list[str], start: int, node: ast.stmt) -> str:
    if start != node.lineno:
        return _indent(lines[start - 1])
    return lines[start - 1].encode("utf-8")[: node.col_offset].decode("utf-8", "ignore")


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
