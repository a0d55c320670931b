"""The self-check every sandbox backend must pass (as Inspect asks of its sandbox environments),
importable so that a backend outside this repository runs it too: the same jobs give the same
verdicts, messages, test names, values and digests on every backend, so that a flow tested on
one behaves the same on another.

Subclass :class:`SandboxContract` in a test module and give it a ``contract`` fixture, a
:class:`ContractDriver` around your backend opened with :data:`CONTRACT_LIMITS`::

    import pytest
    from sandbox.testing import CONTRACT_LIMITS, ContractDriver, SandboxContract

    class TestMyBackend(SandboxContract):
        @pytest.fixture(scope="class")
        @classmethod
        def contract(cls):
            with ContractDriver(MyBackend(limits=CONTRACT_LIMITS, workers=1)) as driver:
                yield driver

The checks need pytest and hypothesis, and the backend must run the harness's pytest plugin
(its ``benchmark`` fixture, test names and digests): what the built-in backends share.
"""

from __future__ import annotations

import asyncio
import textwrap
import threading
from collections.abc import Coroutine
from typing import Any

import pytest

from ..backend import SandboxBackend
from ..errors import ProblemError
from ..harness import plaindata
from ..models import (
    NO_TESTS_COLLECTED,
    CallJob,
    CallOutcome,
    Limits,
    RunJob,
    RunResult,
    TestStatus,
    TimingJob,
    TimingResult,
    Verdict,
)

CONTRACT_LIMITS = Limits(wall_seconds=20, test_seconds=3, cpu_seconds=6)
JOB_SECONDS = 120  # how long the driver waits for one job
TESTS = "test_problem.py"
ADD = "def add(a, b):\n    return a + b\n"
ADD_TESTS = textwrap.dedent("""
    from solution import add

    def test_small():
        assert add(1, 2) == 3

    def test_negative():
        assert add(-1, -2) == -3
""")
BENCH_TESTS = textwrap.dedent("""
    from solution import total

    def test_value():
        assert total(10) == 45

    def test_speed(benchmark):
        assert benchmark(total, 2_000) == 1_999 * 2_000 // 2
""")
TOTAL = "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"
FORMULA = "def total(n):\n    return n * (n - 1) // 2\n"
OFF_BY_ONE = "def total(n):\n    return n * (n + 1) // 2\n"
SORTER = textwrap.dedent("""
    def arrange(xs, reverse=False):
        if xs is None:
            raise ValueError("no list")
        xs.sort(reverse=reverse)
        return len(xs)
""")
INPUTS = [(([3, 1, 2],), {}), (([2, 1],), {"reverse": True}), ((None,), {})]


