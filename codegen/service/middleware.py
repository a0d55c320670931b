"""What every request and response goes through (plain ASGI, so it also covers the event
streams): the body bounded, and the headers that keep a browser from framing or mis-reading
the page and the API.

- **Body limit.** A body over ``MAX_BODY`` bytes is a 413, whether it declares its length or
  arrives chunked. The body is read whole (bounded) before the route sees it, so nothing half-
  parses; the rest of an oversized body is read and dropped (up to ``DRAIN_LIMIT``) so that the
  client, still sending, reads the 413 instead of a reset connection.
- **Security headers.** A Content-Security-Policy (no inline script, nothing from elsewhere;
  a route may set its own), ``X-Frame-Options: DENY``, ``nosniff`` and no referrer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

MAX_BODY = 4 << 20  # bytes of one request
DRAIN_LIMIT = 64 << 20  # bytes of an oversized body read and dropped before the 413

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Message, Receive, Send], Awaitable[None]]


class BodyLimit:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > DRAIN_LIMIT:
            return await _too_large(send)
        body, seen = bytearray(), 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen <= MAX_BODY:
                body += chunk  # past the limit only the count is kept
            if seen > DRAIN_LIMIT or not message.get("more_body", False):
                break
        if seen > MAX_BODY:
            return await _too_large(send)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # what comes after the body: a disconnect
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(send: Send) -> None:
    body = json.dumps({"detail": f"the request body is over {MAX_BODY} bytes"}).encode()
    headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
