"""What a solve run holds open: the rosters (starting the embedded models when they are used),
the judges, and the sandbox pool, which opens in the background while the models generate.

    async with SolveSession(settings) as session:
        session.rosters      # one per kind of server: hosted and embedded have different limits
        session.throttle_for(roster)  # that roster's in-flight caps, shared by all its requests
        session.judges       # JudgeSpec list, empty when the jury is off
        await session.sandbox()

Shared by `codegen solve` and the pre-commit hook, so that several stubs pay for one start-up.
Every check that needs no server (unknown model, missing key, empty roster) runs first. A
long-running service lends each job its warm parts instead (:class:`Warm`: an open sandbox,
running embedded models, throttles shared by every job), which the session then neither
starts nor stops.

For a problem from a project (``project``: its root), the sandbox is the session's own: every
container mounts a snapshot of the project's source read-only and runs the project's image,
with its dependencies (:mod:`codegen.project.environment`); the snapshot goes with the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Sequence

from pydantic import BaseModel

from codegen.errors import BadInput
from codegen.generation.roster import Roster, Worker
from codegen.llm import routing
from codegen.llm.throttle import Throttle
from codegen.local_models import DEFAULT_MODELS, MODELS, LocalRuntime, local_roster
from codegen.local_models.runtime import Endpoint as LocalEndpoint
from codegen.local_models.runtime import slots_per_model
from codegen.project.environment import ProjectPlan
from codegen.ranking import JudgeSpec
from codegen.ranking.jury import judges_for
from codegen.settings import SolveSettings, roster_from_models
from codegen.solve.warm import Warm
from sandbox import SandboxBackend


class SolveSession:
    """Async context manager; see the module docstring."""

    def __init__(
        self,
        settings: SolveSettings,
        *,
        warm: Warm | None = None,
        project: ProjectPlan | None = None,
    ) -> None:
        self.settings = settings
        self.rosters: list[Roster] = []
        self.judges: list[JudgeSpec] = []
        self._local_names = _local_names(settings)
        self._warm = warm
        self._runtime = warm.runtime if warm else None
        self._project = project
        self._lent = warm is not None and project is None  # the service's own sandbox
        self._sandbox: SandboxBackend | None = warm.sandbox if self._lent and warm else None
        self._opening: asyncio.Task[SandboxBackend] | None = None
        self._throttles: dict[str, Throttle] = warm.throttles if warm else {}
        self.notes = _unpulled_defaults(settings)

    async def __aenter__(self) -> SolveSession:
        check_model_names(self.settings)  # a typo is refused before anything starts
        self._opening = asyncio.create_task(self._open_sandbox())
        if self._warm is not None:
            self._check_served()
        try:
            # litellm takes seconds to import: the sandbox opens meanwhile
            client = await asyncio.to_thread(importlib.import_module, "codegen.llm.client")
            hosted = _hosted_roster(self.settings)
            if hosted is not None:
                for worker in hosted.workers:
                    client.check_endpoint(worker)  # unknown model or missing key: before waiting
                self.rosters.append(hosted)
            if self._local_names:
                if self._runtime is None:
                    self._runtime = LocalRuntime(self._local_names)
                if not self._runtime.endpoints:
                    await asyncio.to_thread(self._runtime.start)
                self.rosters.append(self._local_roster())
            self.judges = self._judges()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
        if self._opening is not None:
            with contextlib.suppress(BaseException):
                await self._opening
        if not self._lent and self._sandbox is not None:
            await self._sandbox.__aexit__(None, None, None)
        if self._project is not None:
            await self._project.__aexit__(None, None, None)
        if self._warm is not None:
            return  # the warm parts belong to the service
        if self._runtime is not None:
            await asyncio.to_thread(self._runtime.stop)

    async def sandbox(self) -> SandboxBackend:
        """The open pool; raises SandboxUnavailable (exit 3) when Docker is not there."""
        assert self._opening is not None, "use SolveSession as an async context manager"
        return await asyncio.shield(self._opening)

    @property
    def workers(self) -> list[Worker]:
        return [w for roster in self.rosters for w in roster.workers]

    def throttle_for(self, roster: Roster) -> Throttle:
        """The caps of a kind of roster (hosted or embedded), one Throttle for every request
        sent from it: the first round, the repair round, every stub of a pre-commit run, and
        in a service every job."""
        kind = "embedded" if roster.workers[0].model in self._local_models() else "hosted"
        limits = roster.limits
        return self._throttles.setdefault(
            kind, Throttle(limits.max_concurrency, limits.per_provider)
        )

    def _local_models(self) -> set[str]:
        return {e.litellm_model for e in self._runtime.endpoints} if self._runtime else set()

    def _check_served(self) -> None:
        """In a service, an embedded model is served only if the service started it."""
        served = {e.model.name for e in self._runtime.endpoints} if self._runtime else set()
        missing = [name for name in self._local_names if name not in served]
        if missing:
            raise BadInput(
                f"embedded model {missing[0]!r} is not served by this service "
                f"(it serves: {', '.join(sorted(served)) or 'none'})"
            )

    async def _open_sandbox(self) -> SandboxBackend:
        if self._lent:
            assert self._sandbox is not None
            return self._sandbox  # open already, and shared
        mounted = await self._project.__aenter__() if self._project is not None else None
        self._sandbox = self.settings.sandbox.open(self.settings.limits, mounted)
        return await self._sandbox.__aenter__()

    def _local_roster(self) -> Roster:
        assert self._runtime is not None
        return local_roster(
            self._runtime.endpoints,
            personas=self.settings.personas,
            samples=self.settings.samples or 1,
        )

    def _judges(self) -> list[JudgeSpec]:
        jury = self.settings.jury
        if not jury_enabled(self.settings):
            return []
        names = jury.judges or list(dict.fromkeys(w.model for w in self.workers))
        specs = []
        for name in names:
            local = self._local_judge(name)
            if local is not None:
                specs.append(local)
                continue
            worker = next((w for w in self.workers if w.model == name), None)
            api_base = worker.api_base if worker else None
            spec = judges_for([name], api_base, jury.timeout_s)[0]
            if worker is not None and worker.api_key_env:
                spec = spec.model_copy(update={"api_key_env": worker.api_key_env})
            specs.append(spec)
        return specs

    def _local_judge(self, name: str) -> JudgeSpec | None:
        """A judge on an embedded server: one request at a time (it serves one slot)."""
        endpoints = self._runtime.endpoints if self._runtime else []
        for endpoint in endpoints:
            if name in (endpoint.model.name, endpoint.litellm_model):
                return JudgeSpec(
                    model=endpoint.litellm_model,
                    name=endpoint.model.name,
                    api_base=endpoint.api_base,
                    timeout_s=self.settings.jury.timeout_s,
                    max_parallel=1,
                )
        if name in MODELS:
            raise BadInput(
                f"judge {name!r} is an embedded model that this run does not start: "
                f"add it to --models or to local_models"
            )
        return None


def jury_enabled(settings: SolveSettings) -> bool:
    """As configured; unset, on unless an embedded model is in the roster (too small to judge,
    and it would share the CPUs with the timing runs). `config show` says the same."""
    if settings.jury.enabled is not None:
        return settings.jury.enabled
    return not _local_names(settings)


def _unpulled_defaults(settings: SolveSettings) -> list[str]:
    """A note for each default model the default roster runs without (not pulled)."""
    if settings.roster_kind != "embedded" or settings.origins.get("local_models") != "default":
        return []
    return [
        f"the default roster runs without {name}, which is not pulled: `codegen models pull` "
        "adds it (the default solves far more with it)"
        for name in DEFAULT_MODELS
        if name not in settings.local_models
    ]


def _local_names(settings: SolveSettings) -> list[str]:
    if settings.roster_kind == "embedded":
        return list(settings.local_models)
    if settings.roster_kind == "flags":
        return [name for name in settings.models if name in MODELS]
    return []


def _hosted_roster(settings: SolveSettings, *, check: bool = True) -> Roster | None:
    """Workers on litellm-addressed servers: from --models, or the config's workers."""
    if settings.roster_kind == "flags":
        names = [name for name in settings.models if name not in MODELS]
        for name in names if check else ():
            _check_known(name)
        if not names:
            return None
        return roster_from_models(
            names,
            personas=settings.personas,
            samples=settings.samples or 1,
            limits=settings.generation,
        )
    if settings.roster_kind == "config":
        return Roster(
            workers=tuple(_with_samples(w, settings) for w in settings.workers),
            limits=settings.generation,
        )
    return None


