"""Timing measures the candidate's own CPU work, in fresh processes, interleaved."""

from __future__ import annotations

import statistics
import textwrap
import time

import pytest

from sandbox import CallJob, TimingJob

pytestmark = pytest.mark.docker

BENCH_TESTS = textwrap.dedent("""
    from solution import total

    def test_value():
        assert total(10) == 45

    def test_speed(benchmark):
        assert benchmark(total, 200_000) == 199_999 * 200_000 // 2
""")
LINEAR = "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"
FORMULA = "def total(n):\n    return n * (n - 1) // 2\n"
MEMOISED = "import functools\n\n@functools.lru_cache(maxsize=None)\n" + LINEAR.replace(
    "def total", "def total", 1
)
CACHED_ON_DISK = textwrap.dedent("""
    import os, pickle
    CACHE = "/tmp/total-cache.pkl"
    def total(n):
        if os.path.exists(CACHE):
            return pickle.load(open(CACHE, "rb"))[n]
        s = 0
        for i in range(n):
            s += i
        try:
            pickle.dump({n: s}, open(CACHE, "wb"))
        except OSError:
            pass
        return s
""")
OFFLOADED = textwrap.dedent("""
    import os
    def total(n):
        read, write = os.pipe()
        if os.fork() == 0:
            s = 0
            for i in range(n):
                s += i
            os.write(write, str(s).encode())
            os._exit(0)
        os.close(write)
        value = int(os.read(read, 100))
        os.wait()
        return value
""")


def test_run_reports_benchmark_statistics(sandbox_driver) -> None:
    result = sandbox_driver.run(LINEAR, BENCH_TESTS, entry="total")
    assert result.passed, result.message
    (stats,) = result.benchmarks
    assert stats.test.endswith("test_speed")
    assert stats.rounds == len(stats.samples) >= 3
    assert stats.min <= stats.median <= stats.max
    assert stats.median > 0


def _medians(sandbox_driver, candidates: dict[str, str]) -> dict[str, float]:
    timing = sandbox_driver.wait(
        sandbox_driver.sandbox.time(
            TimingJob(
                test_files={"test_problem.py": BENCH_TESTS},
                entry_point="total",
                candidates=candidates,
                rounds=5,
            )
        )
    )
    assert not timing.errors, timing.errors
    return {cid: statistics.median(stats[0].samples) for cid, stats in timing.timings.items()}


def test_caches_do_not_make_a_candidate_look_fast(sandbox_driver) -> None:
    medians = _medians(
        sandbox_driver,
        {"linear": LINEAR, "memo": MEMOISED, "disk": CACHED_ON_DISK, "formula": FORMULA},
    )
    # A cache may not help across rounds: each round is a fresh process with /tmp wiped.
    for cached in ("memo", "disk"):
        assert medians[cached] > 0.5 * medians["linear"], medians
    assert medians["formula"] < 0.2 * medians["linear"], medians


def test_work_done_in_a_child_process_is_charged(sandbox_driver) -> None:
    medians = _medians(
        sandbox_driver, {"linear": LINEAR, "offloaded": OFFLOADED, "formula": FORMULA}
    )
    assert medians["offloaded"] > 0.5 * medians["linear"], medians


def test_timing_on_inputs_without_benchmark_tests(sandbox_driver) -> None:
    timing = sandbox_driver.wait(
        sandbox_driver.sandbox.time(
            TimingJob(
                test_files={},
                entry_point="total",
                candidates={"linear": LINEAR, "formula": FORMULA},
                rounds=3,
                inputs=[((100_000,), {}), ((50_000,), {})],
            )
        )
    )
    linear, formula = (
        statistics.median(timing.timings[c][0].samples) for c in ("linear", "formula")
    )
    assert formula < linear


def test_call_returns_outputs_for_differential_testing(sandbox_driver) -> None:
    source = "def total(n):\n    if n == 3:\n        raise ValueError('three')\n    return n * 2\n"
    outcomes = sandbox_driver.wait(
        sandbox_driver.sandbox.call(
            CallJob(
                candidate=source, entry_point="total", inputs=[((1,), {}), ((3,), {}), ((2,), {})]
            )
        )
    )
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[0].value == 2 and outcomes[2].value == 4
    assert outcomes[1].error == "ValueError"


def test_a_stuck_candidate_costs_one_deadline_then_its_inputs_are_skipped(sandbox_driver) -> None:
    source = "def total(n):\n    while n < 0:\n        pass\n    return n\n"
    limits = sandbox_driver.sandbox.limits.model_copy(update={"test_seconds": 1.0})
    inputs = [((1,), {}), ((-1,), {}), ((-2,), {}), ((2,), {})]
    started = time.monotonic()
    outcomes = sandbox_driver.wait(
        sandbox_driver.sandbox.call(
            CallJob(
                candidate=source, entry_point="total", inputs=inputs, limits=limits, max_timeouts=1
            )
        )
    )
    assert time.monotonic() - started < 5  # one deadline, not one per stuck input
    assert [o.ok for o in outcomes] == [True, False, False, False]
    assert [o.cause for o in outcomes[1:]] == ["timeout"] * 3
    assert [o.error for o in outcomes[2:]] == ["skipped"] * 2


DETECTS_TIMING = textwrap.dedent("""
    import os, resource
    def total(n):
        fsize = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if fsize == 0 or os.environ.get("CODEGEN_TIMING") or len(os.sched_getaffinity(0)) == 1 \\
                and os.path.exists("/tmp/.timing"):
            return n * (n - 1) // 2
        s = 0
        for i in range(n):
            s += i
        return s
""")


def test_a_candidate_cannot_tell_it_is_being_timed(sandbox_driver) -> None:
    medians = _medians(
        sandbox_driver, {"linear": LINEAR, "sly": DETECTS_TIMING, "formula": FORMULA}
    )
    assert medians["sly"] > 0.5 * medians["linear"], medians


def test_timings_of_a_candidate_that_answers_differently_when_timed_are_dropped(
    sandbox_driver,
) -> None:
    tested = sandbox_driver.run(LINEAR, BENCH_TESTS, entry="total")
    assert tested.passed and tested.benchmarks[0].digest
    off_by_one = LINEAR.replace("return s", "return s + 1")
    timing = sandbox_driver.wait(
        sandbox_driver.sandbox.time(
            TimingJob(
                test_files={"test_problem.py": BENCH_TESTS},
                entry_point="total",
                candidates={"same": LINEAR, "sly": off_by_one},
                rounds=2,
                tested={"same": tested, "sly": tested},
            )
        )
    )
    assert "same" in timing.timings and "same" not in timing.errors
    assert "sly" not in timing.timings
    assert "different value when timed" in timing.errors["sly"].message
    assert timing.errors["sly"].verdict == "failed"


def test_each_round_of_each_candidate_has_its_own_time_limit(sandbox_driver) -> None:
    """The rounds of a timing job together may take far longer than one test's limit."""
    limits = sandbox_driver.sandbox.limits.model_copy(update={"test_seconds": 0.5})
    timing = sandbox_driver.wait(
        sandbox_driver.sandbox.time(
            TimingJob(
                test_files={"test_problem.py": BENCH_TESTS},
                entry_point="total",
                candidates={"a": LINEAR, "b": LINEAR, "c": LINEAR},
                rounds=15,
                limits=limits,
            )
        )
    )
    assert timing.errors == {}
    assert all(len(stats[0].samples) == 15 for stats in timing.timings.values())
