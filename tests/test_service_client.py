"""The service's client over a real loopback HTTP server that answers what a service might:
busy (429 with Retry-After), no token (401), a refused request (422), an event stream cut into
lines and events, a stream that fails, and nothing listening at all."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from codegen.errors import BadInput, EnvironmentProblem
from codegen.overrides import Overrides
from codegen.problems import load_problem
from codegen.service.client import ServiceClient
from tests.cli_support import ROOT

Answer = tuple[int, dict[str, str], bytes]


class ScriptedServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Scripted)
        self.script: dict[tuple[str, str], list[Answer]] = {}
        self.seen: list[tuple[str, str, str | None, bytes]] = []

    def answers(self, method: str, path: str, *answers: Answer) -> None:
        self.script[(method, path)] = list(answers)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Scripted(BaseHTTPRequestHandler):
    """Answers each (method, path) from the server's script, in order; records every request."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server = self.server
        assert isinstance(server, ScriptedServer)
        server.seen.append((self.command, self.path, self.headers.get("Authorization"), body))
        queue = server.script.get((self.command, self.path), [])
        status, headers, content = queue.pop(0) if queue else (404, {}, b'{"detail": "none"}')
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    httpd = ScriptedServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def json_answer(status: int, data: object, **headers: str) -> Answer:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(data).encode()


def test_a_busy_service_is_asked_again_after_its_retry_after(server: ScriptedServer) -> None:
    busy = json_answer(429, {"detail": "full"}, **{"Retry-After": "0"})
    server.answers("POST", "/v1/solve", busy, busy, json_answer(202, {"id": "j9"}))
    problem = load_problem(str(ROOT / "examples" / "two_sum"))
    with ServiceClient(server.url, token="secret") as client:
        assert client.submit_solve(problem, Overrides(samples=2)) == "j9"
    assert len(server.seen) == 3
    method, path, auth, body = server.seen[-1]
    sent = json.loads(body)
    assert (auth, sent["problem"]["entry_point"], sent["samples"]) == (
        "Bearer secret",
        "two_sum",
        2,
    )


def test_refusals_are_one_line_errors_of_the_right_kind(server: ScriptedServer) -> None:
    server.answers("GET", "/v1/jobs/a", json_answer(401, {"detail": "token"}))
    server.answers("GET", "/v1/jobs/b", json_answer(422, {"detail": "no entry point"}))
    server.answers("GET", "/v1/jobs/c", (500, {}, b"<html>oops</html>"))
    with ServiceClient(server.url) as client:
        with pytest.raises(EnvironmentProblem, match="wants an API token: set CODEGEN_API_TOKEN"):
            client.job("a")
        with pytest.raises(BadInput, match="refused the request: no entry point"):
            client.job("b")
        with pytest.raises(EnvironmentProblem, match="answered 500: <html>oops</html>"):
            client.job("c")


def test_the_event_stream_is_read_event_by_event_until_end(server: ScriptedServer) -> None:
    stream = (
        b": a comment line\r\n\r\n"
        b'data: {"type": "StageProgress",\r\ndata:  "stage": "generate", "message": "m"}\r\n\r\n'
        b'data: {"type": "end"}\n\n'
        b'data: {"type": "after the end"}\n\n'
    )
    server.answers("GET", "/v1/jobs/j/events", (200, {"Content-Type": "text/event-stream"}, stream))
    with ServiceClient(server.url) as client:
        events = list(client.events("j"))
    assert events == [
        {"type": "StageProgress", "stage": "generate", "message": "m"},
        {"type": "end"},
    ]


def test_a_stream_refused_is_an_error_not_an_empty_run(server: ScriptedServer) -> None:
    server.answers("GET", "/v1/jobs/gone/events", json_answer(409, {"detail": "no such job"}))
    with ServiceClient(server.url) as client, pytest.raises(BadInput, match="no such job"):
        list(client.events("gone"))


def test_nothing_listening_says_how_to_start_it() -> None:
    with (
        ServiceClient("http://127.0.0.1:9") as client,
        pytest.raises(EnvironmentProblem, match="cannot reach .* start it with `codegen serve`"),
    ):
        client.job("x")


def test_a_url_that_is_not_http_is_bad_input() -> None:
    with pytest.raises(BadInput, match="--server: not an http"):
        ServiceClient("ftp://example.org")
