"""The ``ray`` backend: the Docker sandbox on every node of a Ray cluster, behind the same three
jobs, so that one service (or one process) drives many machines.

Each node runs its own Docker engine and sandbox image and offers the custom resource
``sandbox`` = the number of containers it may run (``ray start … --resources='{"sandbox": 4}'``).
Every actor holds a warm pool of :data:`CONTAINERS_PER_ACTOR` containers (one test worker and
the timing container) and asks for that many units, so Ray never places more containers on a
node than it offers. Jobs go to whichever actor is free; the nodes must run the same code, so
they build the same image tag (checked at start).

Two layers: :class:`RayPools`, the actors themselves (``on_any`` calls any of their methods on
whichever is free: the bench's Ray executor adds one that evaluates a whole problem on the
node), and :class:`RaySandbox`, the ``ray`` backend, which offers only the three jobs.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from .errors import SandboxUnavailable
from .models import (
    DEFAULT_LIMITS,
    CallJob,
    CallOutcome,
    Limits,
    Project,
    RunJob,
    RunResult,
    TimingJob,
    TimingResult,
)

RESOURCE = "sandbox"
CONTAINERS_PER_ACTOR = 2  # one test container and the pinned timing container
STOP_TIMEOUT_S = 30.0


class PoolActor:
    """Lives in a Ray worker process on some node; holds that node's warm pool."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.sandbox: Any = None

    async def start(self) -> str:
        from .pool import Sandbox

        self.sandbox = Sandbox(workers=CONTAINERS_PER_ACTOR - 1, limits=self.limits)
        await self.sandbox.__aenter__()
        return str(self.sandbox.image_tag)

    async def run(self, job: RunJob) -> RunResult:
        return await self.sandbox.run(job)

    async def call(self, job: CallJob) -> list[CallOutcome]:
        return await self.sandbox.call(job)

    async def time(self, job: TimingJob) -> TimingResult:
        return await self.sandbox.time(job)

    def node(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()[:12]

    async def stop(self) -> None:
        if self.sandbox is not None:
            await self.sandbox.__aexit__(None, None, None)


class RayPools:
    """The warm pools on the cluster's nodes, one per actor; ``address`` as for ``ray.init``
    (``HOST:PORT``; None: RAY_ADDRESS or a local cluster). Not a sandbox backend: its
    :meth:`on_any` runs any method of ``actor`` (a subclass of :class:`PoolActor`)."""

    def __init__(
        self,
        limits: Limits = DEFAULT_LIMITS,
        address: str | None = None,
        actor: type[PoolActor] = PoolActor,
    ) -> None:
        self.limits = limits
        self.address = address
        self.actor = actor  # a subclass may add methods that run on the node (see on_any)
        self.alive = 0
        self.actors: list[Any] = []
        self.idle: asyncio.Queue[Any] = asyncio.Queue()
        self.image_tag = ""

    async def __aenter__(self) -> RayPools:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError:
            raise SandboxUnavailable(
                "Ray is not installed: pip install 'codegen[ray]' (or 'ray[default]')"
            ) from None
        try:
            ray.init(address=self.address or "auto", logging_level=logging.WARNING,
                     log_to_driver=False, configure_logging=False)  # fmt: skip
            await self._start(ray)
        except SandboxUnavailable:
            await self.__aexit__(None, None, None)
            raise
        except Exception as error:
            await self.__aexit__(None, None, None)
            where = self.address or "auto (RAY_ADDRESS or a local cluster)"
            raise SandboxUnavailable(f"cannot use the Ray cluster at {where}: {error}") from None
        return self

    async def _start(self, ray: Any) -> None:
        count = sum(
            int(node["Resources"].get(RESOURCE, 0)) // CONTAINERS_PER_ACTOR
            for node in ray.nodes()
            if node.get("Alive")
        )
        if count == 0:
            raise SandboxUnavailable(
                f"no Ray node offers {CONTAINERS_PER_ACTOR} units of the `{RESOURCE}` resource: "
                f"start nodes with --resources='{{\"{RESOURCE}\": {2 * CONTAINERS_PER_ACTOR}}}'"
            )
        actor_class = ray.remote(self.actor).options(
            resources={RESOURCE: CONTAINERS_PER_ACTOR}, num_cpus=0, max_restarts=0
        )
        self.actors = [actor_class.remote(self.limits) for _ in range(count)]
        images = await asyncio.gather(*(actor.start.remote() for actor in self.actors))
        if len(set(images)) > 1:
            raise SandboxUnavailable(
                f"Ray nodes run different sandbox images ({', '.join(sorted(set(images)))}): "
                "run `codegen sandbox build` with the same code on every node"
            )
        self.image_tag, self.alive = images[0], count
        for actor in self.actors:
            self.idle.put_nowait(actor)

    async def nodes(self) -> set[str]:
        """The nodes holding this backend's pools."""
        return set(await asyncio.gather(*(actor.node.remote() for actor in self.actors)))

    async def on_any(self, method: str, job: Any) -> Any:
        """Call ``method`` with its one argument (a job) on whichever actor is free; an actor
        whose node or process died is not used again."""
        from ray.exceptions import RayActorError

        if self.alive == 0:
            raise SandboxUnavailable("every Ray sandbox actor has died")
        actor = await self.idle.get()
        try:
            answer = await getattr(actor, method).remote(job)
        except RayActorError:
            self.alive -= 1  # not returned to the queue
            raise
        self.idle.put_nowait(actor)
        return answer

    async def __aexit__(self, *exc: Any) -> None:
        try:
            import ray
        except ImportError:
            return
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


class RaySandbox:
    """The ``ray`` backend: the three jobs, each on whichever node's pool is free. Options as
    :class:`RayPools`; the Docker backend's other options are accepted and ignored, so that
    one set of options opens either."""

    project: Project | None = None  # the nodes mount no project

    def __init__(
        self, limits: Limits = DEFAULT_LIMITS, address: str | None = None, **docker_options: Any
    ) -> None:
        self.limits = limits
        self.pools = RayPools(limits, address)

    async def __aenter__(self) -> RaySandbox:
        await self.pools.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.pools.__aexit__(*exc)

    async def run(self, job: RunJob) -> RunResult:
        return await self.pools.on_any("run", job)

    async def call(self, job: CallJob) -> list[CallOutcome]:
        return await self.pools.on_any("call", job)

    async def time(self, job: TimingJob) -> TimingResult:
        return await self.pools.on_any("time", job)
