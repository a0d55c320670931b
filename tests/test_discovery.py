"""Finding a local `codegen serve` (codegen.service.discovery), without Docker: a real loopback
HTTP server stands for the service's /readyz, records are real files in a CODEGEN_HOME of the
test's own. End to end with a real `codegen serve`: tests/test_warm_default.py."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from codegen.service.discovery import (
    NO_SERVER_ENV,
    ServerRecord,
    advertise,
    config_key,
    discover,
    local_server,
    servers_dir,
    withdraw,
)


class _Ready(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.send_response(self.status if self.path == "/readyz" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CODEGEN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(NO_SERVER_ENV, raising=False)
    return tmp_path / "home"


@pytest.fixture
def ready() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ready)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _record(url: str, pid: int, config: str | None = None, started: float = 1.0) -> ServerRecord:
    return ServerRecord(url=url, pid=pid, config=config, started=started)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


def test_a_live_ready_service_with_the_same_config_is_found(home: Path, ready: str) -> None:
    path = advertise(_record(ready, os.getpid(), config="/p/codegen.toml"))
    assert path.parent == servers_dir() and (path.stat().st_mode & 0o777) == 0o600
    assert discover("/p/codegen.toml") == _record(ready, os.getpid(), config="/p/codegen.toml")
    assert discover(None) is None  # another config: the answer could differ
    assert discover("/q/codegen.toml") is None
    withdraw(path)
    assert discover("/p/codegen.toml") is None


def test_a_dead_service_is_not_used_and_its_record_is_removed(home: Path, ready: str) -> None:
    path = advertise(_record(ready, _dead_pid()))
    assert discover(None) is None and not path.exists()


def test_a_service_that_does_not_answer_ready_is_skipped(home: Path, ready: str) -> None:
    advertise(_record("http://127.0.0.1:9", os.getpid()))  # alive process, nothing listening
    assert discover(None) is None
    _Ready.status = 503  # draining
    try:
        advertise(_record(ready, os.getpid()))
        assert discover(None) is None
    finally:
        _Ready.status = 200
    assert discover(None) is not None


def test_no_server_strict_and_the_environment_keep_the_run_here(
    home: Path, ready: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "codegen.toml"
    config.write_text("samples = 1\n")
    advertise(_record(ready, os.getpid(), config=config_key(config)))
    assert local_server(config, None, no_server=False) is not None
    assert local_server(config, None, no_server=True) is None
    assert local_server(config, "strict", no_server=False) is None
    monkeypatch.setenv(NO_SERVER_ENV, "1")
    assert local_server(config, None, no_server=False) is None


def test_the_config_key_is_the_file_a_local_run_reads(tmp_path: Path) -> None:
    (tmp_path / "codegen.toml").write_text("samples = 1\n")
    (tmp_path / "sub").mkdir()
    assert config_key(None, tmp_path / "sub") == str((tmp_path / "codegen.toml").resolve())
    assert config_key(tmp_path / "codegen.toml") == config_key(None, tmp_path)


def test_garbage_in_the_folder_is_ignored(home: Path, ready: str) -> None:
    servers_dir().mkdir(parents=True)
    (servers_dir() / "1.json").write_text("{not json")
    (servers_dir() / "2.json").write_text('{"url": 3}')
    assert discover(None) is None
