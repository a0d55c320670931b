"""A job's view of its candidates: which one is live, the test deadline, what they cost, and
what they answered.

Tests import ``solution`` and get a proxy module whose functions forward every call to the live
candidate process. The session respawns a candidate after a crash and gives each timing round a
fresh process in a container the server has put back to its pristine state, so nothing from one
round (a cache, a daemon, a file, an IPC object) can reach the next.

A round's cost is everything the container's CPU did from the moment the candidate's source is
handed over (its import and module-level work included) until the round's last answer, minus
what the harness and PID 1 did meanwhile: work a candidate hands to a child process counts.
A round's digest covers every value the candidate returned in it, in order.
"""

from __future__ import annotations

import base64
import pickle
import sys
import time
import types
from collections.abc import Callable
from typing import Any

from . import plaindata
from .processes import CandidateCrashed, CandidateProcess, ServerLink, Streams, cpu_outside


class JobBroken(BaseException):  # noqa: N818 - a BaseException so that test code cannot swallow it
    """The container could not be put back to its pristine state after ``culprit`` ran: the job
    stops here and the host replaces the container."""

    def __init__(self, culprit: str, reason: str) -> None:
        super().__init__(f"{culprit} left the sandbox dirty: {reason}")
        self.culprit = culprit


class Session:
    def __init__(
        self,
        link: ServerLink,
        sources: dict[str, str],
        limits: dict,
        module: dict | None = None,
        hypothesis: bool = False,
    ) -> None:
        self.link = link
        self.hypothesis = hypothesis  # processes forked with hypothesis imported (drawings)
        self.sources = sources
        self.limits = limits
        self.module = module  # every candidate of the job is this module of the project
        self.streams = Streams(limits["output_bytes"])
        self.job_deadline = time.monotonic() + limits["wall_seconds"] - 1.0
        self.test_deadline = self.job_deadline
        self.current_id = next(iter(sources))
        self.process: CandidateProcess | None = None
        self.timing = False
        self.meter: list[float] | None = None  # per-call CPU, for call jobs
        self.trace: list[tuple[str, str]] | None = None  # (exact, loose) digest per answer
        self.last_changes: list = []  # what the last call did to its arguments
        self.classes: dict[str, type] = {}  # stand-ins for the candidate's exception classes
        self.recorder: CallRecorder | None = None  # records a benchmark's calls, when set
        self.round_started = 0.0
        self.resets: list[float] = []  # seconds each clean-up between rounds took
        self.peak_rss_kb = 0
        self.cpu_seconds = 0.0

    # -- lifecycle ------------------------------------------------------------------------
    def start_test(self, seconds: float | None = None) -> None:
        seconds = self.limits["test_seconds"] if seconds is None else seconds
        self.test_deadline = min(self.job_deadline, time.monotonic() + seconds)

    def deadline(self) -> float:
        return min(self.test_deadline, self.job_deadline)

    def live(self, on_waiting: Callable[[], None] | None = None) -> CandidateProcess:
        if self.process is None or not self.process.alive:
            self._account()
            self.process = CandidateProcess.start(
                self.link, self.sources[self.current_id], self.limits, self.streams,
                self.deadline(), self.classes, self.module, on_waiting, self.hypothesis,
            )  # fmt: skip
        return self.process

    def fresh(self, candidate_id: str) -> None:
        """End the live process, have the server restore the pristine state (checked), then
        start `candidate_id` with the round's meter running from before its import."""
        started = time.perf_counter()
        if self.process is not None and self.process.alive:
            report = self.process.finish(reset=True)
            self._account()
        else:
            report = self.link.reset()
        self.resets.append(time.perf_counter() - started)
        if not report["clean"]:
            reason = "; ".join(report["leftovers"])[:300]
            if self.timing:
                raise JobBroken(self.current_id, reason)
            raise CandidateCrashed(f"could not clean up after the candidate: {reason}")
        self.current_id = candidate_id
        self.trace = []
        self.live(on_waiting=self._start_meter)

    def _start_meter(self) -> None:
        self.round_started = cpu_outside(0)

    def round_cost(self) -> float:
        """CPU seconds of the candidate since :meth:`fresh`, children and import included."""
        pid = self.process.pid if self.process is not None else 0
        return cpu_outside(pid) - self.round_started

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
        """Call the live candidate's ``name`` as if in this process (:mod:`wire`). The request
        is the same whether or not this is a timing round: a candidate must not be able to
        tell when it is being timed. In a round, the answer is digested at once and not kept."""
        if self.recorder is not None:
            self.recorder.record(name, args, kwargs)
        value, self.last_changes = self.live().call(name, args, kwargs, self.deadline(), self.meter)
        if self.trace is not None:
            self.trace.append((self.answer_digest(value), self.answer_digest(value, loose=True)))
        return value

    def answer_digest(self, value: Any, loose: bool = False) -> str:
        """The digest of the last call's answer: its value and the arguments it changed."""
        changes = self.last_changes if any(c is not None for c in self.last_changes) else None
        return plaindata.digest([value, changes], loose=loose)

    def proxy_module(self) -> types.ModuleType:
        """The ``solution`` module tests import before any candidate runs: every public name is a
        proxy; :meth:`bind` later swaps in the candidate's constants and exception classes."""
        module = types.ModuleType("solution")
        module.__file__ = "solution.py"

        def __getattr__(name: str) -> ProxyFunction:
            if name.startswith("__"):
                raise AttributeError(name)
            proxy = ProxyFunction(self, name)
            setattr(module, name, proxy)
            return proxy

        module.__getattr__ = __getattr__  # type: ignore[method-assign]  # PEP 562: module __getattr__
        return module

    def bind(self, process: CandidateProcess, modules: list[types.ModuleType]) -> None:
        """Give the tests the candidate's plain-data constants and its exception classes where
        they imported a name from ``solution`` (a proxy until now)."""
        classes = process.exception_classes()
        for module in [*modules, sys.modules.get("solution")]:
            if module is None:
                continue
            for name, value in list(vars(module).items()):
                if not isinstance(value, ProxyFunction):
                    continue
                real = value.__name__
                if real in classes:
                    setattr(module, name, classes[real])
                elif process.exports.get(real) == "value":
                    try:
                        setattr(module, name, process.constant(real, self.deadline()))
                    except TypeError:
                        pass  # not plain data: the name stays a proxy, and fails if called


