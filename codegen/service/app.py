"""``codegen serve``: the HTTP service (FastAPI), versioned under ``/v1``, its schema at
``/docs``. It keeps warm what a cold ``codegen solve`` pays for every time (the sandbox pool,
litellm imported, the embedded model servers) and runs jobs for the CLI, the pre-commit hook,
the page at ``/`` and anyone else.

Security: loopback by default; any other address needs API tokens (:mod:`~codegen.service.
auth`): each token is a tenant that sees only its own jobs, and an optional admin token sees
them all. Request bodies and problems are bounded; each token has its own job limit; every
response carries a Content-Security-Policy and refuses framing; on loopback, only loopback
Host headers are answered, so that a web page cannot reach the service by DNS rebinding.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.middleware.trustedhost import TrustedHostMiddleware

from codegen.service.auth import Auth
from codegen.service.checks import ModelCheck
from codegen.service.context import Service
from codegen.service.fair import FairShare
from codegen.service.jobs import JobManager
from codegen.service.metrics import Metrics
from codegen.service.middleware import BodyLimit, SecurityHeaders
from codegen.service.projects import ProjectPolicy
from codegen.service.routes import jobs, site, submit
from codegen.service.store import JobStore
from codegen.service.work import Worker
from codegen.settings import SolveSettings, load_config, resolve
from codegen.solve.warm import Warm
from sandbox import SandboxBackend

DEFAULT_GRACE_S = 25.0  # SIGTERM: how long running jobs may take to finish (under k8s' 30 s)


@dataclass(frozen=True)
class ServiceOptions:
    db: Path
    config_file: Path | None = None
    max_running: int = 4
    max_pending: int = 32
    per_owner: int = 8
    tokens: tuple[str, ...] = ()
    admin_token: str | None = None
    grace_s: float = DEFAULT_GRACE_S
    allowed_hosts: tuple[str, ...] = ("*",)  # Host headers answered (DNS rebinding)
    warm: Warm | None = None  # built from the config when not given
    projects: ProjectPolicy = ProjectPolicy()  # server folders allowed, images built or not


def create_app(options: ServiceOptions) -> FastAPI:
    """The app, wired: what :func:`lifespan` starts and every route reads lives in ``app.state``
    (the routes are plain functions in :mod:`codegen.service.routes`)."""
    config = load_config(options.config_file)
    app = FastAPI(title="codegen", version="1", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.options = options
    app.state.config = config
    app.state.settings = resolve(config)
    app.state.ready = False
    app.state.service = None
    app.state.auth = Auth(options.tokens, options.admin_token)
    app.state.grace_s = options.grace_s
    app.add_middleware(BodyLimit)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(options.allowed_hosts))
    app.add_middleware(SecurityHeaders)  # the outermost: every answer carries the headers
    # starlette types a handler as taking any Exception; this one is registered for its subclass
    app.add_exception_handler(RequestValidationError, _malformed)  # type: ignore[arg-type]  # ^
    for module in (submit, jobs, site):
        app.include_router(module.router)
    site.add_docs(app)
    return app


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The running service (:class:`~codegen.service.context.Service`) for the app's life: its
    store, the warm sandbox and models, the job manager and the worker; stopped in reverse."""
    options: ServiceOptions = app.state.options
    settings: SolveSettings = app.state.settings
    store = JobStore(options.db)
    store.interrupt_unfinished()
    warm = options.warm or warm_for(settings)
    share = FairShare(settings.sandbox.workers)
    manager = JobManager(store, max_running=options.max_running,
                         max_pending=options.max_pending, per_owner=options.per_owner)  # fmt: skip
    await warm.start()
    metrics = Metrics(manager, share, known_models(settings, warm))
    manager.on_finished = metrics.finished
    worker = Worker(warm, app.state.config, share, options.projects)
    app.state.service = Service(store, manager, worker, metrics, warm, ModelCheck(warm.runtime),
                                settings)  # fmt: skip
    app.state.ready = True
    try:
        yield
    finally:
        app.state.ready = False
        await manager.stop()
        app.state.service = None
        if options.warm is None:
            await warm.stop()  # else it belongs to whoever lent it
        store.close()


def warm_for(settings: SolveSettings, sandbox: SandboxBackend | None = None) -> Warm:
    """The service's warm parts for its own config: the sandbox (the configured backend, or
    the one given), and the embedded models when its roster is the embedded default."""
    from codegen.local_models import LocalRuntime

    runtime = None
    if settings.roster_kind == "embedded":
        runtime = LocalRuntime(settings.local_models)
    return Warm(sandbox or settings.sandbox.open(settings.limits), runtime)


def known_models(settings: SolveSettings, warm: Warm) -> set[str]:
    """The models the service itself runs: the only ones /metrics names (a model a tenant
    names counts as ``other``)."""
    known = {worker.model for worker in settings.workers} | set(settings.local_models)
    if warm.runtime is not None:
        known |= {endpoint.litellm_model for endpoint in warm.runtime.endpoints}
    return known


async def _malformed(request: Request, error: RequestValidationError) -> JSONResponse:
    """422 with the first problem in one line (``field: what is wrong``), then all of them."""
    errors = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in error.errors()]
    first = errors[0] if errors else {"loc": (), "msg": "invalid", "type": ""}
    where = ".".join(str(part) for part in first["loc"] if part != "body")
    detail = f"{where}: {first['msg']}" if where else str(first["msg"])
    if first["type"] == "json_invalid":
        detail = f"the body is not valid JSON (at character {where or 0})"
    elif first["loc"] == ("body",) and first["type"] == "model_attributes_type":
        detail = "the body must be a JSON object, sent as Content-Type: application/json"
    return JSONResponse({"detail": detail, "errors": errors}, status_code=422)
