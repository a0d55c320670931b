"""``path.py::name``: a function still to write, in its module, as a Problem.

Its tests are the ones the pre-commit hook would use (its doctests, and the tests of
test_<module>.py beside it or under tests/ that name it), and its candidates are tested inside
the module (:mod:`codegen.problems.context`). Finding the function in its module is
shared with ``codegen optimise`` (:mod:`codegen.optimise.target`). Reads files; runs nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

from codegen.errors import BadInput
from codegen.problems import Problem
from codegen.project import DEFAULT_CONTEXT_TOKENS
from codegen.project.associate import problem_for
from codegen.project.find import marked_stub, stub_body
from codegen.project.git import repo_root


def function_problem(
    spec: str, context_tokens: int = DEFAULT_CONTEXT_TOKENS, top: Path | None = None
) -> Problem:
    """The Problem of the unwritten function ``path.py::name``; BadInput when it is not one.
    The models see at most ``context_tokens`` of its module and package. ``top``: the folder
    its project lies in (default: its git repository's top)."""
    path, source, tree, node = function_in_module(spec)
    name = node.name
    body = stub_body(node)
    if body is None:
        raise BadInput(
            f"{path}:{node.lineno}: {name} already has a body (a stub's is `...` or "
            f"`raise NotImplementedError`); to make it faster: codegen optimise {spec}"
        )
    lines = source.splitlines(keepends=True)
    imports = [ast.get_source_segment(source, n) or "" for n in tree.body
               if isinstance(n, ast.Import | ast.ImportFrom)]  # fmt: skip
    stub = marked_stub(node, body, lines, imports, str(path))
    top = top or repo_root(path.resolve().parent)
    return problem_for(stub, top, source, context_tokens)


def function_in_module(spec: str) -> tuple[Path, str, ast.Module, ast.FunctionDef]:
    """The module of ``path.py::name``, its text and tree, and its top-level function ``name``
    (the last definition, the one Python binds); BadInput when there is none. ``spec`` is one
    (:func:`~codegen.project.is_function_spec`). Shared by ``solve``/``rank`` (a function to
    write) and ``optimise`` (a function to make faster)."""
    path_text, _, name = spec.rpartition("::")
    path = Path(path_text)
    source = read_module(path)
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as error:
        raise syntax_error(path, error) from None
    nodes = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    if not nodes:
        raise BadInput(f"{path}: no top-level function named {name!r}")
    return path, source, tree, nodes[-1]


def syntax_error(where: Path | str, error: SyntaxError) -> BadInput:
    """``where:line: syntax error: what``, one line for the user."""
    return BadInput(f"{where}:{error.lineno or 0}: syntax error: {error.msg}")


def read_module(path: Path) -> str:
    """The file's text; BadInput when it is missing or unreadable."""
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read: {error}") from None
