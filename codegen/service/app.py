"""``codegen serve``: the HTTP service (FastAPI), versioned under ``/v1``, its schema at
``/docs``. It keeps warm what a cold ``codegen solve`` pays for every time (the sandbox pool,
litellm imported, the embedded model servers) and runs jobs for the CLI, the pre-commit hook
and anyone else.

Security: loopback by default; any other address needs API tokens (``CODEGEN_API_TOKENS``,
comma-separated; bearer auth, compared in constant time, never logged: a job's owner is a hash
of its token). Request bodies and problems are bounded; each token has its own job limit.
"""

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sse_starlette.sse import EventSourceResponse

from codegen.errors import BadInput
from codegen.service.api import (
    Accepted,
    JobKind,
    JobView,
    ProblemInput,
    RankRequest,
    RunRequest,
    SolveRequest,
)
from codegen.service.fair import FairShare
from codegen.service.jobs import Conflict, Job, JobManager, Refused
from codegen.service.metrics import Metrics
from codegen.service.store import JobStore
from codegen.service.work import Worker, problem_of
from codegen.settings import SolveSettings, load_config, resolve
from codegen.solve.session import request_plan, roster_plan
from codegen.solve.warm import Warm
from sandbox import SandboxBackend

MAX_BODY = 4 << 20  # bytes of one request
TOKENS_ENV = "CODEGEN_API_TOKENS"
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class ServiceOptions:
    db: Path
    config_file: Path | None = None
    max_running: int = 4
    max_pending: int = 32
    per_owner: int = 8
    tokens: tuple[str, ...] = ()
    warm: Warm | None = None  # built from the config when not given


def tokens_from_env() -> tuple[str, ...]:
    return tuple(t.strip() for t in os.environ.get(TOKENS_ENV, "").split(",") if t.strip())


