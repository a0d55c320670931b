"""Start the warm parts first (so that a missing Docker is one clear line, exit 3), then serve
HTTP with uvicorn on the same event loop until SIGINT or SIGTERM.

Once listening, it leaves a record for local clients (:mod:`~codegen.service.discovery`), and
removes it when it stops. The first signal drains (:meth:`JobManager.drain`): no new job, the
running ones get the grace period, the rest end ``interrupted`` (reason ``shutdown``), and every
follower gets its ``end`` event before the server stops listening. A second signal stops at
once (the jobs still end ``interrupted``)."""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType

import uvicorn
from fastapi import FastAPI

from codegen.service.app import ServiceOptions, create_app, warm_for
from codegen.service.discovery import ServerRecord, advertise, config_key, record_for, withdraw
from codegen.settings import load_settings

FLUSH_S = 5.0  # how long the followers' streams get to send their `end` events


async def run_service(
    options: ServiceOptions, host: str, port: int, say: Callable[[str], None]
) -> None:
    warm = options.warm or warm_for(load_settings(options.config_file))
    local_token = None
    if options.tokens or options.admin_token:  # local clients get a tenant token of their own
        local_token = secrets.token_urlsafe(24)
        options = replace(options, tokens=(*options.tokens, local_token))
    await warm.start()
    try:
        app = create_app(replace(options, warm=warm))
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                timeout_graceful_shutdown=int(FLUSH_S))  # fmt: skip
        server = DrainingServer(config, app, options.grace_s, say)
        server.record = lambda bound: record_for(  # found by local clients (discovery)
            f"http://{_local(host)}:{bound}", local_token, config_key(options.config_file)
        )
        say(f"codegen: serving on http://{host}:{port} (API at /v1, docs at /docs)")
        try:
            await server.serve()
        finally:
            if server.advertised is not None:
                withdraw(server.advertised)
    finally:
        await warm.stop()


def _local(host: str) -> str:
    """How a client on this machine reaches an address the service listens on."""
    if host in ("0.0.0.0", "", "localhost"):
        return "127.0.0.1"
    if host in ("::", "::1", "[::1]"):
        return "[::1]"
    return host if ":" not in host else f"[{host}]"


class DrainingServer(uvicorn.Server):
    """uvicorn, whose first SIGTERM or SIGINT drains the jobs before the server stops."""

    def __init__(
        self, config: uvicorn.Config, app: FastAPI, grace_s: float, say: Callable[[str], None]
    ) -> None:
        super().__init__(config)
        self.app = app
        self.grace_s = grace_s
        self.say = say
        self.loop: asyncio.AbstractEventLoop | None = None
        self.draining: asyncio.Task[None] | None = None
        self.record: Callable[[int], ServerRecord] | None = None
        self.advertised: Path | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Once listening, say where (on the port actually bound) to local clients."""
        await super().startup(sockets)
        if self.started and self.record is not None and self.servers:
            bound = self.servers[0].sockets[0].getsockname()[1]
            self.advertised = advertise(self.record(bound))

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        service = getattr(self.app.state, "service", None)
        if self.draining is not None or service is None or self.loop is None:
            super().handle_exit(sig, frame)  # a second signal, or nothing to drain: stop now
            return
        self.loop.call_soon_threadsafe(self._start_draining)

    def _start_draining(self) -> None:
        if self.draining is None:
            self.draining = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        service = self.app.state.service
        self.app.state.ready = False
        live = len(service.jobs.live)
        if live:
            self.say(f"codegen: stopping; {live} job(s) get {self.grace_s:g} s to finish "
                     "(signal again to stop now)")  # fmt: skip
        await service.jobs.drain(self.grace_s)
        end = time.monotonic() + FLUSH_S
        while service.streams and time.monotonic() < end:
            await asyncio.sleep(0.05)  # the followers' last events go out
        self.should_exit = True
