"""Serve the embedded models on loopback so that parallel generation is real.

The runtime starts *several* llama.cpp server processes per model ("slots"), splitting the
machine's cores between them, one thread each by default; the fan-out then sends one request to
each slot at once (per-endpoint concurrency 1). One-thread slots keep their pace on a loaded
machine, where threads that wait on each other do not. Servers listen on free
loopback ports, are health-checked before use, and are stopped on exit: by the context
manager, by an atexit hook, on SIGTERM/SIGHUP, and by the kernel (PR_SET_PDEATHSIG) if this
process dies without cleaning up.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

from codegen.errors import EnvironmentProblem
from codegen.local_models.assemble import gguf_path, is_assembled, lookup
from codegen.local_models.catalog import DEFAULT_MODEL, LocalModel
from codegen.local_models.engine import (
    ENGINE,
    SERVER_SCRIPT,
    engine_home,
    engine_installed,
    engine_python,
)
from codegen.paths import cache_root

LOOPBACK = "127.0.0.1"
STOP_GRACE_S = 0.5
_PR_SET_PDEATHSIG = 1

ServerCommand = Callable[[Path, str, int, int, int], list[str]]  # (gguf, alias, port, threads, ctx)


@dataclass(frozen=True)
class Endpoint:
    """One running server: `api_base` for litellm as `openai/<alias>`."""

    model: LocalModel
    alias: str
    port: int
    threads: int

    @property
    def api_base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/v1"

    @property
    def litellm_model(self) -> str:
        return f"openai/{self.alias}"


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def slots_per_model(models: int, cores: int | None = None) -> int:
    """Servers started per model: the usable cores shared between the models, at least one."""
    return max(1, (cores or usable_cores()) // max(1, models))


def server_command(model_path: Path, alias: str, port: int, threads: int, n_ctx: int) -> list[str]:
    """llama.cpp's server for one model on one port, run by the engine's environment."""
    return [
        str(engine_python() or sys.executable), str(SERVER_SCRIPT),
        "--model", str(model_path),
        "--alias", alias,
        "--host", LOOPBACK,
        "--port", str(port),
        "--threads", str(threads),
        "--ctx", str(n_ctx),
    ]  # fmt: skip


class LocalRuntime:
    """Context manager: start `slots` servers per model, yield their endpoints, stop them all.

    `slots` defaults to the number of usable cores (one thread each), the layout measured
    fastest for several concurrent candidates on a small machine; `slots=1` gives the classic
    single server using every core.
    """

    def __init__(
        self,
        models: Sequence[str] = (DEFAULT_MODEL,),
        *,
        slots: int | None = None,
        threads_per_slot: int | None = None,
        n_ctx: int = 4096,
        startup_timeout_s: float = 180.0,
        log_dir: Path | None = None,
        command: ServerCommand | None = None,
    ) -> None:
        self.models = [lookup(name) for name in models]
        self.command = command or server_command
        per_model_cores = slots_per_model(len(self.models))
        self.slots = slots or per_model_cores
        self.threads = threads_per_slot or max(1, per_model_cores // self.slots)
        self.n_ctx = n_ctx
        self.startup_timeout_s = startup_timeout_s
        self.log_dir = Path(log_dir) if log_dir else cache_root() / "logs"
        self.endpoints: list[Endpoint] = []
        self._processes: list[subprocess.Popen[bytes]] = []
        self._stopped = False
        self._lock = threading.Lock()
        self._previous_handlers: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._stopped = False
        if self.command is server_command:
            self._preflight()
        atexit.register(self.stop)
        self._install_signal_handlers()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            pending = [
                self._spawn(model, slot) for model in self.models for slot in range(self.slots)
            ]
            deadline = time.monotonic() + self.startup_timeout_s
            for endpoint, process, log in pending:
                self._wait_healthy(endpoint, process, log, deadline)
                self.endpoints.append(endpoint)
        except BaseException:
            self.stop()
            raise

    def _preflight(self) -> None:
        if not engine_installed():
            raise EnvironmentProblem(
                f"the local engine {ENGINE} is not installed for this user (looked in "
                f"{engine_home()}): run `codegen models pull` once, from any codegen install"
            )
        for model in self.models:
            if not is_assembled(model):
                raise EnvironmentProblem(
                    f"local model {model.name} is not pulled: "
                    f"run `codegen models pull --model {model.name}`"
                )

    def stop(self) -> None:
        """Terminate every server, then kill those still up after STOP_GRACE_S (a server
        finishes the reply it is writing before it exits, and nothing it holds is worth the
        wait: Ctrl-C must end the run within two seconds); safe to call twice, and a server
        still starting when it is called is stopped as it comes up."""
        with self._lock:
            self._stopped = True
            processes, self._processes = self._processes, []
        for process in processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for process in processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.endpoints = []
        self._restore_signal_handlers()
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes]

    def _spawn(
        self, model: LocalModel, slot: int
    ) -> tuple[Endpoint, subprocess.Popen[bytes], Path]:
        port = free_port()
        endpoint = Endpoint(model=model, alias=model.name, port=port, threads=self.threads)
        command = self.command(gguf_path(model), endpoint.alias, port, self.threads, self.n_ctx)
        log = self.log_dir / f"{model.name}-slot{slot}.log"
        with log.open("wb") as sink:
            process = _spawner().submit(_popen, command, sink).result()
        with self._lock:
            stopped = self._stopped
            if not stopped:
                self._processes.append(process)
        if stopped:  # stop() ran meanwhile (Ctrl-C while starting): this one goes too
            process.kill()
            process.wait(timeout=5)
            raise EnvironmentProblem("the local model servers were stopped while starting")
        return endpoint, process, log

    def _wait_healthy(
        self, endpoint: Endpoint, process: subprocess.Popen[bytes], log: Path, deadline: float
    ) -> None:
        url = f"{endpoint.api_base}/models"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise EnvironmentProblem(
                    f"local server for {endpoint.model.name} exited with {process.returncode}: "
                    f"{_last_line(log)} (log: {log})"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise EnvironmentProblem(
            f"local server for {endpoint.model.name} not ready after "
            f"{self.startup_timeout_s:g}s (log: {log})"
        )

    def _install_signal_handlers(self) -> None:
        """Turn SIGTERM/SIGHUP into SystemExit so `with` blocks and atexit run (main thread only;
        SIGINT already raises KeyboardInterrupt)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                self._previous_handlers[sig] = signal.signal(sig, _exit_on_signal)

    def _restore_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, handler in self._previous_handlers.items():
            # None: the handler was not Python's (signal.signal cannot restore that; default)
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        self._previous_handlers = {}


_SPAWNER: concurrent.futures.ThreadPoolExecutor | None = None


def _spawner() -> concurrent.futures.ThreadPoolExecutor:
    """One thread that lives as long as the interpreter: PR_SET_PDEATHSIG fires when the
    *thread* that forked the child ends, so servers must not be forked from a short-lived one
    (such as an `asyncio.to_thread` worker)."""
    global _SPAWNER
    if _SPAWNER is None:
        _SPAWNER = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="codegen-spawner")
    return _SPAWNER


def _popen(command: list[str], sink: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=sink,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - only sets PDEATHSIG
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends SIGTERM if the parent dies first."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _last_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:200] if lines else "no output"