def _with_samples(worker: Worker, settings: SolveSettings) -> Worker:
    """The file's `samples` fills in workers that do not set theirs; --samples sets them all."""
    if settings.samples is None:
        return worker
    if settings.origins.get("samples") != "flag" and "samples" in worker.model_fields_set:
        return worker
    return worker.model_copy(update={"samples": settings.samples})


def check_model_names(settings: SolveSettings) -> None:
    """The names given with --models, checked without litellm's import (seconds) and before
    the sandbox opens: an unknown one is refused at once, naming the nearest known name."""
    if settings.roster_kind == "flags":
        routing.check_names(settings.models, MODELS)


def _check_known(name: str) -> None:
    """One line for a name that is neither routable by litellm nor an embedded model."""
    from codegen.llm import client

    try:
        client.resolve(Worker(model=name))
    except BadInput:
        raise BadInput(routing.unknown_model(name, MODELS)) from None


class RequestPlan(BaseModel):
    """How many model requests a run sends before any repair, and how many at once: personas
    and samples multiply the cost of every model; the tester adds `per_model` per model, sent
    beside the candidates under the same caps."""

    per_run: int
    tester: int = 0
    at_once: int
    models: int
    personas: int
    samples: int

    def describe(self) -> str:
        total = self.per_run + self.tester
        at_once = "all at once" if self.at_once >= total else f"{self.at_once} at once"
        tests = f", and {self.tester} for tests" if self.tester else ""
        return (
            f"{self.per_run} request(s) per run: {self.models} model(s) × {self.personas} "
            f"persona(s) × {self.samples} sample(s){tests}; {at_once}"
        )


