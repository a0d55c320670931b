"""`codegen serve` as a real subprocess for the service's tests: started on a free loopback port
with its own job store and config, waited for until ready, stopped with SIGTERM (or killed with
SIGKILL when a test says so)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from codegen.local_models.runtime import free_port
from tests.cli_support import CODEGEN, cli_env

HOSTED_CONFIG = """\
personas = ["simplest"]

[[workers]]
model = "openai/coder"

[sandbox]
timing_rounds = 3
"""


class ServiceProcess:
    def __init__(
        self,
        folder: Path,
        model_url: str,
        *flags: str,
        env: dict[str, str] | None = None,
        config: str = HOSTED_CONFIG,
        grace_s: float = 3.0,
    ) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        (folder / "codegen.toml").write_text(config)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.flags = ("--grace", str(grace_s), *flags)
        self.env = cli_env({"OPENAI_API_BASE": model_url, "CODEGEN_HOME": str(folder / "home"),
                            **(env or {})})  # fmt: skip
        self.process: subprocess.Popen[str] | None = None
        self.log = folder / "serve.log"

    def start(self, timeout: float = 120) -> ServiceProcess:
        command = [*CODEGEN, "serve", "--port", str(self.port), *self.flags]
        output = self.log.open("a")
        self.process = subprocess.Popen(command, cwd=self.folder, env=self.env, text=True,
                                        stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"codegen serve exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"codegen serve not ready: {self.log.read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=30)

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the API --------------------------------------------------------------------------
    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def wait(self, job_id: str, timeout: float = 180, token: str | None = None) -> dict[str, Any]:
        """The job once it has ended."""
        end = time.monotonic() + timeout
        with self.client(token) as http:
            while time.monotonic() < end:
                view = http.get(f"/v1/jobs/{job_id}").json()
                if view["state"] not in ("queued", "running"):
                    return view
                time.sleep(0.2)
        raise AssertionError(f"job {job_id} still {view['state']} after {timeout}s")

    def events(self, job_id: str, token: str | None = None) -> list[dict[str, Any]]:
        """Every server-sent event of a job, until its `end` event."""
        found = []
        with (
            self.client(token) as http,
            http.stream("GET", f"/v1/jobs/{job_id}/events") as stream,
        ):
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    found.append(json.loads(line[5:]))
                    if found[-1]["type"] == "end":
                        break
        return found
