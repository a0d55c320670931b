"""What `codegen optimise` works on: a function that already works, as a problem and its code.

TARGET is ``path.py::name`` (the function in a module: its tests are its doctests and the test
file the pre-commit hook would find, test_<module>.py beside it or under tests/), or a problem
folder or stub plus a candidate file. The code optimised is the function; every version is
timed and checked inside its module (:mod:`codegen.problems.context`), whose helpers, constants
and imports it may use. With ``--fix`` the function's body is rewritten in place; nothing else
in the file changes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from codegen.errors import BadInput
from codegen.generation.prune import UndefinedNames, prune
from codegen.problems import Problem, load_problem, problem_from_stub
from codegen.problems.splice import apply, implementation_body
from codegen.project import is_function_spec
from codegen.project.associate import test_file_of
from codegen.project.context import DEFAULT_CONTEXT_TOKENS, module_context
from codegen.project.find import MarkedStub, marked_stub
from codegen.project.git import repo_root
from codegen.project.target import function_in_module, read_module, syntax_error


@dataclass(frozen=True)
class Target:
    problem: Problem
    code: str  # the function and what it reaches: the version every answer is held to
    path: Path | None = None  # the module, for --fix (None: a problem plus a candidate file)
    region: MarkedStub | None = None  # the function's body in that module


def load_target(
    spec: str, candidate: Path | None = None, context_tokens: int = DEFAULT_CONTEXT_TOKENS
) -> Target:
    """``path.py::name``, or a problem (folder, stub or record) with ``candidate``; the models
    see at most ``context_tokens`` of the function's module and package."""
    if candidate is not None:
        problem = load_problem(spec)
        code = read_module(candidate)
        return Target(problem=problem, code=_reachable(code, problem.entry_point, str(candidate)))
    if not is_function_spec(spec):
        raise BadInput(
            f"{spec}: give a function as path.py::name, or a problem with a candidate file"
        )
    path, source, _, node = function_in_module(spec)
    name = node.name
    region = _body_region(node, source, path)
    code = _reachable(_function_source(node, source), name, str(path), module=source)
    problem = problem_from_stub(code, name=name, where=str(path), entry=name)
    written = [t for t in problem.visible_tests if t.origin != "smoke"]
    top = repo_root(path.resolve().parent)
    context = module_context(path, source, name, top, context_tokens)
    beside = test_file_of(region, top, context)
    tests = [*([beside[0]] if beside else []), *written]
    warnings = [w for w in problem.warnings if "has a body" not in w and "no tests" not in w]
    if not tests:
        tests = list(problem.visible_tests)  # the smoke test: the current version is the oracle
    problem = problem.model_copy(
        update={"visible_tests": tuple(tests), "warnings": tuple(warnings), "context": context}
    )
    return Target(problem=problem, code=code, path=path, region=region)


def rewritten(target: Target, code: str) -> str:
    """The module's text with the function's body replaced by ``code``'s (``--fix``)."""
    if target.path is None or target.region is None:
        raise BadInput("--fix needs a function given as path.py::name")
    source = read_module(target.path)
    body = implementation_body(code, target.problem.entry_point)
    return apply(source, [(target.region, body)])


def _reachable(source: str, name: str, where: str, module: str | None = None) -> str:
    try:
        return prune(source, name, module=module)
    except SyntaxError as error:
        raise syntax_error(where, error) from None
    except UndefinedNames as error:
        raise BadInput(f"{where}: {name} {error}; it must run as it is") from None


def _function_source(node: ast.FunctionDef, source: str) -> str:
    """The function's own lines, decorators included."""
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    lines = source.splitlines(keepends=True)[start - 1 : node.end_lineno]
    return "".join(lines)


def _body_region(node: ast.FunctionDef, source: str, path: Path) -> MarkedStub:
    """The function's body after its docstring, as the span the pre-commit rewrite replaces."""
    body = node.body[1:] if ast.get_docstring(node, clean=False) is not None else node.body
    first = body[0] if body else node.body[0]
    return marked_stub(node, first, source.splitlines(keepends=True), [], str(path))
