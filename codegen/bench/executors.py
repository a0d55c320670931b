"""Where a problem's sandbox work runs. ``local``: one warm pool in this process. ``ray``: warm
pools held by Ray actors across a cluster (:mod:`codegen.bench.ray_executor`).

An executor is an async context manager with ``image`` (the sandbox image tag, part of the run
key), ``slots`` (evaluations worth keeping in flight) and ``evaluate(request)``.
"""

from __future__ import annotations

import socket
from typing import Any, Protocol

from codegen.bench.evaluate import evaluate
from codegen.bench.records import EvalRequest, Evaluation
from codegen.errors import BadInput
from sandbox import DEFAULT_LIMITS, Limits, Sandbox

EXECUTORS = ("local", "ray")


class Executor(Protocol):
    image: str
    slots: int

    async def __aenter__(self) -> Executor: ...

    async def __aexit__(self, *exc: Any) -> None: ...

    async def evaluate(self, request: EvalRequest) -> Evaluation: ...


class LocalExecutor:
    """A warm sandbox pool on this machine: ``workers`` containers plus the timing one."""

    def __init__(self, workers: int = 2, limits: Limits = DEFAULT_LIMITS) -> None:
        self.sandbox = Sandbox(workers=workers, limits=limits)
        self.slots = workers
        self.image = ""

    async def __aenter__(self) -> LocalExecutor:
        await self.sandbox.__aenter__()
        self.image = self.sandbox.image_tag or ""
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.sandbox.__aexit__(*exc)

    async def evaluate(self, request: EvalRequest) -> Evaluation:
        evaluation = await evaluate(request, self.sandbox)
        evaluation.executed_on = f"local:{socket.gethostname()}"
        return evaluation


def make_executor(name: str, ray_address: str | None = None, workers: int = 2) -> Executor:
    if name == "local":
        if ray_address:
            raise BadInput("--ray-address needs --executor ray")
        return LocalExecutor(workers=workers)
    if name == "ray":
        from codegen.bench.ray_executor import RayExecutor

        return RayExecutor(address=ray_address)
    raise BadInput(f"unknown executor {name!r}: use one of {', '.join(EXECUTORS)}")
