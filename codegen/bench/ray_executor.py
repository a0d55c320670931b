"""The ``ray`` executor: sandbox work as Ray actor tasks across a cluster.

The pools are the sandbox's own Ray pools (:class:`sandbox.ray_backend.RayPools`: a warm pool
per actor, placed by the nodes' ``sandbox`` resource). Actors rather than plain tasks because a
container costs about 0.4 s to start: warm pools are what makes a run fast.

The driver keeps the SQLite store; workers get an :class:`EvalRequest` as JSON and return an
:class:`Evaluation` as JSON. Generation stays on the driver too unless ``generation=True``
(``--ray-generation``): then each problem's model calls (its samples, and its tester requests
as another task beside them) run as Ray tasks, spread over the nodes, for models served next
to the nodes (a local server on each) or keys only they hold.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from codegen.bench.evaluate import evaluate
from codegen.bench.executors import GenerateFn, TestFn
from codegen.bench.records import EvalRequest, Evaluation
from codegen.errors import EnvironmentProblem
from codegen.generation import GenerationResult, GenerationTask, Roster
from codegen.generation.types import TesterReply
from sandbox import SandboxUnavailable
from sandbox.ray_backend import PoolActor, RayPools


class SandboxActor(PoolActor):
    """A node's warm pool that also runs a whole problem's evaluation there (one round trip
    per problem, rather than one per sandbox job)."""

    async def evaluate(self, payload: str) -> str:
        import ray

        request = EvalRequest.model_validate_json(payload)
        evaluation = await evaluate(request, self.sandbox)
        evaluation.executed_on = f"ray:{ray.get_runtime_context().get_node_id()[:12]}"
        return evaluation.model_dump_json()


def generate_on_node(task: str, roster: str) -> tuple[str, str]:
    """A Ray task: one problem's generation on the node Ray picked; (result JSON, node id)."""
    import ray

    from codegen.generation import generate

    result = asyncio.run(
        generate(GenerationTask.model_validate_json(task), Roster.model_validate_json(roster))
    )
    return result.model_dump_json(), ray.get_runtime_context().get_node_id()[:12]


def tests_on_node(task: str, roster: str, per_model: int, cases: int) -> tuple[str, str]:
    """A Ray task: one problem's tester requests on the node Ray picked; (replies JSON, node)."""
    import ray

    from codegen.generation.fanout import write_tests

    replies = asyncio.run(
        write_tests(
            GenerationTask.model_validate_json(task),
            Roster.model_validate_json(roster),
            per_model=per_model,
            cases=cases,
        )
    )
    payload = json.dumps([r.model_dump(mode="json") for r in replies])
    return payload, ray.get_runtime_context().get_node_id()[:12]


class RayExecutor:
    """The cluster's pools (:class:`sandbox.ray_backend.RayPools`, its actors able to
    evaluate whole problems)."""

    def __init__(self, address: str | None = None, generation: bool = False) -> None:
        self.pools = RayPools(address=address, actor=SandboxActor)
        self.generator: GenerateFn | None = self.generate if generation else None
        self.tester: TestFn | None = self.write_tests if generation else None
        self.generated_on: set[str] = set()  # nodes that ran generation tasks
        self.image = ""
        self.slots = 0

    async def __aenter__(self) -> RayExecutor:
        try:
            await self.pools.__aenter__()
        except SandboxUnavailable as error:
            raise EnvironmentProblem(str(error)) from None
        self.image, self.slots = self.pools.image_tag, len(self.pools.actors)
        return self

    async def evaluate(self, request: EvalRequest) -> Evaluation:
        answer = await self.pools.on_any("evaluate", request.model_dump_json())
        return Evaluation.model_validate_json(answer)

    async def generate(self, task: GenerationTask, roster: Roster) -> GenerationResult:
        import ray

        remote = ray.remote(generate_on_node).options(
            num_cpus=0, scheduling_strategy="SPREAD", max_retries=0
        )
        answer, node = await remote.remote(task.model_dump_json(), roster.model_dump_json())
        self.generated_on.add(node)
        return GenerationResult.model_validate_json(answer)

    async def write_tests(
        self, task: GenerationTask, roster: Roster, per_model: int, cases: int
    ) -> list[TesterReply]:
        import ray

        remote = ray.remote(tests_on_node).options(
            num_cpus=0, scheduling_strategy="SPREAD", max_retries=0
        )
        answer, node = await remote.remote(
            task.model_dump_json(), roster.model_dump_json(), per_model, cases
        )
        self.generated_on.add(node)
        return [TesterReply.model_validate(r) for r in json.loads(answer)]

    async def __aexit__(self, *exc: Any) -> None:
        await self.pools.__aexit__(*exc)
