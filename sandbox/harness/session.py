"""A job's view of its candidates: which one is live, the test deadline, and what they cost.

Tests import ``solution`` and get a proxy module whose functions forward every call to the live
candidate process. The session respawns a candidate after a crash and gives each timing round a
fresh process, so a cache built in one round cannot make the next look instant.
"""

from __future__ import annotations

import time
import types
from typing import Any

from . import server
from .processes import CandidateProcess, ServerLink, Streams

MUTABLE = (list, dict, set, bytearray)


class Session:
    def __init__(self, link: ServerLink, sources: dict[str, str], limits: dict) -> None:
        self.link = link
        self.sources = sources
        self.limits = limits
        self.streams = Streams(limits["output_bytes"])
        self.job_deadline = time.monotonic() + limits["wall_seconds"] - 1.0
        self.test_deadline = self.job_deadline
        self.current_id = next(iter(sources))
        self.process: CandidateProcess | None = None
        self.timing = False
        self.meter: list[float] | None = None
        self.peak_rss_kb = 0
        self.cpu_seconds = 0.0

    # -- lifecycle ------------------------------------------------------------------------
    def start_test(self) -> None:
        self.test_deadline = min(self.job_deadline, time.monotonic() + self.limits["test_seconds"])

    def deadline(self) -> float:
        return min(self.test_deadline, self.job_deadline)

    def live(self) -> CandidateProcess:
        if self.process is None or not self.process.alive:
            self._account()
            self.process = CandidateProcess.start(
                self.link,
                self.sources[self.current_id],
                self.limits,
                self.streams,
                self.deadline(),
            )
        return self.process

    def fresh(self, candidate_id: str) -> None:
        """End the live process, wipe what it wrote, and switch to `candidate_id`."""
        self.stop()
        server.wipe_writable()
        self.current_id = candidate_id
        self.live()

    def stop(self) -> None:
        if self.process is not None and self.process.alive:
            self.process.finish()
        self._account()

    def _account(self) -> None:
        if self.process is not None and self.process.usage is not None:
            self.peak_rss_kb = max(self.peak_rss_kb, self.process.usage.get("maxrss_kb", 0))
            self.cpu_seconds += self.process.usage.get("cpu", 0.0)
            self.process.usage = None

    # -- calls ----------------------------------------------------------------------------
    def call(self, name: str, args: tuple, kwargs: dict) -> Any:
        # The request looks the same whether or not this is a timing round: a candidate must not
        # be able to tell when it is being timed.
        want_args = any(isinstance(a, MUTABLE) for a in args)
        value, mutated = self.live().call(
            name, args, kwargs, self.deadline(), want_args, self.meter
        )
        if mutated is not None and not self.timing:
            copy_back(args, mutated)
        return value

    def proxy_module(self) -> types.ModuleType:
        """The ``solution`` module tests import before any candidate runs: every public name is a
        proxy; :meth:`bind_constants` later swaps in the candidate's plain-data constants."""
        module = types.ModuleType("solution")
        module.__file__ = "solution.py"

        def __getattr__(name: str) -> ProxyFunction:
            if name.startswith("__"):
                raise AttributeError(name)
            proxy = ProxyFunction(self, name)
            setattr(module, name, proxy)
            return proxy

        module.__getattr__ = __getattr__  # type: ignore[attr-defined]
        return module

    def bind_constants(self, process: CandidateProcess, modules: list[types.ModuleType]) -> None:
        for module in modules:
            for name, value in list(vars(module).items()):
                if isinstance(value, ProxyFunction) and value.__name__ in process.constants:
                    setattr(module, name, process.constants[value.__name__])


class ProxyFunction:
    """Stands for a candidate's function in the trusted harness."""

    def __init__(self, session: Session, name: str) -> None:
        self._session = session
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<candidate function {self.__name__}>"


def copy_back(args: tuple, mutated: list) -> None:
    """Apply the candidate's in-place changes to list, dict, set and bytearray arguments."""
    for original, changed in zip(args, mutated, strict=False):
        if isinstance(original, (list, bytearray)) and isinstance(changed, (list, bytearray)):
            original[:] = changed
        elif (
            isinstance(original, dict)
            and isinstance(changed, dict)
            or isinstance(original, set)
            and isinstance(changed, set)
        ):
            original.clear()
            original.update(changed)
