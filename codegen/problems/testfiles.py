"""Check the problem's pytest files and generate the ones a problem implies.

Checks are syntactic (``ast``), nothing runs on the host:

- a test file must parse (errors name ``file:line``);
- a file that never imports ``solution`` is an error: it cannot test the candidate, and it is
  usually ``from problem import f`` written by mistake; a file that imports ``solution`` but
  not the entry point is only a warning, since it may test helpers;
- a top-level import of a module the sandbox lacks (not the standard library, pytest,
  hypothesis or pytest-benchmark) is an error, because the tests would fail to import there
  for every candidate alike.

Generated files: doctest examples as pytest tests, a HumanEval ``check`` as a hidden test, and
a bare import check when a problem has nothing else.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Sequence

from codegen.errors import BadInput
from codegen.problems.examples import CallExample
from codegen.problems.model import TestFile
from codegen.problems.stub import Example, parse_source

TEST_NAME = re.compile(r"^test_[A-Za-z0-9_]*\.py$")
DOCTEST_FILE = "test_doctests.py"
EXAMPLES_FILE = "test_examples.py"
SMOKE_FILE = "test_entry_point.py"
CHECK_FILE = "test_check.py"
SANDBOX_MODULES = frozenset(sys.stdlib_module_names) | {
    "solution",
    "pytest",
    "_pytest",
    "hypothesis",
    "pytest_benchmark",
}


def check_test_file(
    name: str, source: str, entry: str, where: str, in_project: bool = False
) -> tuple[TestFile, list[str]]:
    """Validate one user test file; returns it and any warnings, or raises BadInput.
    ``in_project``: the tests run with a project mounted, whose package and dependencies they
    may import (whether they can is known when they load in the sandbox)."""
    if not TEST_NAME.match(name):
        raise BadInput(f"{where}: test files must be named test_*.py (letters, digits, _)")
    tree = parse_source(source, where, "fix the test file")
    imports_solution, imports_entry, wrong_module = _imports(tree, entry)
    warnings: list[str] = []
    if not imports_solution:
        hint = f"`from solution import {entry}` (the candidate is the module `solution`)"
        found = f" instead of `{wrong_module}`" if wrong_module else ""
        raise BadInput(f"{where}: never imports the candidate; write {hint}{found}")
    if not imports_entry:
        warnings.append(f"{where}: imports `solution` but not `{entry}`")
    if not in_project:
        _check_available(tree, where)
    test = TestFile(
        name=name, source=source, origin="file", path=where, uses_benchmark=_uses_benchmark(tree)
    )
    return test, warnings


def _imports(tree: ast.Module, entry: str) -> tuple[bool, bool, str | None]:
    """(imports solution, imports the entry point, a likely wrong module name)."""
    solution = entry_seen = False
    wrong: str | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "solution" and node.level == 0:
            solution = True
            entry_seen |= any(alias.name in (entry, "*") for alias in node.names)
        elif isinstance(node, ast.Import) and any(a.name == "solution" for a in node.names):
            solution = entry_seen = True  # used as solution.<entry>
        elif isinstance(node, ast.ImportFrom) and any(a.name == entry for a in node.names):
            wrong = f"from {'.' * node.level}{node.module or ''} import {entry}"
    return solution, entry_seen, wrong


def solution_imports(source: str) -> set[str]:
    """The names a test file imports from ``solution`` (none when it does not parse: reading
    it as a test file reports that)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "solution" and node.level == 0
        for alias in node.names
    }


def _check_available(tree: ast.Module, where: str) -> None:
    """Top-level imports (outside ``try``) must exist in the sandbox image."""
    for node in tree.body:
        if isinstance(node, ast.Import):
            modules = [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [(node.module, node.lineno)]
        else:
            continue
        for module, line in modules:
            if module.split(".")[0] not in SANDBOX_MODULES:
                raise BadInput(
                    f"{where}:{line}: imports `{module}`, which the sandbox does not have; "
                    "use the standard library, pytest or hypothesis"
                )


def _uses_benchmark(tree: ast.Module) -> bool:
    """A test function that takes pytest-benchmark's ``benchmark`` fixture."""
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(arg.arg == "benchmark" for arg in node.args.args)
        for node in ast.walk(tree)
    )


def doctest_test_file(entry: str, examples: Sequence[Example], where: str) -> TestFile:
    """One parametrised pytest test per doctest example, compared by doctest's repr rules.

    Examples without expected output (``>>> x = [1, 2]``) are replayed before each later
    example, so examples can build on each other as in a docstring.
    """
    cases = []
    setup: list[str] = []
    for example in examples:
        if not example.want:
            setup.append(example.source)
            continue
        cases.append((tuple(setup), example.source, example.want, example.lineno))
    ids = [f"line{case[3]}" for case in cases]
    source = _DOCTEST_TEMPLATE.format(
        entry=entry, where=where, cases=_literal(cases), ids=_literal(ids)
    )
    return TestFile(name=DOCTEST_FILE, source=source, origin="doctest", path=where)


