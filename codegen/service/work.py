"""What each kind of job does, on the service's warm parts: the same library calls as the
commands (``codegen solve``, ``rank``, ``sandbox run``), with the problem built the way the CLI
builds it and the events sent to the job's followers."""

from __future__ import annotations

from typing import Any

from codegen.errors import BadInput
from codegen.evaluation import rank_candidates, verify
from codegen.optimise.winner import optimise_winner
from codegen.problems import Problem
from codegen.ranking.jury import judges_for
from codegen.service.api import RankRequest, RunRequest
from codegen.service.fair import FairSandbox, FairShare
from codegen.service.jobs import Job, event_record
from codegen.settings import CodegenConfig, Overrides, SolveSettings, resolve
from codegen.solve import SolveSession, solve
from codegen.solve.warm import Warm
from sandbox import ProblemError


class Worker:
    """Runs jobs on the warm parts; the base config is the service's own."""

    def __init__(self, warm: Warm, config: CodegenConfig, share: FairShare) -> None:
        self.warm = warm
        self.config = config
        self.share = share

    def sandbox_for(self, job: Job) -> FairSandbox:
        return FairSandbox(self.warm.sandbox, self.share, job.id)

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
        fast: bool = False,
    ) -> dict[str, Any]:
        """``codegen solve`` (with ``--optimise N``, ``--fast``) on the warm parts; its
        ``Decided`` event reaches the followers as soon as the winner is known."""
        lent = Warm(self.sandbox_for(job), self.warm.runtime, self.warm.throttles)

        def emit(event: object) -> None:
            job.emit(event_record(event))

        async with SolveSession(settings, warm=lent) as session:
            report = await solve(problem, session, on_event=emit, enrich=not fast)
            if optimise_rounds:
                report = await optimise_winner(problem, report, session, optimise_rounds, emit)
        return report.model_dump(mode="json")

    async def rank(self, job: Job, problem: Problem, request: RankRequest) -> dict[str, Any]:
        judges = judges_for(request.judges) if request.judges else None
        try:
            ranking = await rank_candidates(
                problem,
                request.candidates,
                self.sandbox_for(job),
                judges=judges,
                rounds=request.rounds,
                on_event=lambda e: job.emit(event_record(e)),
            )
        except ProblemError as error:
            raise BadInput(str(error).splitlines()[0]) from None
        return ranking.model_dump(mode="json")

    async def run(self, job: Job, problem: Problem, request: RunRequest) -> dict[str, Any]:
        try:
            runs = await verify(problem, request.candidates, self.sandbox_for(job))
        except ProblemError as error:
            raise BadInput(str(error).splitlines()[0]) from None
        return {cid: run.model_dump(mode="json") for cid, run in runs.items()}
