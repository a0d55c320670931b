"""A candidate in its module: what the sandbox runs when the function lives in a module.

The function a user marks (or hands to ``codegen solve path.py::name``) has imports, helpers
and constants around it. A candidate is the function alone (what the report shows and what
``--fix`` writes into the body), and it is tested as the whole module with the function's body
replaced by the candidate's (:func:`compose`): exactly the file ``--fix`` would leave, so a
candidate that calls the module's ``_words`` helper passes, and what passed is what is written.
Within a project whose source the sandbox mounts, the module is imported as what it is there
(``pkg.text``, its package first, relative imports working: :func:`module_spec`), and the
project's own tests of the function run beside the problem's (:func:`repository_tests`).
Pure: text in, text out; nothing of the module runs here.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen.problems.model import Problem
from codegen.problems.splice import apply, body_span, implementation_body
from sandbox.models import ModuleSpec

if TYPE_CHECKING:
    from sandbox import SandboxBackend


def program(problem: Problem, candidate: str) -> str:
    """The source the sandbox runs for ``candidate``: the module with the candidate as the
    function's body when the problem has a module, else the candidate itself."""
    if problem.context is None:
        return candidate
    return compose(problem.context.source, problem.entry_point, candidate)


def module_spec(problem: Problem, sandbox: SandboxBackend) -> ModuleSpec | None:
    """The project's module the candidates are, when the sandbox mounts the project."""
    context = problem.context
    if context is None or context.module is None or getattr(sandbox, "project", None) is None:
        return None
    return ModuleSpec(name=context.module, path=context.path, import_path=context.import_path)


def repository_tests(problem: Problem, sandbox: SandboxBackend) -> list[str]:
    """The project's own tests of the function, when the sandbox mounts the project."""
    if module_spec(problem, sandbox) is None:
        return []
    assert problem.context is not None
    return list(problem.context.repository_tests)


def floor(problem: Problem) -> str | None:
    """The do-nothing version of a candidate in its module (the module with an empty body),
    timed beside them so that what the module's imports cost is taken out of theirs."""
    if problem.context is None:
        return None
    entry = problem.entry_point
    return program(problem, f"def {entry}(*args, **kwargs):\n    return None\n")


def compose(module: str, entry_point: str, candidate: str) -> str:
    """``module`` with ``entry_point``'s body replaced by the candidate's, as ``--fix`` writes
    it (the candidate's own imports and helpers at the top of the body). A candidate that
    cannot be cut into a body (its function is a lambda, say), or a module without the
    function, gets the candidate after the module's own code instead."""
    try:
        tree = ast.parse(module)
    except SyntaxError:
        return candidate
    lines = module.splitlines(keepends=True)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry_point]
    span = body_span(functions[-1], lines) if functions else None
    if span is not None:
        try:
            body = implementation_body(candidate, entry_point)
        except (SyntaxError, ValueError):
            body = None
        if body is not None:
            return apply(module, [(span, body)])
    return module.rstrip("\n") + "\n\n\n" + candidate