def request_plan(settings: SolveSettings, rosters: Sequence[Roster] = ()) -> RequestPlan:
    """The plan of the given rosters (a run's), or of the ones ``settings`` would make: one
    computation for both, so that `codegen config show` says what the run then does."""
    rosters = list(rosters) or planned_rosters(settings)
    tester = settings.tester.per_model if settings.tester.enabled else 0
    workers = [w for roster in rosters for w in roster.workers]
    per_persona: dict[tuple[str, str], int] = {}
    for w in workers:
        per_persona[(w.model, w.persona)] = per_persona.get((w.model, w.persona), 0) + w.samples
    return RequestPlan(
        per_run=sum(w.samples for w in workers),
        tester=sum(len({w.model for w in roster.workers}) * tester for roster in rosters),
        at_once=sum(_at_once(roster, tester) for roster in rosters),
        models=len({w.model for w in workers}),
        personas=len({w.persona for w in workers}),
        samples=max(per_persona.values(), default=0),
    )


def planned_rosters(settings: SolveSettings) -> list[Roster]:
    """The rosters a run of ``settings`` would build, started nothing and checked nothing: the
    embedded models get placeholder endpoints, as many per model as the run starts servers."""
    hosted = _hosted_roster(settings, check=False)
    rosters = [hosted] if hosted else []
    local = _local_names(settings)
    if local:
        slots = slots_per_model(len(local))
        planned = [
            LocalEndpoint(model=MODELS[name], alias=name, port=index, threads=1)
            for index, name in enumerate(name for name in local for _ in range(slots))
        ]
        rosters.append(
            local_roster(planned, personas=settings.personas, samples=settings.samples or 1)
        )
    return rosters


def _at_once(roster: Roster, tester: int = 0) -> int:
    """Requests of a roster in flight together: per api_base (or provider prefix) capped at
    `per_provider`, the whole at `max_concurrency`; each model's tester requests go to its
    first worker's server. Read without litellm (no import cost)."""
    per_base: dict[str, int] = {}
    testers: set[str] = set()
    for worker in roster.workers:
        base = worker.api_base or worker.model.split("/")[0]
        per_base[base] = per_base.get(base, 0) + worker.samples
        if worker.model not in testers:
            testers.add(worker.model)
            per_base[base] += tester
    limits = roster.limits
    return min(limits.max_concurrency, sum(min(n, limits.per_provider) for n in per_base.values()))


def roster_plan(settings: SolveSettings) -> list[str]:
    """The roster a run would use, described without starting or checking anything."""
    hosted = _hosted_roster(settings, check=False)
    lines = describe_rosters([hosted] if hosted else [])
    samples = settings.samples or 1
    for name in _local_names(settings):
        lines.append(f"{name} (embedded) [{', '.join(settings.personas)}] ×{samples}")
    return lines


def describe_rosters(rosters: Sequence[Roster], *, endpoints: bool = False) -> list[str]:
    """One line per worker, the model named as the user named it: `model[persona] ×samples`;
    with `endpoints` (`--verbose`), also `@ api_base`, where it is served."""
    return [
        f"{w.label} ×{w.samples}" + (f" @ {w.api_base}" if endpoints and w.api_base else "")
        for roster in rosters
        for w in roster.workers
    ]
