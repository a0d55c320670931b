"""Bad input gets one clear error, never a traceback or a hang."""

from __future__ import annotations

import asyncio

import pytest

from sandbox import ProblemError, Sandbox, SandboxUnavailable, Verdict

pytestmark = pytest.mark.docker

TESTS = "from solution import solve\n\ndef test_one():\n    assert solve(1) == 1\n"


def test_test_file_with_a_syntax_error_is_a_problem_error(sandbox_driver) -> None:
    with pytest.raises(ProblemError, match="test_problem.py"):
        sandbox_driver.run("def solve(n):\n    return n\n", "def test_x(:\n    pass\n")


def test_test_file_importing_a_missing_module_is_a_problem_error(sandbox_driver) -> None:
    with pytest.raises(ProblemError, match="numpy_that_is_not_there"):
        sandbox_driver.run(
            "def solve(n):\n    return n\n", "import numpy_that_is_not_there\n" + TESTS
        )


def test_missing_entry_point(sandbox_driver) -> None:
    result = sandbox_driver.run("def other(n):\n    return n\n", TESTS)
    assert result.verdict is Verdict.ERROR
    assert "does not define the function `solve`" in result.message


def test_candidate_that_is_not_python(sandbox_driver) -> None:
    result = sandbox_driver.run("def solve(n) return n", TESTS)
    assert result.verdict is Verdict.ERROR
    assert result.message.startswith("candidate is not valid Python: line 1")


def test_in_place_mutation_of_arguments_is_copied_back(sandbox_driver) -> None:
    tests = (
        "from solution import solve\n\ndef test_sorts_in_place():\n"
        "    data = [3, 1, 2]\n    assert solve(data) is None\n    assert data == [1, 2, 3]\n"
    )
    result = sandbox_driver.run("def solve(xs):\n    xs.sort()\n", tests)
    assert result.verdict is Verdict.PASSED, result.message


def test_pytest_raises_works_across_the_boundary(sandbox_driver) -> None:
    tests = (
        "import pytest\nfrom solution import solve\n\ndef test_raises():\n"
        "    with pytest.raises(ValueError):\n        solve(-1)\n"
    )
    result = sandbox_driver.run("def solve(n):\n    raise ValueError('negative')\n", tests)
    assert result.verdict is Verdict.PASSED, result.message


def test_docker_daemon_down_is_one_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")

    async def open_pool() -> None:
        async with Sandbox(workers=1):
            pass

    with pytest.raises(SandboxUnavailable, match="Docker engine is not reachable"):
        asyncio.run(open_pool())
