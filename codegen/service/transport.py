"""The few HTTP calls a service client makes (JSON requests and one event stream), on the
standard library's `http.client`.

Why not httpx, which the service's own checks use: importing it (httpcore, h11, its TLS set-up
and its command-line interface, which brings rich and pygments) takes 0.1-0.2 s, and a warm
`codegen solve` has one second for everything that is not the models' own latency. A client
sends a request or two per run, one connection each, so nothing httpx adds (pooling, HTTP/2,
async) would be used here.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


class TransportError(Exception):
    """The service could not be reached, or the connection broke."""


@dataclass
class Response:
    status_code: int
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case
    content: bytes = b""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON (ValueError when it is not)."""
        return json.loads(self.content)


class Transport:
    """Requests to one base URL (http or https), each on a connection of its own."""

    def __init__(
        self, base_url: str, headers: Mapping[str, str] | None = None, timeout: float = 30.0
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"not an http(s) URL: {base_url!r}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.headers = dict(headers or {})
        self.timeout = timeout

    def request(
        self, method: str, path: str, *, json_body: Any = None, timeout: float | None = None
    ) -> Response:
        connection, answer = self._send(method, path, json_body, timeout or self.timeout)
        try:
            content = answer.read()
        except (OSError, http.client.HTTPException) as error:
            raise TransportError(_describe(error)) from None
        finally:
            connection.close()
        return Response(answer.status, _headers(answer), content)

    def stream_lines(self, path: str) -> Iterator[str | Response]:
        """A GET whose body is read line by line, with no time limit between lines (an event
        stream). An error status is yielded whole, as a :class:`Response`, and ends it."""
        connection, answer = self._send("GET", path, None, self.timeout)
        if connection.sock is not None:
            connection.sock.settimeout(None)  # the events come when the work makes them
        try:
            if answer.status >= 400:
                yield Response(answer.status, _headers(answer), answer.read())
                return
            for raw in answer:
                yield raw.decode("utf-8", "replace").rstrip("\r\n")
        except (OSError, http.client.HTTPException) as error:
            raise TransportError(_describe(error)) from None
        finally:
            connection.close()

    def _send(
        self, method: str, path: str, json_body: Any, timeout: float
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        connection = kind(self.host, self.port, timeout=timeout)
        headers = {**self.headers, "Accept": "application/json"}
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, self.prefix + path, body=body, headers=headers)
            answer = connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise TransportError(_describe(error)) from None
        return connection, answer


def _headers(answer: http.client.HTTPResponse) -> dict[str, str]:
    return {name.lower(): value for name, value in answer.getheaders()}


def _describe(error: BaseException) -> str:
    if isinstance(error, socket.timeout | TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__