class ContractDriver:
    """One backend, entered once and driven from a background event loop, so that plain
    (synchronous) tests can use it; ``with ContractDriver(backend) as driver:``."""

    def __init__(self, backend: SandboxBackend) -> None:
        self.backend = backend
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        try:
            self.wait(self.backend.__aenter__())
        except BaseException:
            self._stop_loop()
            raise

    def __enter__(self) -> ContractDriver:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def wait(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(JOB_SECONDS)

    def run(self, candidate: str, tests: str, entry: str = "add") -> RunResult:
        job = RunJob(
            entry_point=entry, test_files={TESTS: tests}, candidate=candidate,
            limits=CONTRACT_LIMITS,
        )  # fmt: skip
        return self.wait(self.backend.run(job))

    def call(self, candidate: str, entry: str, inputs: list) -> list[CallOutcome]:
        job = CallJob(candidate=candidate, entry_point=entry, inputs=inputs, limits=CONTRACT_LIMITS)
        return self.wait(self.backend.call(job))

    def time(self, job: TimingJob) -> TimingResult:
        return self.wait(self.backend.time(job))

    def close(self) -> None:
        try:
            self.wait(self.backend.__aexit__(None, None, None))
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def bench_timing(
    candidates: dict[str, str], tested: dict[str, RunResult] | None = None
) -> TimingJob:
    """Three rounds of ``candidates`` on the benchmark tests of ``total``."""
    return TimingJob(
        test_files={TESTS: BENCH_TESTS}, entry_point="total", candidates=candidates, rounds=3,
        limits=CONTRACT_LIMITS, tested=tested or {},
    )  # fmt: skip


class SandboxContract:
    """The contract's checks, each taking the ``contract`` fixture (a :class:`ContractDriver`)
    that a subclass provides. Not collected itself: its name does not start with ``Test``."""

    # -- run ------------------------------------------------------------------------------------
    def test_a_passing_candidate_passes_and_its_tests_are_named_as_in_the_container(
        self, contract
    ) -> None:
        result = contract.run(ADD, ADD_TESTS)
        assert result.verdict is Verdict.PASSED, result.message
        assert [(t.name, t.status) for t in result.tests] == [
            ("tests/test_problem.py::test_small", TestStatus.PASSED),
            ("tests/test_problem.py::test_negative", TestStatus.PASSED),
        ]
        assert result.message == "" and result.benchmarks == []

    def test_a_failing_candidate_fails_and_the_failing_test_is_named(self, contract) -> None:
        result = contract.run("def add(a, b):\n    return abs(a) + abs(b)\n", ADD_TESTS)
        assert result.verdict is Verdict.FAILED
        assert result.message.startswith(
            "1 of 2 tests failed: tests/test_problem.py::test_negative: "
        )
        failed = [t.name for t in result.tests if t.status is TestStatus.FAILED]
        assert failed == ["tests/test_problem.py::test_negative"]

    @pytest.mark.parametrize(
        ("candidate", "message"),
        [
            ("def plus(a, b):\n    return a + b\n", "candidate does not define the function `add`"),
            ("def add(a, b)\n    return a + b\n", "candidate is not valid Python: line 1: "),
            (
                "raise RuntimeError('no')\ndef add(a, b):\n    return 0\n",
                "candidate raised at import",
            ),
        ],
        ids=["missing entry point", "does not compile", "raises at import"],
    )
    def test_a_candidate_that_cannot_be_tested_is_an_error(
        self, contract, candidate, message
    ) -> None:
        result = contract.run(candidate, ADD_TESTS)
        assert result.verdict is Verdict.ERROR
        assert result.message.startswith(message), result.message
        assert "\n" not in result.message

    @pytest.mark.parametrize(
        "tests",
        ["from solution import add\ndef test_x(:\n    pass\n", "import no_such_module\n"],
        ids=["syntax error", "import error"],
    )
    def test_broken_test_files_are_a_problem_error(self, contract, tests) -> None:
        with pytest.raises(ProblemError, match="the problem's tests do not load"):
            contract.run(ADD, tests)

    def test_no_tests_is_an_error(self, contract) -> None:
        result = contract.run(ADD, "from solution import add\n")
        assert (result.verdict, result.message) == (Verdict.ERROR, NO_TESTS_COLLECTED)

    def test_the_candidate_crosses_the_boundary_as_in_the_container(self, contract) -> None:
        """In-place changes reach the test's argument, builtin exceptions keep their type, values
        arrive as plain data (a lying ``__eq__`` never reaches an assertion), constants import."""
        candidate = SORTER + textwrap.dedent("""
            LIMIT = [1, 2]

            class Liar(int):
                def __eq__(self, other):
                    return True
                __hash__ = int.__hash__

            def liar():
                return Liar(3)
        """)
        tests = textwrap.dedent("""
            import pytest
            from solution import LIMIT, arrange, liar

            def test_in_place():
                xs = [3, 1, 2]
                assert arrange(xs) == 3
                assert xs == [1, 2, 3]

            def test_raises():
                with pytest.raises(ValueError, match="no list"):
                    arrange(None)

            def test_plain():
                assert liar() != 4 and type(liar()) is int

            def test_constant():
                assert LIMIT == [1, 2]
        """)
        result = contract.run(candidate, tests, entry="arrange")
        assert result.verdict is Verdict.PASSED, result.message
        assert len(result.tests) == 4

    def test_hypothesis_tests_run(self, contract) -> None:
        tests = textwrap.dedent("""
            from hypothesis import given, strategies as st
            from solution import add

            @given(st.integers(), st.integers())
            def test_commutes(a, b):
                assert add(a, b) == add(b, a)
        """)
        assert contract.run(ADD, tests).passed
        assert contract.run("def add(a, b):\n    return a - b\n", tests).verdict is Verdict.FAILED

    def test_the_candidates_output_is_kept_in_the_result(self, contract, capsys) -> None:
        result = contract.run("print('hello from the candidate')\n" + ADD, ADD_TESTS)
        assert result.passed and "hello from the candidate" in result.stdout
        assert "hello" not in capsys.readouterr().out

    def test_jobs_do_not_see_each_others_modules(self, contract) -> None:
        first = (
            "from solution import add\nSEEN = []\n\ndef test_first():\n    assert add(1, 1) == 2\n"
        )
        second = (
            "from solution import add\n\ndef test_second():\n    assert 'SEEN' not in globals()\n"
        )
        assert contract.run(ADD, first).passed
        result = contract.run(ADD, second)
        assert result.passed, result.message
        assert [t.name for t in result.tests] == ["tests/test_problem.py::test_second"]

    def test_benchmarks_report_statistics_and_a_digest(self, contract) -> None:
        result = contract.run(TOTAL, BENCH_TESTS, entry="total")
        assert result.passed, result.message
        (stats,) = result.benchmarks
        assert stats.test == "tests/test_problem.py::test_speed"
        assert stats.rounds == len(stats.samples) >= 1
        assert stats.min <= stats.median <= stats.max
        assert stats.digest and stats.behaviour

    def test_pedantic_benchmarks_run_the_rounds_asked_for(self, contract) -> None:
        tests = textwrap.dedent("""
            from solution import total

            def test_speed(benchmark):
                result = benchmark.pedantic(total, args=(100,), rounds=2, iterations=1)
                assert result == 4950
        """)
        result = contract.run(TOTAL, tests, entry="total")
        assert result.passed, result.message
        assert [stats.rounds for stats in result.benchmarks] == [2]

    def test_the_benchmark_re_runs_the_candidate_from_scratch_every_round(self, contract) -> None:
        """A cache kept in the module does not survive into the next round: every round answers
        the same and costs the same work."""
        candidate = "CALLS = []\ndef total(n):\n    CALLS.append(n)\n    return len(CALLS)\n"
        tests = (
            "from solution import total\n\ndef test_speed(benchmark):\n    benchmark(total, 1)\n"
        )
        result = contract.run(candidate, tests, entry="total")
        assert result.passed, result.message
        assert result.benchmarks[0].rounds == 5

    # -- call -----------------------------------------------------------------------------------
    def test_call_gives_values_errors_and_digests(self, contract) -> None:
        inputs = [(([3, 1, 2],), {}), (([2, 1],), {"reverse": True}), ((None,), {})]
        sorted_, reverse, error = contract.call(SORTER, "arrange", inputs)
        assert (sorted_.ok, sorted_.value, sorted_.repr) == (True, 3, "3")
        # the value, then what the call changed of the arguments (None: unchanged)
        assert sorted_.digest == plaindata.digest([3, [[1, 2, 3]]])
        assert reverse.digest == plaindata.digest([2, None])
        assert (error.ok, error.error, error.message) == (
            False,
            "ValueError",
            "ValueError: no list",
        )
        assert inputs[0] == (([3, 1, 2],), {}), "the caller's inputs are not changed"

    def test_call_without_the_entry_point_fails_every_input(self, contract) -> None:
        outcomes = contract.call(ADD, "arrange", INPUTS)
        assert len(outcomes) == len(INPUTS)
        assert all(not o.ok and o.cause is Verdict.ERROR for o in outcomes)
        assert "does not define the function `arrange`" in outcomes[0].error

    # -- time -----------------------------------------------------------------------------------
    def test_time_on_the_benchmark_tests(self, contract) -> None:
        timing = contract.time(bench_timing({"loop": TOTAL, "formula": FORMULA}))
        assert not timing.errors, timing.errors
        assert set(timing.timings) == {"loop", "formula"}
        for stats_list in timing.timings.values():
            (stats,) = stats_list
            assert stats.test == "tests/test_problem.py::test_speed"
            assert stats.rounds == len(stats.samples) == 3 and stats.digest
        assert (timing.rounds, timing.truncated) == (3, False)

    def test_time_holds_a_candidate_to_its_tested_answers(self, contract) -> None:
        tested = {"same": contract.run(TOTAL, BENCH_TESTS, entry="total")}
        tested["changed"] = tested["same"]
        timing = contract.time(bench_timing({"same": FORMULA, "changed": OFF_BY_ONE}, tested))
        assert set(timing.timings) == {"same"}
        assert timing.errors["changed"].verdict is Verdict.FAILED

    def test_time_on_inputs_holds_a_candidate_to_its_screened_answers(self, contract) -> None:
        screened = contract.call(SORTER, "arrange", INPUTS[:2])
        other = SORTER.replace("return len(xs)", "return len(xs) + 1")
        job = TimingJob(
            test_files={},
            entry_point="arrange",
            candidates={"same": SORTER, "changed": other},
            rounds=2,
            inputs=INPUTS[:2],
            limits=CONTRACT_LIMITS,
            screened={"same": screened, "changed": screened},
        )
        timing = contract.time(job)
        assert set(timing.timings) == {"same"}
        (stats,) = timing.timings["same"]
        assert stats.test == "inputs" and stats.rounds == 2
        assert stats.digest == plaindata.combine([o.digest for o in screened])
        assert timing.errors["changed"].verdict is Verdict.FAILED
