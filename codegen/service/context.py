"""What every route is given: the running service's parts and the caller (FastAPI
dependencies, read from ``app.state``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from codegen.service.auth import Caller
from codegen.service.checks import ModelCheck
from codegen.service.jobs import JobManager
from codegen.service.metrics import Metrics
from codegen.service.store import JobStore
from codegen.service.work import Worker
from codegen.settings import SolveSettings
from codegen.solve.warm import Warm


@dataclass
class Service:
    store: JobStore
    jobs: JobManager
    worker: Worker
    metrics: Metrics
    warm: Warm
    checks: ModelCheck
    settings: SolveSettings
    streams: set[object] = field(default_factory=set)  # the event streams open now


def service(request: Request) -> Service:
    running = getattr(request.app.state, "service", None)
    if running is None:
        raise HTTPException(
            503, "the service is starting or stopping", headers={"Retry-After": "5"}
        )
    return running


def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Caller:
    return request.app.state.auth.caller(authorization)


Svc = Annotated[Service, Depends(service)]
Who = Annotated[Caller, Depends(caller)]
