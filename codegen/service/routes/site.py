"""What is not a job: the page at ``/`` (its script and style are files of their own, so that
the page's Content-Security-Policy allows no inline script), ``/docs`` with Swagger UI's assets
served from the ``fastapi-offline`` package (no CDN), health and readiness, the models, and
the metrics (counts only: no job contents)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from codegen.service.context import Svc, Who
from codegen.solve.session import request_plan, roster_plan

router = APIRouter()
ASSETS = {
    "page.js": "text/javascript",  # the jobs, their events, the report
    "page-sse.js": "text/javascript",  # the event-stream parser
    "page-form.js": "text/javascript",  # the form
    "page.css": "text/css",
}
DOCS_ASSETS = "/docs-assets"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page() -> HTMLResponse:
    return HTMLResponse(_asset("page.html"), headers={"Cache-Control": "no-cache"})


@router.get("/assets/{name}", include_in_schema=False)
async def asset(name: str) -> Response:
    if name not in ASSETS:
        return JSONResponse({"detail": "not found"}, status_code=404)
    return Response(_asset(name), media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive (answers even while the service is busy)."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready for jobs: started, and not draining."""
    ready = bool(getattr(request.app.state, "ready", False))
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503)


@router.get("/v1/models")
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
    plan = request_plan(svc.settings)
    return {
        "roster": roster_plan(svc.settings),
        "models": svc.worker.models_of(svc.settings),
        "personas": list(svc.settings.personas),
        "requests": plan.model_dump(),
        "describe": plan.describe(),
        "embedded": embedded,
    }


@router.get("/metrics")
async def metrics(who: Who, svc: Svc) -> Response:
    return Response(svc.metrics.text(), media_type="text/plain; version=0.0.4")


def add_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the package's own copy of its assets, with a CSP that
    allows exactly its one inline script (by hash)."""
    static = Path(fastapi_offline.__file__).parent / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=static), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
        )
        body = bytes(html.body).decode()
        hashes = " ".join(f"'sha256-{_digest(script)}'" for script in INLINE_SCRIPT.findall(body))
        policy = (
            f"default-src 'none'; script-src 'self' {hashes}; style-src 'self'; "
            "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'none'"
        )
        return HTMLResponse(body, headers={"Content-Security-Policy": policy})


def _digest(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


def _asset(name: str) -> str:
    return resources.files("codegen.service").joinpath(name).read_text("utf-8")


def _answers(api_base: str) -> bool:
    """Whether an OpenAI-compatible server lists its models within a second."""
    try:
        with urllib.request.urlopen(f"{api_base}/models", timeout=1.0) as response:
            return response.status == 200
    except OSError:
        return False
