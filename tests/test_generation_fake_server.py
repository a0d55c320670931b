"""The scripted fake OpenAI server itself, spoken to with plain HTTP (no litellm)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from codegen.testing import FakeOpenAIServer, Reply, Script


def _chat(base_url: str, model: str) -> tuple[int, dict[str, str], str]:
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi there"}]})
    request = urllib.request.Request(
        f"{base_url}/chat/completions",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_replies_are_consumed_in_order_and_the_last_repeats() -> None:
    script = {
        "models": {"m": [{"status": 429, "headers": {"Retry-After": "7"}}, {"content": "ok"}]}
    }
    with FakeOpenAIServer(script) as server:
        status, headers, _ = _chat(server.base_url, "m")
        assert (status, headers.get("Retry-After")) == (429, "7")
        for _ in range(2):
            status, _, body = _chat(server.base_url, "m")
            assert status == 200
            reply = json.loads(body)
            assert reply["choices"][0]["message"]["content"] == "ok"
            assert reply["usage"]["prompt_tokens"] == 2  # "hi there"
        assert [r["body"]["model"] for r in server.requests] == ["m", "m", "m"]


def test_unscripted_models_get_the_default_or_a_404() -> None:
    with FakeOpenAIServer({"models": {}, "default": {"content": "fallback"}}) as server:
        assert "fallback" in _chat(server.base_url, "anything")[2]
    with FakeOpenAIServer({"models": {}}) as server:
        status, _, body = _chat(server.base_url, "anything")
        assert status == 404 and "not scripted" in body


def test_raw_bodies_and_callables() -> None:
    def echo(request: dict[str, Any]) -> Reply:
        return Reply(content=request["messages"][0]["content"].upper())

    with FakeOpenAIServer(Script({"raw": [{"body": "{nope"}], "echo": echo})) as server:
        assert _chat(server.base_url, "raw")[2] == "{nope"
        assert "HI THERE" in _chat(server.base_url, "echo")[2]


def test_an_empty_reply_list_is_refused() -> None:
    with pytest.raises(ValueError, match="has no replies"):
        Script({"m": []})


def test_standalone_process_prints_its_url_logs_requests_and_stops(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"models": {"m": [{"content": "from a file"}]}}))
    log = tmp_path / "requests.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "codegen.testing.fake_openai", "--port", "0",
         "--script", str(script), "--log", str(log)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        assert "from a file" in _chat(base_url, "m")[2]
        (logged,) = [json.loads(line) for line in log.read_text().splitlines()]
        assert logged["body"]["model"] == "m"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
