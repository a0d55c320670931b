"""The ``ray`` executor: sandbox work as Ray actor tasks across a cluster.

Each node runs its own Docker engine and sandbox image. A node offers the custom resource
``sandbox`` = the number of containers it may run (``ray start … --resources='{"sandbox": 4}'``);
every actor holds a warm pool of :data:`CONTAINERS_PER_ACTOR` containers and asks for that many
units, so Ray never places more containers on a node than it offers. Actors rather than plain
tasks because a container costs about 0.4 s to start: warm pools are what makes a run fast.

The driver keeps the SQLite store; workers get an :class:`EvalRequest` as JSON and return an
:class:`Evaluation` as JSON. Generation stays on the driver too unless ``generation=True``
(``--ray-generation``): then each problem's model calls run as a Ray task, spread over the
nodes, for models served next to the nodes (a local server on each) or keys only they hold.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from codegen.bench.evaluate import evaluate
from codegen.bench.records import EvalRequest, Evaluation
from codegen.errors import EnvironmentProblem
from codegen.generation import GenerationResult, GenerationTask, Roster

RESOURCE = "sandbox"
CONTAINERS_PER_ACTOR = 2  # one test container and the pinned timing container
STOP_TIMEOUT_S = 30.0


class SandboxActor:
    """Lives in a Ray worker process on some node; holds that node's warm pool."""

    def __init__(self) -> None:
        self.sandbox: Any = None

    async def start(self) -> str:
        from sandbox import Sandbox

        self.sandbox = Sandbox(workers=CONTAINERS_PER_ACTOR - 1)
        await self.sandbox.__aenter__()
        return str(self.sandbox.image_tag)

    async def evaluate(self, payload: str) -> str:
        import ray

        request = EvalRequest.model_validate_json(payload)
        evaluation = await evaluate(request, self.sandbox)
        evaluation.executed_on = f"ray:{ray.get_runtime_context().get_node_id()[:12]}"
        return evaluation.model_dump_json()

    async def stop(self) -> None:
        if self.sandbox is not None:
            await self.sandbox.__aexit__(None, None, None)


def generate_on_node(task: str, roster: str) -> tuple[str, str]:
    """A Ray task: one problem's generation on the node Ray picked; (result JSON, node id)."""
    import ray

    from codegen.generation import generate

    result = asyncio.run(
        generate(GenerationTask.model_validate_json(task), Roster.model_validate_json(roster))
    )
    return result.model_dump_json(), ray.get_runtime_context().get_node_id()[:12]


class RayExecutor:
    def __init__(self, address: str | None = None, generation: bool = False) -> None:
        self.address = address
        self.generator = self.generate if generation else None
        self.generated_on: set[str] = set()  # nodes that ran generation tasks
        self.actors: list[Any] = []
        self.idle: asyncio.Queue[Any] = asyncio.Queue()
        self.alive = 0
        self.slots = 0
        self.image = ""

    async def __aenter__(self) -> RayExecutor:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError:
            raise EnvironmentProblem(
                "Ray is not installed: pip install 'codegen[ray]' (or 'ray[default]')"
            ) from None
        try:
            ray.init(address=self.address or "auto", logging_level=logging.WARNING,
                     log_to_driver=False, configure_logging=False)  # fmt: skip
        except Exception as error:
            where = self.address or "auto (RAY_ADDRESS or a local cluster)"
            raise EnvironmentProblem(
                f"cannot reach the Ray cluster at {where}: {error}; start one with "
                f"`ray start --head --resources='{{\"{RESOURCE}\": 4}}'`"
            ) from None
        try:
            await self._start(ray)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def _start(self, ray: Any) -> None:
        count = sum(
            int(node["Resources"].get(RESOURCE, 0)) // CONTAINERS_PER_ACTOR
            for node in ray.nodes()
            if node.get("Alive")
        )
        if count == 0:
            raise EnvironmentProblem(
                f"no Ray node offers {CONTAINERS_PER_ACTOR} units of the `{RESOURCE}` resource: "
                f"start nodes with --resources='{{\"{RESOURCE}\": {2 * CONTAINERS_PER_ACTOR}}}'"
            )
        actor_class = ray.remote(SandboxActor).options(
            resources={RESOURCE: CONTAINERS_PER_ACTOR}, num_cpus=0, max_restarts=0
        )
        self.actors = [actor_class.remote() for _ in range(count)]
        images = await asyncio.gather(*(actor.start.remote() for actor in self.actors))
        if len(set(images)) > 1:
            raise EnvironmentProblem(
                f"Ray nodes run different sandbox images ({', '.join(sorted(set(images)))}): "
                "run `codegen sandbox build` with the same code on every node"
            )
        self.image, self.slots, self.alive = images[0], count, count
        for actor in self.actors:
            self.idle.put_nowait(actor)

    async def evaluate(self, request: EvalRequest) -> Evaluation:
        from ray.exceptions import RayActorError

        if self.alive == 0:
            raise EnvironmentProblem("every Ray sandbox actor has died")
        actor = await self.idle.get()
        try:
            answer = await actor.evaluate.remote(request.model_dump_json())
        except RayActorError:
            self.alive -= 1  # not returned to the queue: its node or process is gone
            raise
        self.idle.put_nowait(actor)
        return Evaluation.model_validate_json(answer)

    async def generate(self, task: GenerationTask, roster: Roster) -> GenerationResult:
        import ray

        remote = ray.remote(generate_on_node).options(
            num_cpus=0, scheduling_strategy="SPREAD", max_retries=0
        )
        answer, node = await remote.remote(task.model_dump_json(), roster.model_dump_json())
        self.generated_on.add(node)
        return GenerationResult.model_validate_json(answer)

    async def __aexit__(self, *exc: Any) -> None:
        import ray

        if self.actors:
            stops = [actor.stop.remote() for actor in self.actors]
            try:
                await asyncio.wait_for(
                    asyncio.gather(*stops, return_exceptions=True), STOP_TIMEOUT_S
                )
            except TimeoutError:
                pass
            for actor in self.actors:
                ray.kill(actor)
            self.actors = []
        if ray.is_initialized():
            ray.shutdown()
