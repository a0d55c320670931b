"""A small, real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions API.

Tests drive litellm (or any OpenAI client) against it over real HTTP, so the client path that
production uses is the one under test. Replies are scripted per model name:

    script = {
        "models": {
            "fast": [{"content": "```python\\ndef f(): return 1\\n```", "delay_s": 0.2}],
            "flaky": [{"status": 429, "headers": {"Retry-After": "1"}}, {"content": "..."}],
            "down": [{"status": 500}],
            "stuck": [{"hang": true}],
            "garbled": [{"body": "{not json"}],
            "long": [{"status": 400, "error_code": "context_length_exceeded"}],
            "declines": [{"content": None, "refusal": "I can't help with that."}],
        },
        "default": {"content": "no script for this model"},
    }

Each model's list is consumed in order; its last reply then repeats, so ``[{"status": 500}]``
means "always 500". In-process, a model may instead map to a callable ``(request) -> Reply``.
A tester request (the prompt of :func:`codegen.generation.prompts.build_test_messages`) is
answered from ``"testers": {model: [...]}`` in the same way, and with no test case by default,
so that scripts written for the candidates stay in step.

    with FakeOpenAIServer(script) as server:
        server.base_url        # http://127.0.0.1:PORT/v1
        server.requests        # every received request, in arrival order

Standalone, for end-to-end tests in another process:

    python -m codegen.testing.fake_openai --port 0 --script FILE.json [--log REQUESTS.jsonl]

prints the base URL as its first stdout line and serves until SIGTERM or SIGINT; `--log`
appends every request as a JSON line, and `serve_until_signal` serves a custom `Script`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from codegen.generation.personas import TESTER_SYSTEM

LOOPBACK = "127.0.0.1"
HANG_LIMIT_S = 600.0  # a hung reply is released at shutdown, or after this long at the latest


class Reply(BaseModel):
    """One scripted answer. Default: HTTP 200 with an assistant message."""

    model_config = ConfigDict(extra="forbid")

    content: str | None = ""
    delay_s: float = 0.0
    status: int = 200
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None  # raw body, sent as is: for malformed JSON
    hang: bool = False  # never answer (until the server stops)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"
    refusal: str | None = None  # the assistant declined (OpenAI's `message.refusal`)
    error_code: str | None = None  # an error's `code`, e.g. "context_length_exceeded"


Responder = Callable[[dict[str, Any]], Reply]
ScriptEntry = list[Reply] | Responder


class Script:
    """Per-model reply queues; thread-safe, since the server answers on several threads."""

    def __init__(
        self,
        models: Mapping[str, list[Reply | dict[str, Any]] | Responder] | None = None,
        default: Reply | dict[str, Any] | None = None,
        testers: Mapping[str, list[Reply | dict[str, Any]] | Responder] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._models = _entries(models)
        self._testers = _entries(testers)
        self._default = Reply.model_validate(default) if default is not None else None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Script:
        return cls(
            models=data.get("models", {}), default=data.get("default"), testers=data.get("testers")
        )

    def next_reply(self, request: dict[str, Any]) -> Reply:
        model = str(request.get("model", ""))
        if is_tester_request(request):
            entry = self._testers.get(model)
            if entry is None:
                return Reply(content="No test cases.")
            return self._take(entry, request)
        entry = self._models.get(model)
        if entry is None:
            if self._default is not None:
                return self._default
            return Reply(status=404, body=_error_body(f"model {model!r} is not scripted", 404))
        return self._take(entry, request)

    def _take(self, entry: ScriptEntry, request: dict[str, Any]) -> Reply:
        if callable(entry):
            return entry(request)
        with self._lock:
            return entry.pop(0) if len(entry) > 1 else entry[0]


def _entries(
    script: Mapping[str, list[Reply | dict[str, Any]] | Responder] | None,
) -> dict[str, ScriptEntry]:
    entries: dict[str, ScriptEntry] = {}
    for name, entry in (script or {}).items():
        if callable(entry):
            entries[name] = entry
        else:
            replies = [Reply.model_validate(r) for r in entry]
            if not replies:
                raise ValueError(f"fake_openai script: model {name!r} has no replies")
            entries[name] = replies
    return entries


def is_tester_request(request: Mapping[str, Any]) -> bool:
    """A request made by the tester (its system prompt), not for a candidate."""
    messages = request.get("messages") or [{}]
    return bool(messages[0].get("content") == TESTER_SYSTEM)


def _error_body(message: str, status: int, code: str | None = None) -> str:
    kind = "rate_limit_error" if status == 429 else "server_error"
    error = {"message": message, "type": kind, "code": code or status}
    return json.dumps({"error": error})


def _completion_body(request: dict[str, Any], reply: Reply) -> str:
    prompt_text = " ".join(str(m.get("content", "")) for m in request.get("messages", []))
    prompt_tokens = reply.prompt_tokens
    if prompt_tokens is None:
        prompt_tokens = len(prompt_text.split())
    completion_tokens = reply.completion_tokens
    if completion_tokens is None:
        completion_tokens = len((reply.content or "").split())
    return json.dumps(
        {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": reply.content,
                        **({"refusal": reply.refusal} if reply.refusal else {}),
                    },
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: tests read `requests`, not a log."""

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            names = sorted(self.server.script._models)
            data = [{"id": n, "object": "model", "owned_by": "fake"} for n in names]
            self._send(200, json.dumps({"object": "list", "data": data}), {})
        elif self.path.rstrip("/") in ("/health", "/v1/health"):
            self._send(200, '{"status": "ok"}', {})
        else:
            self._send(404, _error_body(f"no route {self.path}", 404), {})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            request = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send(400, _error_body("request body is not JSON", 400), {})
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, _error_body(f"no route {self.path}", 404), {})
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.record(self.path, headers, request)
        reply = self.server.script.next_reply(request)
        if reply.hang:
            self.server.stopping.wait(HANG_LIMIT_S)
            return
        if reply.delay_s > 0 and self.server.stopping.wait(reply.delay_s):
            return
        if reply.body is not None:
            body = reply.body
        elif reply.status >= 400:
            body = _error_body(f"scripted HTTP {reply.status}", reply.status, reply.error_code)
        else:
            body = _completion_body(request, reply)
        self._send(reply.status, body, reply.headers)

    def _send(self, status: int, body: str, headers: Mapping[str, str]) -> None:
        payload = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its deadline passed): nothing to tell it


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # a fan-out connects all at once; the default 5 resets some

    def __init__(self, port: int, script: Script, log: Path | None = None) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.script = script
        self.stopping = threading.Event()
        self.requests: list[dict[str, Any]] = []
        self.log = log
        self._lock = threading.Lock()

    def record(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        entry = {"path": path, "headers": headers, "body": body, "at": time.monotonic(),
                 "tester": is_tester_request(body)}  # fmt: skip
        with self._lock:
            self.requests.append(entry)
            if self.log is not None:
                with self.log.open("a", encoding="utf-8") as sink:
                    sink.write(json.dumps(entry) + "\n")


class FakeOpenAIServer:
    """The server on a background thread; `base_url` ends in `/v1` as OpenAI clients expect."""

    def __init__(
        self,
        script: Script | Mapping[str, Any] | None = None,
        *,
        port: int = 0,
        log: Path | None = None,
    ) -> None:
        """`log`: also append every request as a JSON line, for readers in other processes."""
        if script is None:
            script = Script()
        elif not isinstance(script, Script):
            script = Script.from_json(script)
        self._server = _Server(port, script, log)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._server._lock:
            return list(self._server.requests)

    def requests_for(self, model: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["body"].get("model") == model]

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--script", type=Path, help="JSON file: {models: {...}, default: {...}}")
    parser.add_argument("--log", type=Path, help="append each received request as a JSON line")
    args = parser.parse_args(argv)
    data = json.loads(args.script.read_text()) if args.script else {}
    serve_until_signal(FakeOpenAIServer(Script.from_json(data), port=args.port, log=args.log))
    return 0


def serve_until_signal(server: FakeOpenAIServer) -> None:
    """Start, print the base URL as the first stdout line, serve until SIGTERM or SIGINT."""
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    server.start()
    print(server.base_url, flush=True)
    try:
        done.wait()
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