def create_app(options: ServiceOptions) -> FastAPI:
    config = load_config(options.config_file)
    settings = resolve(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = JobStore(options.db)
        store.interrupt_unfinished()
        warm = options.warm or warm_for(settings)
        share = FairShare(settings.sandbox.workers)
        jobs = JobManager(store, max_running=options.max_running,
                          max_pending=options.max_pending, per_owner=options.per_owner)  # fmt: skip
        metrics = Metrics(jobs, share)
        jobs.on_finished = metrics.finished
        app.state.service = _Service(store, jobs, Worker(warm, config, share), metrics, warm)
        await warm.start()
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready = False
            await jobs.stop()
            if options.warm is None:
                await warm.stop()  # else it belongs to whoever lent it
            store.close()

    app = FastAPI(title="codegen", version="1", lifespan=lifespan)
    app.state.ready = False
    app.add_middleware(_BodyLimit)
    owner = _owner_check(options.tokens)
    _routes(app, owner, settings)
    return app


@dataclass
class _Service:
    store: JobStore
    jobs: JobManager
    worker: Worker
    metrics: Metrics
    warm: Warm


def warm_for(settings: SolveSettings, sandbox: SandboxBackend | None = None) -> Warm:
    """The service's warm parts for its own config: the sandbox (the configured backend, or
    the one given), and the embedded models when its roster is the embedded default."""
    from codegen.local_models import LocalRuntime

    runtime = None
    if settings.roster_kind == "embedded":
        runtime = LocalRuntime(settings.local_models)
    return Warm(sandbox or settings.sandbox.open(settings.limits), runtime)


def _owner_check(tokens: tuple[str, ...]) -> Callable[..., str]:
    """The dependency naming the caller: a hash of its bearer token, or anonymous when the
    service has no tokens (loopback only)."""
    expected = [token.encode() for token in tokens]

    def owner(authorization: Annotated[str | None, Header()] = None) -> str:
        if not expected:
            return ANONYMOUS
        scheme, _, given = (authorization or "").partition(" ")
        matched = False
        for token in expected:  # every token compared, in constant time
            matched |= hmac.compare_digest(given.encode(), token)
        if scheme.lower() != "bearer" or not matched:
            raise HTTPException(401, "a valid API token is required: Authorization: Bearer …",
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        return hashlib.sha256(given.encode()).hexdigest()[:16]

    return owner


def _routes(app: FastAPI, owner: Callable[..., str], settings: Any) -> None:
    def service(request: Request) -> _Service:
        if not request.app.state.ready:
            raise HTTPException(503, "the service is starting or stopping")
        return request.app.state.service

    Who = Annotated[str, Depends(owner)]
    Svc = Annotated[_Service, Depends(service)]
    Key = Annotated[str | None, Header(alias="Idempotency-Key")]

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid"}
        where = ".".join(str(part) for part in first["loc"] if part != "body")
        detail = f"{where}: {first['msg']}" if where else str(first["msg"])
        errors = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in error.errors()]
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)

    async def submit(
        kind: JobKind,
        body: ProblemInput,
        work: Callable[[Job], Awaitable[dict[str, Any]]],
        problem: str,
        who: str,
        key: str | None,
        svc: _Service,
    ) -> JSONResponse:
        try:
            view, new = svc.jobs.submit(kind, body.model_dump_json(), problem, work, who, key)
        except Refused as refused:
            retry = {"Retry-After": str(refused.retry_after)}
            raise HTTPException(429, str(refused), headers=retry) from None
        except Conflict as conflict:
            raise HTTPException(409, str(conflict)) from None
        accepted = Accepted(id=view.id, state=view.state, status_url=f"/v1/jobs/{view.id}",
                            events_url=f"/v1/jobs/{view.id}/events")  # fmt: skip
        return JSONResponse(accepted.model_dump(mode="json"), status_code=202 if new else 200)

    def checked(build: Callable[[], Any]) -> Any:
        try:
            return build()
        except BadInput as error:
            raise HTTPException(422, str(error)) from None

    @app.post("/v1/solve", status_code=202, response_model=Accepted)
    async def post_solve(
        body: SolveRequest,
        who: Who,
        svc: Svc,
        key: Key = None,
    ) -> JSONResponse:
        """Generate, test, rank: the job's report is what `codegen solve --json` prints."""
        problem = checked(lambda: problem_of(body))
        job_settings = checked(lambda: svc.worker.settings_for(body))
        work = lambda job: svc.worker.solve(job, problem, job_settings)  # noqa: E731
        return await submit(JobKind.SOLVE, body, work, problem.name, who, key, svc)

    @app.post("/v1/rank", status_code=202, response_model=Accepted)
    async def post_rank(
        body: RankRequest,
        who: Who,
        svc: Svc,
        key: Key = None,
    ) -> JSONResponse:
        """Rank existing implementations, as `codegen rank --json` does."""
        problem = checked(lambda: problem_of(body))
        work = lambda job: svc.worker.rank(job, problem, body)  # noqa: E731
        return await submit(JobKind.RANK, body, work, problem.name, who, key, svc)

    @app.post("/v1/run", status_code=202, response_model=Accepted)
    async def post_run(
        body: RunRequest,
        who: Who,
        svc: Svc,
        key: Key = None,
    ) -> JSONResponse:
        """Each candidate against the visible tests: a verdict per candidate."""
        problem = checked(lambda: problem_of(body))
        work = lambda job: svc.worker.run(job, problem, body)  # noqa: E731
        return await submit(JobKind.RUN, body, work, problem.name, who, key, svc)

    @app.get("/v1/jobs", response_model=list[JobView])
    async def list_jobs(who: Who, svc: Svc) -> Any:
        live = {job.id: job.view for job in svc.jobs.live.values()}
        return [live.get(view.id, view) for view in svc.store.recent()]

    @app.get("/v1/jobs/{job_id}", response_model=JobView)
    async def get_job(job_id: str, who: Who, svc: Svc) -> Any:
        view = svc.jobs.view(job_id)
        if view is None:
            raise HTTPException(404, f"no job {job_id}")
        return view

    @app.get("/v1/jobs/{job_id}/events")
    async def job_events(job_id: str, who: Who, svc: Svc) -> EventSourceResponse:
        """Server-sent events: progress as it happens; the last one is `end`."""
        if svc.jobs.view(job_id) is None:
            raise HTTPException(404, f"no job {job_id}")

        async def stream() -> AsyncIterator[dict[str, str]]:
            async for event in svc.jobs.events(job_id):
                yield {"event": str(event["type"]), "data": json.dumps(event, default=str)}

        return EventSourceResponse(stream(), ping=10)

    @app.delete("/v1/jobs/{job_id}")
    async def cancel_job(job_id: str, who: Who, svc: Svc) -> Any:
        """Stop a queued or running job: its model calls stop, its sandbox work is released."""
        view = svc.jobs.view(job_id)
        if view is None:
            raise HTTPException(404, f"no job {job_id}")
        if not svc.jobs.cancel(job_id):
            raise HTTPException(409, f"job {job_id} is already {view.state}")
        return {"id": job_id, "cancelling": True}

    @app.get("/v1/models")
    async def models(who: Who, svc: Svc) -> Any:
        """The roster jobs get by default, how many requests it sends, and the health of the
        embedded model servers the service keeps running."""
        runtime = svc.warm.runtime
        endpoints = runtime.endpoints if runtime else []
        health = await asyncio.gather(*(asyncio.to_thread(_answers, e.api_base) for e in endpoints))
        embedded = [
            {"model": e.model.name, "api_base": e.api_base, "healthy": ok}
            for e, ok in zip(endpoints, health, strict=True)
        ]
        return {
            "roster": roster_plan(settings),
            "requests": request_plan(settings).model_dump(),
            "embedded": embedded,
        }

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        ready = bool(request.app.state.ready)
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.get("/metrics")
    async def metrics(who: Who, svc: Svc) -> Response:
        return Response(svc.metrics.text(), media_type="text/plain; version=0.0.4")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> str:
        return resources.files("codegen.service").joinpath("page.html").read_text("utf-8")


def _answers(api_base: str) -> bool:
    """Whether an OpenAI-compatible server lists its models within a second."""
    try:
        with urllib.request.urlopen(f"{api_base}/models", timeout=1.0) as response:
            return response.status == 200
    except OSError:
        return False


class _BodyLimit:
    """Refuse bodies over MAX_BODY (413), by Content-Length or as they stream in."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            return await _too_large(send)
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Callable) -> None:
    body = json.dumps({"detail": f"the request is over {MAX_BODY} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