class CallRecorder:
    """The calls a benchmark makes to the entry point, as they were made (before any change
    the call made to them), for the host to perturb: a timed input no candidate can know in
    advance. Gives up (``calls`` None) past ``limit`` bytes or on arguments it cannot keep."""

    def __init__(self, entry_point: str, limit: int = 1 << 20) -> None:
        self.entry_point = entry_point
        self.limit = limit
        self.calls: list[bytes] | None = []

    def record(self, name: str, args: tuple, kwargs: dict) -> None:
        if self.calls is None or name != self.entry_point:
            return
        try:
            self.calls.append(pickle.dumps((args, kwargs), pickle.HIGHEST_PROTOCOL))
        except Exception:
            self.calls = None
            return
        if sum(map(len, self.calls)) > self.limit:
            self.calls = None

    def packed(self) -> str:
        """Every call as one base64 pickle of ``[(args, kwargs), ...]``; empty if none."""
        if not self.calls:
            return ""
        calls = [pickle.loads(call) for call in self.calls]
        return base64.b64encode(pickle.dumps(calls, pickle.HIGHEST_PROTOCOL)).decode()


class ProxyFunction:
    """Stands for a candidate's function in the trusted harness."""

    def __init__(self, session: Session, name: str) -> None:
        self._session = session
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<candidate function {self.__name__}>"
