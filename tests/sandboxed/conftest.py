"""One warm sandbox pool for the whole Docker test session, driven from a background event loop
so that plain (sync) tests can use it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest

from sandbox import Limits, RunJob, RunResult, Sandbox

FAST_LIMITS = Limits(wall_seconds=20, test_seconds=3, cpu_seconds=6)


class SandboxDriver:
    def __init__(self, workers: int = 2) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sandbox = Sandbox(workers=workers, limits=FAST_LIMITS)
        self.wait(self.sandbox.__aenter__())

    def wait(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def run(
        self, candidate: str, tests: str, entry: str = "solve", limits: Limits = FAST_LIMITS
    ) -> RunResult:
        job = RunJob(
            entry_point=entry,
            test_files={"test_problem.py": tests},
            candidate=candidate,
            limits=limits,
        )
        return self.wait(self.sandbox.run(job))

    def close(self) -> None:
        self.wait(self.sandbox.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="session")
def sandbox_driver() -> Iterator[SandboxDriver]:
    driver = SandboxDriver()
    yield driver
    driver.close()


@pytest.fixture(scope="session")
def lone_driver() -> Iterator[SandboxDriver]:
    """One test container (and the timing one): consecutive jobs meet in the same container."""
    driver = SandboxDriver(workers=1)
    yield driver
    driver.close()
