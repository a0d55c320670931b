"""Read the tester's reply as test cases: ``assert entry(<literals>) == <literal>`` lines. Pure.

Model-written tests are soft evidence (CodeT's dual execution agreement, see
:mod:`codegen.ranking.consensus`): they never make a candidate pass or fail, so a line that is
not exactly one literal call compared with one literal value is skipped, never guessed at.
Nothing here runs code: ``ast.literal_eval`` only.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from codegen.generation.types import TesterReply
from codegen.problems.examples import PARSE_ERRORS, CallExample, call_arguments, literal_value
from codegen.ranking.consensus import GeneratedTest

MAX_CASES = 30  # per reply: a tester that writes hundreds is looping, not testing
MAX_LINE_CHARS = 2000
ANY_PARAMETERS = tuple(f"_{i}" for i in range(64))  # a text task's parameters are unknown


def parse_test_cases(
    reply: str, entry: str, params: Sequence[str] | None, *, limit: int = MAX_CASES
) -> list[CallExample]:
    """The test cases in ``reply``, in order, without exact duplicates; ``line`` counts reply
    lines. ``params`` None (unknown) takes positional arguments only."""
    names = ANY_PARAMETERS if params is None else params
    cases: list[CallExample] = []
    seen: set[str] = set()
    for number, line in enumerate(reply.splitlines(), 1):
        case = _assert_line(line.strip(), entry, names, number)
        if case is None or (key := repr((case.args, case.expected))) in seen:
            continue
        seen.add(key)
        cases.append(case)
        if len(cases) >= limit:
            break
    return cases


def generated_tests(
    replies: Sequence[TesterReply], entry: str, params: Sequence[str] | None
) -> list[GeneratedTest]:
    """Every reply's cases, merged: a case several testers wrote lists them all as authors."""
    merged: dict[str, GeneratedTest] = {}
    for reply in replies:
        for case in parse_test_cases(reply.text, entry, params):
            key = repr((case.args, case.expected))
            test = merged.setdefault(
                key, GeneratedTest(args=list(case.args), expected=case.expected)
            )
            if reply.model not in test.authors:
                test.authors.append(reply.model)
    return list(merged.values())


def _assert_line(text: str, entry: str, params: Sequence[str], number: int) -> CallExample | None:
    if not text.startswith("assert") or len(text) > MAX_LINE_CHARS:
        return None
    try:
        statement = ast.parse(text).body[0]
    except (*PARSE_ERRORS, IndexError):
        return None
    test = statement.test if isinstance(statement, ast.Assert) else None
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    if not isinstance(test.ops[0], ast.Eq | ast.Is):
        return None
    call, want = test.left, test.comparators[0]
    if not _calls(call, entry):
        call, want = want, call  # ``assert 5 == add(2, 3)``
    if not _calls(call, entry):
        return None
    args = call_arguments(ast.unparse(call), entry, params)
    expected = literal_value(ast.unparse(want))
    if args is None or expected is None:
        return None
    return CallExample(args=args, expected=expected[0], line=number)


def _calls(node: ast.expr, entry: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry
