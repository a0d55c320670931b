"""Why a candidate failed, in one line: its first failing assertion as the test wrote it, with
what the candidate gave. Pure: a run and the problem's tests in, a line out.

    test_pairs: assert two_sum([3, 2, 4], 6) == [1, 2]; got [0, 1]
    test_doctest[line4]: slugify("Hello, World!") should be 'hello-world'; got 'hello, world!'
    error: candidate raised at import: ModuleNotFoundError: No module named 'numpy'
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import Any

from codegen.problems.model import TestFile
from sandbox import RunResult, TestOutcome, TestStatus

LIMIT = 200
_DOCTEST = re.compile(
    r"Failed example:\n(?P<example>(?:    .*\n?)+?)"
    r"(?:Expected:\n(?P<expected>(?:    .*\n?)+?)Got:\n(?P<got>(?:    .*\n?)+)"
    r"|Exception raised:\n(?P<raised>(?:    .*\n?)+))",
)
_UNSET = object()


def first_failure(run: RunResult, tests: Sequence[TestFile] = ()) -> str:
    """One line: the first test the run did not pass and how; or the run's own message."""
    failed = next((t for t in run.tests if t.status is not TestStatus.PASSED), None)
    if failed is None:
        return _cut(f"{run.verdict}: {_first_line(run.message) or 'no test ran'}")
    return _cut(failure_line(failed, tests))


def failure_line(failed: TestOutcome, tests: Sequence[TestFile] = ()) -> str:
    """How one test failed, as its assertion reads (the test's name first)."""
    name = failed.name.split("::")[-1]
    message = failed.message
    doctest = _DOCTEST.search(message + "\n")
    if doctest:
        return f"{name}: {_doctest_line(doctest)}"
    if failed.cause is not None:
        return f"{name}: {failed.cause}: {_first_line(message)}"
    found = _assertion(failed.name, _first_line(message), tests)
    return f"{name}: {found or _first_line(message) or failed.status}"


def _doctest_line(match: re.Match[str]) -> str:
    example = _joined(match["example"])
    if match["raised"]:
        raised = [line.strip() for line in match["raised"].splitlines() if line.strip()]
        return f"{example} raised {raised[-1] if raised else 'an exception'}"
    return f"{example} should be {_joined(match['expected'])}; got {_joined(match['got'])}"


def _assertion(test_name: str, message: str, tests: Sequence[TestFile]) -> str | None:
    """`assert <as written> == <expected>; got <value>` when pytest's `assert X == Y` names
    the expected value of exactly one assert of that test."""
    compared = _compared(message)
    if compared is None:
        return None
    got, expected = compared
    file_name = test_name.split("::")[0].rsplit("/", 1)[-1]
    function = test_name.split("::")[-1].split("[")[0]
    matches = []
    for test in tests:
        if test.name != file_name:
            continue
        try:
            tree = ast.parse(test.source)
        except SyntaxError:
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == function:
                matches += [a for a in ast.walk(node) if _asserts_equal(a, expected)]
    if len(matches) != 1:
        return None
    return f"{ast.unparse(matches[0])}; got {got}"


def _compared(message: str) -> tuple[str, Any] | None:
    """`assert [0, 1] == [1, 2]` → ("[0, 1]", [1, 2])."""
    if not message.startswith("assert "):
        return None
    try:
        test = ast.parse(message, mode="exec").body[0]
    except SyntaxError:
        return None
    found = _equality(test)
    return None if found is None else (ast.unparse(found[0]), found[1])


def _asserts_equal(node: ast.AST, expected: Any) -> bool:
    found = _equality(node)
    return found is not None and found[1] == expected and type(found[1]) is type(expected)


def _equality(node: ast.AST) -> tuple[ast.expr, Any] | None:
    """`assert X == <literal>` → (X, the literal's value); None for any other statement."""
    if not (isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare)):
        return None
    compare = node.test
    if len(compare.ops) != 1 or not isinstance(compare.ops[0], ast.Eq):
        return None
    value = _literal(compare.comparators[0])
    return None if value is _UNSET else (compare.left, value)


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNSET


def _joined(block: str) -> str:
    return " ".join(line.strip() for line in block.splitlines() if line.strip())


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _cut(line: str) -> str:
    return line if len(line) <= LIMIT else line[: LIMIT - 1] + "…"
