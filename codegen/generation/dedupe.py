"""Merge candidates that are the same program, keeping every proposer. Pure.

Two candidates are the same when their normalised ASTs are equal. Normalising removes what
cannot change behaviour: formatting, comments, docstrings, type annotations, and the names of
local variables (renamed in order of first binding). Parameter, function and global names are
kept, because callers and tests can see them.
"""

from __future__ import annotations

import ast
import hashlib

from codegen.generation.types import Candidate, Proposal


def fingerprint(code: str) -> str:
    """A short stable hash of the normalised AST; SyntaxError for code that does not parse."""
    tree = _Normaliser().visit(ast.parse(code))
    dumped = ast.dump(tree, annotate_fields=False, include_attributes=False)
    return hashlib.sha256(dumped.encode()).hexdigest()[:16]


class CandidatePool:
    """Candidates in order of first arrival; a repeat adds its proposer to the first one."""

    def __init__(self) -> None:
        self._by_fingerprint: dict[str, Candidate] = {}

    def add(self, code: str, proposal: Proposal) -> bool:
        """Record one proposal; True when its program is new."""
        key = fingerprint(code)
        known = self._by_fingerprint.get(key)
        if known is not None:
            known.proposers.append(proposal)
            return False
        self._by_fingerprint[key] = Candidate(code=code, fingerprint=key, proposers=[proposal])
        return True

    def __len__(self) -> int:
        return len(self._by_fingerprint)

    @property
    def candidates(self) -> list[Candidate]:
        return list(self._by_fingerprint.values())


def dedupe(proposals: list[tuple[str, Proposal]]) -> list[Candidate]:
    """Group (code, proposal) pairs into distinct candidates."""
    pool = CandidatePool()
    for code, proposal in proposals:
        pool.add(code, proposal)
    return pool.candidates


class _Normaliser(ast.NodeTransformer):
    def visit_Module(self, node: ast.Module) -> ast.AST:
        node.body = _without_docstring(node.body)
        self.generic_visit(node)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.body = _without_docstring(node.body)
        self.generic_visit(node)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is None:
            return ast.Pass()
        target = self.visit(node.target)
        return ast.Assign(targets=[target], value=self.visit(node.value), lineno=0)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.annotation = None
        return node

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        node.body = _without_docstring(node.body) or [ast.Pass()]
        node.returns = None
        _rename_locals(node)
        self.generic_visit(node)
        return node


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return body[1:]
    return body


def _rename_locals(func: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    """Rename names bound in this function's own scope (not parameters, globals, nested defs)."""
    params = {a.arg for a in ast.walk(func.args) if isinstance(a, ast.arg)}
    declared = {
        name
        for stmt in _own_scope(func)
        if isinstance(stmt, ast.Global | ast.Nonlocal)
        for name in stmt.names
    }
    mapping: dict[str, str] = {}
    for node in _own_scope(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            name = node.id
            if name not in params and name not in declared and name not in mapping:
                mapping[name] = f"_v{len(mapping)}"
    if not mapping:
        return
    for node in _own_scope(func):
        if isinstance(node, ast.Name) and node.id in mapping:
            node.id = mapping[node.id]


def _own_scope(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """Nodes of the function body in source order, not descending into nested scopes."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = list(reversed(func.body))
    nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, nested):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return out
