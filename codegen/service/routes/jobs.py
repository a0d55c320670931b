"""The caller's jobs: the list (newest first, paginated), a job's status and report, its events
as they happen, and cancelling it.

Every route looks the job up under the caller's name: another tenant's job answers exactly as
a job that does not exist (404, the same message), whatever the route. The admin token sees
every job."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from sse_starlette.sse import EventSourceResponse

from codegen.service.api import JobView
from codegen.service.auth import Caller
from codegen.service.context import Service, Svc, Who

router = APIRouter()
PING_S = 10


@router.get("/v1/jobs", response_model=list[JobView])
async def list_jobs(
    who: Who,
    svc: Svc,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    job: Annotated[str | None, Query(max_length=64, description="the page holding it")] = None,
) -> Any:
    """The caller's jobs (every job, for the admin), newest first, without their reports.
    `X-Total-Count` says how many there are, `X-Offset` where this page starts; `job=ID` asks
    for the page that holds that job."""
    if job is not None:
        position = svc.store.position(job, who.sees)
        if position is not None:
            offset = position // limit * limit
    views, total = svc.store.page(who.sees, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Offset"] = str(offset)
    live = {job_id: found.view for job_id, found in svc.jobs.live.items()}
    return [live.get(view.id, view).model_copy(update={"report": None}) for view in views]


@router.get("/v1/jobs/{job_id}", response_model=JobView)
async def get_job(job_id: str, who: Who, svc: Svc) -> Any:
    """The job's state and, once it is over, its report or its error."""
    return _job(svc, job_id, who)


@router.get("/v1/jobs/{job_id}/events")
async def job_events(job_id: str, who: Who, svc: Svc) -> EventSourceResponse:
    """Server-sent events: progress as it happens (requests, candidates, verdicts, stages),
    from the job's start even when followed late; the last one is `end`."""
    _job(svc, job_id, who)
    return EventSourceResponse(_stream(svc, job_id), ping=PING_S,
                               headers={"Cache-Control": "no-store"})  # fmt: skip


@router.delete("/v1/jobs/{job_id}")
async def cancel_job(job_id: str, who: Who, svc: Svc) -> Any:
    """Stop a queued or running job: its model calls stop, its sandbox work is released."""
    view = _job(svc, job_id, who)
    if not svc.jobs.cancel(job_id):
        raise HTTPException(409, f"job {job_id} is already {view.state}")
    return {"id": job_id, "cancelling": True}


def _job(svc: Service, job_id: str, who: Caller) -> JobView:
    view = svc.jobs.view(job_id, who.sees)
    if view is None:
        raise HTTPException(404, f"no job {job_id}")
    return view


async def _stream(svc: Service, job_id: str) -> AsyncIterator[dict[str, str]]:
    token = object()
    svc.streams.add(token)  # a draining service waits for its followers to get `end`
    try:
        async for event in svc.jobs.events(job_id):
            yield {"event": str(event["type"]), "data": json.dumps(event, default=str)}
    finally:
        svc.streams.discard(token)
