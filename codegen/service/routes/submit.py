"""Submitting jobs: the request is checked whole before it takes a slot (its problem built as
the CLI builds it, its models known here), then admitted or refused (429 with Retry-After, 503
while the service drains), and answered with where to follow the job.

An ``Idempotency-Key`` makes a retry safe: the same key and request give the same job back
(200, ``replayed``); after the job was interrupted (the service stopped or died), they start a
new run that names the old job (202, ``retry_of``, and the ``Codegen-Retry-Of`` header)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException
from fastapi.responses import JSONResponse

from codegen.errors import BadInput
from codegen.service.api import (
    Accepted,
    JobKind,
    PlanRequest,
    ProblemInput,
    RankRequest,
    RunRequest,
    SolveRequest,
)
from codegen.service.context import Service, Svc, Who
from codegen.service.jobs import Conflict, Draining, Job, Refused
from codegen.solve.session import request_plan, roster_plan

router = APIRouter()
Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
RETRY_HEADER = "Codegen-Retry-Of"


@router.post("/v1/solve", status_code=202, response_model=Accepted)
async def post_solve(body: SolveRequest, who: Who, svc: Svc, key: Key = None) -> JSONResponse:
    """Generate, test, rank (and optimise, with `optimise`): the job's report is what
    `codegen solve --json` prints."""
    problem = _checked(lambda: svc.worker.problem_of(body))
    settings = _checked(lambda: svc.worker.settings_for(body.overrides()))
    await _checked_async(svc.checks.check(settings))
    rounds = body.optimise
    work = lambda job: svc.worker.solve(  # noqa: E731
        job, problem, settings, rounds, body, fast=body.fast
    )
    models = svc.worker.models_of(settings)
    return _submit(svc, JobKind.SOLVE, body, work, problem.entry_point, who.owner, key, models)


@router.post("/v1/rank", status_code=202, response_model=Accepted)
async def post_rank(body: RankRequest, who: Who, svc: Svc, key: Key = None) -> JSONResponse:
    """Rank existing implementations, as `codegen rank --json` does."""
    problem = _checked(lambda: svc.worker.problem_of(body))
    await _checked_async(svc.checks.check(svc.settings, judges=body.judges))
    work = lambda job: svc.worker.rank(job, problem, body)  # noqa: E731
    return _submit(svc, JobKind.RANK, body, work, problem.entry_point, who.owner, key, body.judges)


@router.post("/v1/run", status_code=202, response_model=Accepted)
async def post_run(body: RunRequest, who: Who, svc: Svc, key: Key = None) -> JSONResponse:
    """Each candidate against the visible tests: a verdict per candidate."""
    problem = _checked(lambda: svc.worker.problem_of(body))
    work = lambda job: svc.worker.run(job, problem, body)  # noqa: E731
    return _submit(svc, JobKind.RUN, body, work, problem.entry_point, who.owner, key, [])


@router.post("/v1/plan")
async def post_plan(body: PlanRequest, who: Who, svc: Svc) -> dict[str, Any]:
    """What a solve with these flags would send, before it is submitted: the roster and the
    number of model requests (422 names a model this service cannot use)."""
    settings = _checked(lambda: svc.worker.settings_for(body.overrides()))
    await _checked_async(svc.checks.check(settings))
    plan = request_plan(settings)
    return {"roster": roster_plan(settings), "requests": plan.model_dump(),
            "describe": plan.describe()}  # fmt: skip


def _submit(
    svc: Service,
    kind: JobKind,
    body: ProblemInput,
    work: Callable[[Job], Awaitable[dict[str, Any]]],
    problem: str,
    owner: str,
    key: str | None,
    models: list[str],
) -> JSONResponse:
    request = body.model_dump_json()
    try:
        view, replayed = svc.jobs.submit(kind, request, problem, work, owner, key, models)
    except Refused as refused:
        retry = {"Retry-After": str(refused.retry_after)}
        raise HTTPException(429, str(refused), headers=retry) from None
    except Draining as draining:
        raise HTTPException(503, str(draining), headers={"Retry-After": "30"}) from None
    except Conflict as conflict:
        raise HTTPException(409, str(conflict)) from None
    accepted = Accepted(
        id=view.id, state=view.state, status_url=f"/v1/jobs/{view.id}",
        events_url=f"/v1/jobs/{view.id}/events", replayed=replayed, retry_of=view.retry_of,
    )  # fmt: skip
    headers = {RETRY_HEADER: view.retry_of} if view.retry_of else {}
    return JSONResponse(accepted.model_dump(mode="json"), status_code=200 if replayed else 202,
                        headers=headers)  # fmt: skip


def _checked(build: Callable[[], Any]) -> Any:
    try:
        return build()
    except BadInput as error:
        raise HTTPException(422, str(error)) from None


async def _checked_async(check: Awaitable[None]) -> None:
    try:
        await check
    except BadInput as error:
        raise HTTPException(422, str(error)) from None