def examples_test_file(entry: str, examples: Sequence[CallExample], where: str) -> TestFile:
    """One parametrised pytest test per example read from the docstring's prose. Lists and
    tuples compare alike and a written float matches to the decimals it shows (``6.00``),
    since prose is loose about both."""
    cases = [(e.args, e.expected, e.decimals, e.line) for e in examples]
    ids = [f"line{e.line}" for e in examples]
    source = _EXAMPLES_TEMPLATE.format(
        entry=entry, where=where, cases=_literal(cases), ids=_literal(ids)
    )
    return TestFile(name=EXAMPLES_FILE, source=source, origin="examples", path=where)


def smoke_test_file(entry: str) -> TestFile:
    """The weakest test: the candidate defines a callable entry point."""
    source = (
        f"from solution import {entry}\n\n\n"
        "def test_entry_point_is_callable():\n"
        f"    assert callable({entry})\n"
    )
    return TestFile(name=SMOKE_FILE, source=source, origin="smoke")


def humaneval_check_file(
    entry: str, test_source: str, where: str, helpers: Sequence[str] = ()
) -> TestFile:
    """HumanEval's ``check(candidate)`` as a pytest file, run like HumanEval's own harness.

    HumanEval runs prompt + completion + test as one module, so a test may call helpers the
    prompt defines (``encode_cyclic``, ``poly``); those it names are imported from the candidate
    explicitly, since ``import *`` sees nothing through the sandbox's proxy module.
    """
    tree = parse_source(test_source, where, "fix the record's `test` field")
    if not re.search(r"^def check\(", test_source, re.MULTILINE):
        raise BadInput(f"{where}: `test` must define `def check(candidate):`")
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names = [entry, *(h for h in helpers if h != entry and h in used)]
    source = (
        f'"""HumanEval check for {where}, run against the candidate."""\n\n'
        f"from solution import {', '.join(names)}\n\n"
        f"{test_source.strip()}\n\n\n"
        "def test_check():\n"
        f"    check({entry})\n"
    )
    return TestFile(name=CHECK_FILE, source=source, origin="humaneval_check", path=where)


def _literal(value: object) -> str:
    """A Python literal that round-trips through ``ast.literal_eval``."""
    text = repr(value)
    assert ast.literal_eval(text) == value
    return text


_DOCTEST_TEMPLATE = '''\
"""Doctest examples of `{entry}` from {where}, run against the candidate."""

import ast
import doctest

import pytest

from solution import {entry}

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
CASES = {cases}


class LiteralChecker(doctest.OutputChecker):
    """doctest's text comparison, or else equal Python literals (['a'] matches ["a"])."""

    def check_output(self, want, got, optionflags):
        if super().check_output(want, got, optionflags):
            return True
        try:
            return ast.literal_eval(want.strip()) == ast.literal_eval(got.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return False


@pytest.mark.parametrize("setup, source, want, line", CASES, ids={ids})
def test_doctest(setup, source, want, line):
    examples = [doctest.Example(step, "") for step in setup]
    examples.append(doctest.Example(source, want, lineno=line - 1))
    globs = {{"{entry}": {entry}}}
    test = doctest.DocTest(examples, globs, "{entry}", "{where}", 0, None)
    report = []
    runner = doctest.DocTestRunner(LiteralChecker(), verbose=False, optionflags=FLAGS)
    runner.run(test, out=report.append, clear_globs=False)
    if runner.failures:
        pytest.fail("".join(report), pytrace=False)
'''


_EXAMPLES_TEMPLATE = '''\
"""Examples of `{entry}` read from the prose of its docstring in {where}."""

import math

import pytest

from solution import {entry}

CASES = {cases}


def same(got, want, decimals):
    if isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        tolerance = 0.5 * 10.0 ** -decimals if decimals is not None else 1e-9
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=tolerance)
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        return len(got) == len(want) and all(same(g, w, None) for g, w in zip(got, want))
    return got == want and isinstance(got, bool) == isinstance(want, bool)


@pytest.mark.parametrize("args, want, decimals, line", CASES, ids={ids})
def test_example(args, want, decimals, line):
    got = {entry}(*args)
    assert same(got, want, decimals), (
        f"{entry}{{args!r}}: returned {{got!r}}; the docstring (line {{line}}) says {{want!r}}"
    )
'''
