"""The last check of a snippet, as a module of its own, through the sandbox's ordinary job (the
unsafe in-process backend, with trusted code: the Docker path is the CLI test in
test_solve_cli.py), and the failure lines a user reads when nothing passes."""

from __future__ import annotations

import asyncio
import warnings

import pytest

from codegen.problems import load_problem
from codegen.solve.failures import first_failure
from codegen.solve.snippet_check import check_snippet, module_name, module_wrapper
from sandbox import RunResult, TestOutcome, UnsafeLocalSandbox, Verdict
from sandbox.models import TestStatus as Status
from tests.cli_support import ROOT, TWO_SUM_HASH

pytestmark = pytest.mark.filterwarnings("ignore:UnsafeLocalSandbox runs candidate code")
TWO_SUM = load_problem(str(ROOT / "examples" / "two_sum"))
# Passes as `solution` (it finds itself there) and cannot import under any other name.
LEANS_ON_SOLUTION = """import solution


def _pairs(nums, target):
    seen = {}
    for j, x in enumerate(nums):
        if target - x in seen:
            return [seen[target - x], j]
        seen.setdefault(x, j)
    return []


def two_sum(nums, target):
    return solution._pairs(nums, target)
"""


def _check(code: str, module: str = "two_sum_out") -> list[str]:
    async def work() -> list[str]:
        async with UnsafeLocalSandbox() as sandbox:
            return await check_snippet(TWO_SUM, code, module, sandbox, None)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return asyncio.run(work())


def test_a_clean_snippet_passes_as_its_own_module() -> None:
    assert _check(TWO_SUM_HASH) == []


def test_a_snippet_that_needs_the_module_solution_is_refused() -> None:
    found = _check(LEANS_ON_SOLUTION)
    assert len(found) == 1 and found[0].startswith("as two_sum_out.py")
    assert "solution" in found[0]


def test_a_snippet_pyflakes_complains_about_is_refused_before_the_sandbox() -> None:
    found = _check("import os\n\n" + TWO_SUM_HASH)
    assert found == ["pyflakes: line 1: 'os' imported but unused"]


def test_the_module_is_named_after_the_output_file() -> None:
    assert module_name("out/median_out.py", "median") == "median_out"
    assert module_name(None, "median") == "median"
    wrapper = module_wrapper("X = 1\n", "median_out")
    namespace: dict[str, object] = {}
    exec(compile(wrapper, "solution.py", "exec"), namespace)
    assert namespace["X"] == 1


def _failed(name: str, message: str, cause: Verdict | None = None) -> RunResult:
    tests = [
        TestOutcome(name="tests/test_two_sum.py::test_examples", status=Status.PASSED),
        TestOutcome(name=name, status=Status.FAILED, message=message, cause=cause),
    ]
    return RunResult(verdict=Verdict.FAILED, tests=tests, message="1 of 2 tests failed: …")


@pytest.mark.parametrize(
    ("run", "line"),
    [
        # pytest's values, matched to the assert as the test wrote it
        (_failed("tests/test_two_sum.py::test_element_does_not_pair_with_itself",
                 "assert [0, 1] == [1, 2]\n  At index 0 diff: 0 != 1"),
         "test_element_does_not_pair_with_itself: assert two_sum([3, 2, 4], 6) == [1, 2]; "
         "got [0, 1]"),
        # two asserts expect [] in test_no_pair: pytest's own line, not a guess
        (_failed("tests/test_two_sum.py::test_no_pair", "assert [1] == []"),
         "test_no_pair: assert [1] == []"),
        (_failed("tests/test_doctests.py::test_doctest[line4]",
                 "*****\nFile \"x.py\", line 4, in slugify\nFailed example:\n    "
                 "slugify('Hello, World!')\nExpected:\n    'hello-world'\n"
                 "Got:\n    'hello, world!'"),
         "test_doctest[line4]: slugify('Hello, World!') should be 'hello-world'; "
         "got 'hello, world!'"),
        (_failed("tests/test_doctests.py::test_doctest[line4]",
                 "Failed example:\n    f(1)\nException raised:\n    Traceback (most recent call "
                 "last):\n    ...\n    ZeroDivisionError: division by zero"),
         "test_doctest[line4]: f(1) raised ZeroDivisionError: division by zero"),
        (_failed("tests/test_two_sum.py::test_large_input", "candidate ran out of time",
                 Verdict.TIMEOUT),
         "test_large_input: timeout: candidate ran out of time"),
        (RunResult(verdict=Verdict.ERROR,
                   message="candidate raised at import: ModuleNotFoundError: No module named 'np'"),
         "error: candidate raised at import: ModuleNotFoundError: No module named 'np'"),
    ],
)  # fmt: skip
def test_the_first_failure_is_one_line_naming_the_assertion(run: RunResult, line: str) -> None:
    assert first_failure(run, TWO_SUM.visible_tests) == line
