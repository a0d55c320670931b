"""A real two-node Ray cluster on this machine (a head and a second worker node, each offering
two sandbox containers), for the tests of everything that runs on Ray.

The cluster is stopped by the process groups this fixture started (SIGTERM, then SIGKILL), not
by `ray stop`, which would also stop any other Ray cluster on the machine.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen.local_models.runtime import free_port

STARTED = "Ray runtime started"


def _ray_start(*args: str) -> subprocess.Popen[str]:
    ray = Path(sys.executable).with_name("ray")
    if not ray.exists():
        pytest.fail("Ray is missing: pip install -e '.[ray]' (make venv does)")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    command = [str(ray), "start", "--num-cpus=1", "--disable-usage-stats", "--block",
               f"--resources={json.dumps({'sandbox': 2})}", *args]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)  # fmt: skip


def _wait_started(process: subprocess.Popen[str], timeout: float = 180) -> None:
    ready = threading.Event()
    log: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line)
            if STARTED in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(timeout):
        raise AssertionError("a Ray node did not start:\n" + "".join(log[-20:]))


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop a node: its whole process group, gently and then for sure."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                process.wait(5)
                return
            time.sleep(0.2)


@pytest.fixture
def ray_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Two nodes on loopback with token authentication, the token of their own: Ray 2.5x
    turns token auth on by itself once ~/.ray/auth_token exists (any local `ray.init()`
    writes one), and a node then refuses another that was not told the token. Every process
    of the test (the nodes, the codegen under test) is given the mode and the token."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    temp_dir = tempfile.mkdtemp(prefix="rayb", dir="/tmp")  # Ray's socket paths must be short
    token = Path(temp_dir) / "auth_token"
    token.write_text(secrets.token_hex(32))
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(token))
    nodes: list[subprocess.Popen[str]] = []
    try:
        head = ["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp_dir}"]
        nodes.append(_ray_start(*head, "--node-ip-address=127.0.0.1"))
        _wait_started(nodes[0])
        nodes.append(_ray_start(f"--address={address}", "--node-ip-address=127.0.0.1"))
        _wait_started(nodes[1])
        yield address
    finally:
        for node in reversed(nodes):
            _stop(node)
        shutil.rmtree(temp_dir, ignore_errors=True)
