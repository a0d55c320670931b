"""Start the warm parts first (so that a missing Docker is one clear line, exit 3), then serve
HTTP with uvicorn on the same event loop until SIGINT or SIGTERM."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import uvicorn

from codegen.service.app import ServiceOptions, create_app, warm_for
from codegen.settings import load_settings


async def run_service(
    options: ServiceOptions, host: str, port: int, say: Callable[[str], None]
) -> None:
    warm = options.warm or warm_for(load_settings(options.config_file))
    await warm.start()
    try:
        app = create_app(replace(options, warm=warm))
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        say(f"codegen: serving on http://{host}:{port} (API at /v1, docs at /docs)")
        await server.serve()
    finally:
        await warm.stop()
