"""Where a problem's sandbox work runs. ``local``: one warm pool in this process. ``ray``: warm
pools held by Ray actors across a cluster (:mod:`codegen.bench.ray_executor`).

An executor is an async context manager with ``image`` (the sandbox image tag, part of the run
key), ``slots`` (evaluations worth keeping in flight), ``evaluate(request)``, and ``generator``
and ``tester``: where the model calls (the samples', the tester's) run when not on the driver
(None: on the driver).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from codegen.bench.evaluate import evaluate
from codegen.bench.records import EvalRequest, Evaluation
from codegen.errors import BadInput
from codegen.generation import GenerationResult, GenerationTask, Roster
from codegen.generation.types import TesterReply
from sandbox import DEFAULT_LIMITS, Limits, SandboxBackend, open_backend

EXECUTORS = ("local", "ray")
GenerateFn = Callable[[GenerationTask, Roster], Awaitable[GenerationResult]]
# (task, roster, requests per model, cases per request) -> one reply per request, per model in
# the roster's order: codegen.generation.fanout.write_tests
TestFn = Callable[[GenerationTask, Roster, int, int], Awaitable[list[TesterReply]]]


class Executor(Protocol):
    image: str
    slots: int
    generator: GenerateFn | None
    tester: TestFn | None

    async def __aenter__(self) -> Executor: ...

    async def __aexit__(self, *exc: Any) -> None: ...

    async def evaluate(self, request: EvalRequest) -> Evaluation: ...


class LocalExecutor:
    """Warm sandbox pools on this machine: each has ``workers`` test containers and its own
    timing container (timing is serialised within a pool), the timing ones pinned to different
    CPUs. Problems go to the pools in turn. One pool by default: on 2 cores a second one measured
    no faster (the host's hypothesis draws and the containers already fill both cores)."""

    def __init__(
        self, workers: int = 2, pools: int | None = None, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        cpus = os.cpu_count() or 1
        count = pools or 1
        self.pools: list[SandboxBackend] = [
            open_backend(
                "docker", workers=workers, limits=limits, timing_cpu=str((cpus - 1 - i) % cpus)
            )
            for i in range(count)
        ]
        self.slots = workers * count
        self.turn = 0
        self.image = ""
        self.generator: GenerateFn | None = None
        self.tester: TestFn | None = None

    async def __aenter__(self) -> LocalExecutor:
        entered: list[SandboxBackend] = []
        try:
            for pool in self.pools:  # one at a time: the first may build the image
                await pool.__aenter__()
                entered.append(pool)
        except BaseException:
            await asyncio.gather(*(p.__aexit__(None, None, None) for p in entered))
            raise
        self.image = getattr(self.pools[0], "image_tag", None) or ""
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.gather(*(p.__aexit__(*exc) for p in self.pools), return_exceptions=True)

    async def evaluate(self, request: EvalRequest) -> Evaluation:
        pool = self.pools[self.turn % len(self.pools)]
        self.turn += 1
        evaluation = await evaluate(request, pool)
        evaluation.executed_on = f"local:{socket.gethostname()}"
        return evaluation


def make_executor(
    name: str, ray_address: str | None = None, workers: int = 2, ray_generation: bool = False
) -> Executor:
    if name == "local":
        if ray_address or ray_generation:
            flag = "--ray-address" if ray_address else "--ray-generation"
            raise BadInput(f"{flag} needs --executor ray")
        return LocalExecutor(workers=workers)
    if name == "ray":
        from codegen.bench.ray_executor import RayExecutor

        return RayExecutor(address=ray_address, generation=ray_generation)
    raise BadInput(f"unknown executor {name!r}: use one of {', '.join(EXECUTORS)}")
