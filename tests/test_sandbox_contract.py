"""The self-check every sandbox backend must pass (as Inspect asks of its sandbox environments):
the same jobs give the same verdicts, messages, test names, values and digests on every
backend, so that a flow unit-tested on ``unsafe-local`` behaves the same on ``docker``.

Each test runs once per backend, on one pool per backend for the whole module; the tests that
compare the backends with each other need both, hence Docker.
"""

from __future__ import annotations

import asyncio
import random
import sys
import textwrap
import threading
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
from hypothesis import settings

import sandbox
from sandbox import (
    BACKENDS,
    CallOutcome,
    Limits,
    ProblemError,
    RunResult,
    SandboxBackend,
    SandboxError,
    SandboxJob,
    TimingResult,
    Verdict,
    open_backend,
)
from sandbox.harness import plaindata
from sandbox.models import TestStatus as Status
from sandbox.strict import StrictSandbox

LIMITS = Limits(wall_seconds=20, test_seconds=3, cpu_seconds=6)
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


class Driver:
    """One backend, entered once, driven from a background event loop so that plain tests can
    use it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.backend: SandboxBackend = open_backend(name, workers=1, limits=LIMITS)
        self.wait(self.backend.__aenter__())

    def wait(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(120)

    def run(self, candidate: str, tests: str, entry: str = "add") -> RunResult:
        job = SandboxJob(
            entry_point=entry, test_files={TESTS: tests}, candidate=candidate, limits=LIMITS
        )
        return self.wait(self.backend.run(job))

    def call(self, candidate: str, entry: str, inputs: list) -> list[CallOutcome]:
        return self.wait(self.backend.call(candidate, entry, inputs))

    def time(self, candidates: dict[str, str], **options: Any) -> TimingResult:
        timing = self.backend.time({TESTS: BENCH_TESTS}, "total", candidates, rounds=3, **options)
        return self.wait(timing)

    def close(self) -> None:
        self.wait(self.backend.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def unsafe_local() -> Iterator[Driver]:
    with pytest.warns(RuntimeWarning, match="no isolation and no limits"):
        driver = Driver("unsafe-local")
    yield driver
    driver.close()


@pytest.fixture(scope="module")
def docker() -> Iterator[Driver]:
    driver = Driver("docker")
    yield driver
    driver.close()


@pytest.fixture(params=["unsafe-local", pytest.param("docker", marks=pytest.mark.docker)])
def backend(request: pytest.FixtureRequest) -> Driver:
    return request.getfixturevalue(request.param.replace("-", "_"))


# -- run ----------------------------------------------------------------------------------------
def test_a_passing_candidate_passes_and_its_tests_are_named_as_in_the_container(backend) -> None:
    result = backend.run(ADD, ADD_TESTS)
    assert result.verdict is Verdict.PASSED, result.message
    assert [(t.name, t.status) for t in result.tests] == [
        ("tests/test_problem.py::test_small", Status.PASSED),
        ("tests/test_problem.py::test_negative", Status.PASSED),
    ]
    assert result.message == "" and result.benchmarks == []


def test_a_failing_candidate_fails_and_the_failing_test_is_named(backend) -> None:
    result = backend.run("def add(a, b):\n    return abs(a) + abs(b)\n", ADD_TESTS)
    assert result.verdict is Verdict.FAILED
    assert result.message.startswith("1 of 2 tests failed: tests/test_problem.py::test_negative: ")
    failed = [t.name for t in result.tests if t.status is Status.FAILED]
    assert failed == ["tests/test_problem.py::test_negative"]


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        ("def plus(a, b):\n    return a + b\n", "candidate does not define the function `add`"),
        ("def add(a, b)\n    return a + b\n", "candidate is not valid Python: line 1: "),
        ("raise RuntimeError('no')\ndef add(a, b):\n    return 0\n", "candidate raised at import"),
    ],
    ids=["missing entry point", "does not compile", "raises at import"],
)
def test_a_candidate_that_cannot_be_tested_is_an_error(backend, candidate, message) -> None:
    result = backend.run(candidate, ADD_TESTS)
    assert result.verdict is Verdict.ERROR
    assert result.message.startswith(message), result.message
    assert "\n" not in result.message


@pytest.mark.parametrize(
    "tests",
    ["from solution import add\ndef test_x(:\n    pass\n", "import no_such_module\n"],
    ids=["syntax error", "import error"],
)
def test_broken_test_files_are_a_problem_error(backend, tests) -> None:
    with pytest.raises(ProblemError, match="the problem's tests do not load"):
        backend.run(ADD, tests)


def test_no_tests_is_an_error(backend) -> None:
    result = backend.run(ADD, "from solution import add\n")
    assert (result.verdict, result.message) == (Verdict.ERROR, "no tests were collected")


def test_the_candidate_crosses_the_boundary_as_in_the_container(backend) -> None:
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
    result = backend.run(candidate, tests, entry="arrange")
    assert result.verdict is Verdict.PASSED, result.message
    assert len(result.tests) == 4


def test_hypothesis_tests_run(backend) -> None:
    tests = textwrap.dedent("""
        from hypothesis import given, strategies as st
        from solution import add

        @given(st.integers(), st.integers())
        def test_commutes(a, b):
            assert add(a, b) == add(b, a)
    """)
    assert backend.run(ADD, tests).passed
    assert backend.run("def add(a, b):\n    return a - b\n", tests).verdict is Verdict.FAILED


def test_the_candidates_output_is_kept_in_the_result(backend, capsys) -> None:
    result = backend.run("print('hello from the candidate')\n" + ADD, ADD_TESTS)
    assert result.passed and "hello from the candidate" in result.stdout
    assert "hello" not in capsys.readouterr().out


def test_jobs_do_not_see_each_others_modules(backend) -> None:
    first = "from solution import add\nSEEN = []\n\ndef test_first():\n    assert add(1, 1) == 2\n"
    second = "from solution import add\n\ndef test_second():\n    assert 'SEEN' not in globals()\n"
    assert backend.run(ADD, first).passed
    result = backend.run(ADD, second)
    assert result.passed, result.message
    assert [t.name for t in result.tests] == ["tests/test_problem.py::test_second"]


def test_benchmarks_report_statistics_and_a_digest(backend) -> None:
    result = backend.run(TOTAL, BENCH_TESTS, entry="total")
    assert result.passed, result.message
    (stats,) = result.benchmarks
    assert stats.test == "tests/test_problem.py::test_speed"
    assert stats.rounds == len(stats.samples) >= 1
    assert stats.min <= stats.median <= stats.max
    assert stats.digest and stats.behaviour


def test_pedantic_benchmarks_run_the_rounds_asked_for(backend) -> None:
    tests = textwrap.dedent("""
        from solution import total

        def test_speed(benchmark):
            result = benchmark.pedantic(total, args=(100,), rounds=2, iterations=1)
            assert result == 4950
    """)
    result = backend.run(TOTAL, tests, entry="total")
    assert result.passed, result.message
    assert [stats.rounds for stats in result.benchmarks] == [2]


def test_the_benchmark_re_runs_the_candidate_from_scratch_every_round(backend) -> None:
    """A cache kept in the module does not survive into the next round: every round answers
    the same and costs the same work."""
    candidate = "CALLS = []\ndef total(n):\n    CALLS.append(n)\n    return len(CALLS)\n"
    tests = "from solution import total\n\ndef test_speed(benchmark):\n    benchmark(total, 1)\n"
    result = backend.run(candidate, tests, entry="total")
    assert result.passed, result.message
    assert result.benchmarks[0].rounds == 5


# -- call ---------------------------------------------------------------------------------------
def test_call_gives_values_errors_and_digests(backend) -> None:
    inputs = [(([3, 1, 2],), {}), (([2, 1],), {"reverse": True}), ((None,), {})]
    sorted_, reverse, error = backend.call(SORTER, "arrange", inputs)
    assert (sorted_.ok, sorted_.value, sorted_.repr) == (True, 3, "3")
    # the value, then what the call changed of the arguments (None: unchanged)
    assert sorted_.digest == plaindata.digest([3, [[1, 2, 3]]])
    assert reverse.digest == plaindata.digest([2, None])
    assert (error.ok, error.error, error.message) == (False, "ValueError", "ValueError: no list")
    assert inputs[0] == (([3, 1, 2],), {}), "the caller's inputs are not changed"


def test_call_without_the_entry_point_fails_every_input(backend) -> None:
    outcomes = backend.call(ADD, "arrange", INPUTS)
    assert len(outcomes) == len(INPUTS)
    assert all(not o.ok and o.cause is Verdict.ERROR for o in outcomes)
    assert "does not define the function `arrange`" in outcomes[0].error


# -- time ---------------------------------------------------------------------------------------
def test_time_on_the_benchmark_tests(backend) -> None:
    timing = backend.time({"loop": TOTAL, "formula": FORMULA})
    assert not timing.errors, timing.errors
    assert set(timing.timings) == {"loop", "formula"}
    for stats_list in timing.timings.values():
        (stats,) = stats_list
        assert stats.test == "tests/test_problem.py::test_speed"
        assert stats.rounds == len(stats.samples) == 3 and stats.digest
    assert (timing.rounds, timing.truncated) == (3, False)


def test_time_holds_a_candidate_to_its_tested_answers(backend) -> None:
    tested = {"same": backend.run(TOTAL, BENCH_TESTS, entry="total")}
    tested["changed"] = tested["same"]
    timing = backend.time({"same": FORMULA, "changed": OFF_BY_ONE}, tested=tested)
    assert set(timing.timings) == {"same"}
    assert timing.errors["changed"].verdict is Verdict.FAILED


def test_time_on_inputs_holds_a_candidate_to_its_screened_answers(backend) -> None:
    screened = backend.call(SORTER, "arrange", INPUTS[:2])
    other = SORTER.replace("return len(xs)", "return len(xs) + 1")
    timing = backend.wait(
        backend.backend.time(
            {},
            "arrange",
            {"same": SORTER, "changed": other},
            rounds=2,
            inputs=INPUTS[:2],
            screened={"same": screened, "changed": screened},
        )
    )
    assert set(timing.timings) == {"same"}
    (stats,) = timing.timings["same"]
    assert stats.test == "inputs" and stats.rounds == 2
    assert stats.digest == plaindata.combine([o.digest for o in screened])
    assert timing.errors["changed"].verdict is Verdict.FAILED


# -- the backends agree -------------------------------------------------------------------------
@pytest.mark.docker
def test_both_backends_give_the_same_digests(unsafe_local, docker) -> None:
    runs = [driver.run(TOTAL, BENCH_TESTS, entry="total") for driver in (unsafe_local, docker)]
    assert runs[0].benchmarks[0].digest == runs[1].benchmarks[0].digest
    assert runs[0].benchmarks[0].behaviour == runs[1].benchmarks[0].behaviour
    calls = [driver.call(SORTER, "arrange", INPUTS) for driver in (unsafe_local, docker)]
    ignore = {"cpu_seconds"}
    assert [o.model_dump(exclude=ignore) for o in calls[0]] == [
        o.model_dump(exclude=ignore) for o in calls[1]
    ]


# -- the registry, and what is particular to the unsafe backend ---------------------------------
def test_backends_are_found_by_name_and_satisfy_the_protocol() -> None:
    assert set(BACKENDS) == {"docker", "ray", "strict", "unsafe-local"}
    assert isinstance(open_backend("docker", workers=1), sandbox.Sandbox)
    assert isinstance(open_backend("strict", workers=1), StrictSandbox)
    assert isinstance(open_backend("unsafe-local", workers=1), sandbox.UnsafeLocalSandbox)
    for factory in BACKENDS.values():
        assert isinstance(factory(), SandboxBackend)
    assert sandbox.pool.TimingResult is sandbox.models.TimingResult is TimingResult


def test_an_unknown_backend_is_a_one_line_error_naming_the_known_ones() -> None:
    with pytest.raises(SandboxError) as error:
        open_backend("firecracker")
    known = "(known: docker, ray, strict, unsafe-local)"
    assert str(error.value) == f"unknown sandbox backend 'firecracker' {known}"


def test_the_unsafe_backend_says_what_it_is() -> None:
    async def enter() -> None:
        async with sandbox.UnsafeLocalSandbox():
            pass

    with pytest.warns(RuntimeWarning, match="in this process with no isolation and no limits"):
        asyncio.run(enter())
    assert "no isolation" in (sandbox.UnsafeLocalSandbox.__doc__ or "")


def test_the_unsafe_backend_leaves_the_process_as_it_found_it(unsafe_local) -> None:
    """Its random state, hypothesis profile and this repository's ``tests`` package; no
    ``solution``, no module of the job's tests."""
    ours, profile = sys.modules["tests"], settings.get_current_profile_name()
    random.seed(7)
    expected = random.random()
    random.seed(7)
    unsafe_local.run(TOTAL, BENCH_TESTS, entry="total")
    assert random.random() == expected and settings.get_current_profile_name() == profile
    assert sys.modules["tests"] is ours and "solution" not in sys.modules
    files = [getattr(module, "__file__", None) or "" for module in list(sys.modules.values())]
    assert not [path for path in files if "unsafe-local-" in path]
