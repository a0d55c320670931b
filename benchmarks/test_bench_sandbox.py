"""Sandbox cost per candidate, side by side in one run (pytest-benchmark, group "overhead"):

- a bare host ``python3 -c`` (the floor: no isolation at all);
- a hardened ``docker run --rm`` per candidate (what a naive sandbox pays);
- our warm pool, end to end: send the job, run pytest on one test, get the verdict.

Then the throughput of trivial candidates with 2 workers, and the spread of repeated timings of
one candidate. Reproduce with ``make bench``.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time

import pytest

from sandbox import CallJob, RunJob, TimingJob, Verdict
from sandbox.container import hardened_config

pytestmark = pytest.mark.docker

TRIVIAL = "def solve(n):\n    return n + 1\n"
TESTS = {
    "test_trivial.py": "from solution import solve\n\ndef test_one():\n    assert solve(1) == 2\n"
}
ROUNDS = 30


def _job() -> RunJob:
    return RunJob(entry_point="solve", test_files=TESTS, candidate=TRIVIAL)


@pytest.mark.benchmark(group="overhead")
def test_bare_host_python(benchmark) -> None:
    benchmark.pedantic(
        subprocess.run,
        args=([sys.executable, "-I", "-S", "-c", "pass"],),
        kwargs={"check": True},
        rounds=ROUNDS,
    )


@pytest.mark.benchmark(group="overhead")
def test_docker_run_per_candidate(benchmark, sandbox_driver) -> None:
    client = sandbox_driver.sandbox.client
    config = hardened_config(
        client, sandbox_driver.sandbox.image_tag, sandbox_driver.sandbox.limits, None
    )["host_config"]
    command = [
        "docker",
        "run",
        "--rm",
        "--network",
        "none",
        "--read-only",
        "--tmpfs",
        "/tmp",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--user",
        "10001",
        "--memory",
        f"{config['Memory']}",
        "--pids-limit",
        str(config["PidsLimit"]),
        sandbox_driver.sandbox.image_tag,
        "python3",
        "-c",
        "pass",
    ]
    benchmark.pedantic(
        subprocess.run, args=(command,), kwargs={"check": True, "capture_output": True}, rounds=10
    )


@pytest.mark.benchmark(group="overhead")
def test_warm_pool_end_to_end(benchmark, sandbox_driver) -> None:
    def one() -> None:
        assert sandbox_driver.wait(sandbox_driver.sandbox.run(_job())).verdict is Verdict.PASSED

    for _ in range(3):
        one()
    benchmark.pedantic(one, rounds=ROUNDS)
    phases = sandbox_driver.wait(sandbox_driver.sandbox.run(_job())).phases
    benchmark.extra_info["phases_ms"] = {k: round(v * 1000, 1) for k, v in phases.items()}


@pytest.mark.benchmark(group="throughput")
def test_throughput_two_workers(benchmark, sandbox_driver) -> None:
    count = 60

    async def burst() -> float:
        started = time.perf_counter()
        results = await asyncio.gather(*(sandbox_driver.sandbox.run(_job()) for _ in range(count)))
        assert all(r.verdict is Verdict.PASSED for r in results)
        return count / (time.perf_counter() - started)

    rates = []
    benchmark.pedantic(lambda: rates.append(sandbox_driver.wait(burst())), rounds=3)
    benchmark.extra_info["candidates_per_second"] = round(statistics.median(rates), 1)
    print(f"\nthroughput with 2 workers: {statistics.median(rates):.1f} candidates/s")


@pytest.mark.benchmark(group="spread")
def test_spread_of_repeated_timings(benchmark, sandbox_driver) -> None:
    source = "def solve(n):\n    s = 0\n    for i in range(n):\n        s += i * i\n    return s\n"
    bench_tests = {
        "test_speed.py": "from solution import solve\n\n"
        "def test_speed(benchmark):\n    benchmark(solve, 300_000)\n"
    }

    def timing() -> list[float]:
        result = sandbox_driver.wait(
            sandbox_driver.sandbox.time(
                TimingJob(
                    test_files=bench_tests, entry_point="solve", candidates={"a": source}, rounds=20
                )
            )
        )
        return result.timings["a"][0].samples

    samples = benchmark.pedantic(timing, rounds=1)
    median = statistics.median(samples)
    q = statistics.quantiles(samples, n=4)
    benchmark.extra_info.update(
        {"median_ms": round(median * 1000, 2), "iqr_over_median": round((q[2] - q[0]) / median, 3)}
    )
    print(
        f"\nspread of one candidate: median {median * 1000:.2f} ms, "
        f"IQR/median {(q[2] - q[0]) / median:.1%}"
    )


@pytest.mark.benchmark(group="boundary")
def test_cost_of_the_job_boundary(benchmark, sandbox_driver) -> None:
    """What putting the container back to its pristine state costs: per job (the clean-up
    after the answer is ready, on the critical path) and per timing round (a fresh process in
    a restored container). Per round is measured end to end, as wall time of a long timing job
    of one trivial candidate divided by its rounds, so that it compares across designs."""
    rounds = 40
    source = TRIVIAL
    bench_tests = {
        "test_speed.py": "from solution import solve\n\n"
        "def test_speed(benchmark):\n    benchmark(solve, 1)\n"
    }

    def timing() -> tuple[float, dict[str, float]]:
        started = time.perf_counter()
        result = sandbox_driver.wait(
            sandbox_driver.sandbox.time(
                TimingJob(
                    test_files=bench_tests,
                    entry_point="solve",
                    candidates={"a": source},
                    rounds=rounds,
                )
            )
        )
        assert len(result.timings["a"][0].samples) == rounds
        return (time.perf_counter() - started) / rounds, result.phases

    per_round, phases = benchmark.pedantic(timing, rounds=3)
    jobs = [sandbox_driver.wait(sandbox_driver.sandbox.run(_job())) for _ in range(20)]
    clean_up = statistics.median(job.phases.get("clean up", 0.0) for job in jobs)
    reset = phases.get("reset between rounds", 0.0) / rounds
    benchmark.extra_info.update(
        {
            "per_round_ms": round(per_round * 1000, 2),
            "reset_per_round_ms": round(reset * 1000, 2),
            "clean_up_per_job_ms": round(clean_up * 1000, 2),
        }
    )
    print(
        f"\njob boundary: {per_round * 1000:.1f} ms per timing round end to end "
        f"(of which the checked clean-up {reset * 1000:.2f} ms), "
        f"{clean_up * 1000:.2f} ms of clean-up per job"
    )


@pytest.mark.benchmark(group="calls")
@pytest.mark.parametrize("size", [1, 100_000])
def test_cost_of_a_call(benchmark, sandbox_driver, size: int) -> None:
    """One call job of 20 calls, a list of ``size`` ints as the argument, sorted in place and
    returned: what the boundary costs with plain-call semantics (the caller's list written
    back, its identity kept)."""
    source = "def solve(xs):\n    xs.sort()\n    return xs\n"
    inputs = [((list(range(size, 0, -1)),), {}) for _ in range(20)]

    def calls() -> None:
        outcomes = sandbox_driver.wait(
            sandbox_driver.sandbox.call(
                CallJob(candidate=source, entry_point="solve", inputs=inputs)
            )
        )
        assert all(o.ok for o in outcomes)

    calls()
    benchmark.pedantic(calls, rounds=5)
