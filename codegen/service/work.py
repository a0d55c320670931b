"""What each kind of job does, on the service's warm parts: the same library calls as the
commands (``codegen solve``, ``rank``, ``sandbox run``), with the problem built the way the CLI
builds it and the events sent to the job's followers.

A job with a project gets a sandbox of its own, with the project mounted (and its image), taken
in turn with every other job's (:mod:`codegen.service.projects`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from codegen.errors import BadInput
from codegen.evaluation import rank_candidates, verify
from codegen.optimise.winner import optimise_winner
from codegen.problems import Problem
from codegen.ranking.jury import judges_for
from codegen.service.api import ProblemInput, RankRequest, RunRequest
from codegen.service.fair import FairSandbox, FairShare
from codegen.service.jobs import Job, event_record
from codegen.service.projects import ProjectPolicy, problem_in, project_plan_in, project_root
from codegen.service.task import problem_of
from codegen.settings import CodegenConfig, Overrides, SolveSettings, resolve
from codegen.solve import SolveSession, solve
from codegen.solve.warm import Warm
from sandbox import ProblemError, SandboxBackend


class Worker:
    """Runs jobs on the warm parts; the base config is the service's own."""

    def __init__(
        self,
        warm: Warm,
        config: CodegenConfig,
        share: FairShare,
        policy: ProjectPolicy | None = None,
    ) -> None:
        self.warm = warm
        self.config = config
        self.share = share
        self.policy = policy or ProjectPolicy()

    def sandbox_for(self, job: Job) -> FairSandbox:
        return FairSandbox(self.warm.sandbox, self.share, job.id)

    def problem_of(self, request: ProblemInput) -> Problem:
        """The request's problem, read in its project when it brings one (BadInput says what
        is wrong, in the request's terms)."""
        if request.project is None:
            return problem_of(request)
        tokens = resolve(self.config).context.max_tokens
        with project_root(request.project, self.policy) as root:
            return problem_in(request, root, tokens)

    @contextlib.asynccontextmanager
    async def in_context(
        self, job: Job, request: ProblemInput, problem: Problem, settings: SolveSettings
    ) -> AsyncIterator[tuple[Problem, SandboxBackend]]:
        """The job's problem and sandbox: the shared one, or for a project one of its own with
        the project mounted (its folder and snapshot removed after the job)."""
        if request.project is None:
            yield problem, self.sandbox_for(job)
            return
        with project_root(request.project, self.policy) as root:
            problem = problem_in(request, root, settings.context.max_tokens)
            async with project_plan_in(problem, root, self.policy) as project:
                own = settings.sandbox.open(settings.limits, project)
                async with own:
                    yield problem, FairSandbox(own, self.share, job.id)

    def settings_for(self, overrides: Overrides) -> SolveSettings:
        """The service's config under the request's flags; BadInput as the CLI says it."""
        if overrides.isolation == "strict":
            raise BadInput(
                "isolation `strict` is not served here (the service runs the warm pool): run "
                "`codegen solve --isolation strict` locally"
            )
        return resolve(self.config, overrides)

    @staticmethod
    def models_of(settings: SolveSettings) -> list[str]:
        """The models a solve with these settings asks, for the job list."""
        if settings.roster_kind == "flags":
            return list(dict.fromkeys(settings.models))
        if settings.roster_kind == "config":
            return list(dict.fromkeys(worker.model for worker in settings.workers))
        return list(settings.local_models)

    async def solve(
        self,
        job: Job,
        problem: Problem,
        settings: SolveSettings,
        optimise_rounds: int = 0,
        request: ProblemInput | None = None,
        fast: bool = False,
    ) -> dict[str, Any]:
        """``codegen solve`` (with ``--optimise N``, ``--fast``) on the warm parts; its
        ``Decided`` event reaches the followers as soon as the winner is known."""

        def emit(event: object) -> None:
            job.emit(event_record(event))

        request = request or ProblemInput(problem=problem)
        async with self.in_context(job, request, problem, settings) as (problem, sandbox):
            lent = Warm(sandbox, self.warm.runtime, self.warm.throttles)
            async with SolveSession(settings, warm=lent) as session:
                report = await solve(problem, session, on_event=emit, enrich=not fast)
                if optimise_rounds:
                    report = await optimise_winner(problem, report, session, optimise_rounds, emit)
        return report.model_dump(mode="json")

    async def rank(self, job: Job, problem: Problem, request: RankRequest) -> dict[str, Any]:
        judges = judges_for(request.judges) if request.judges else None
        settings = resolve(self.config)
        try:
            async with self.in_context(job, request, problem, settings) as (problem, sandbox):
                ranking = await rank_candidates(
                    problem,
                    request.candidates,
                    sandbox,
                    judges=judges,
                    rounds=request.rounds,
                    on_event=lambda e: job.emit(event_record(e)),
                )
        except ProblemError as error:
            raise BadInput(str(error).splitlines()[0]) from None
        return ranking.model_dump(mode="json")

    async def run(self, job: Job, problem: Problem, request: RunRequest) -> dict[str, Any]:
        settings = resolve(self.config)
        try:
            async with self.in_context(job, request, problem, settings) as (problem, sandbox):
                runs = await verify(problem, request.candidates, sandbox)
        except ProblemError as error:
            raise BadInput(str(error).splitlines()[0]) from None
        return {cid: run.model_dump(mode="json") for cid, run in runs.items()}
