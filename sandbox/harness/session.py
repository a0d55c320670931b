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

import time
import types
from typing import Any

from . import plaindata
from .processes import CandidateCrashed, CandidateProcess, ServerLink, Streams, cpu_outside

MUTABLE = (list, dict, set, bytearray)


class JobBroken(BaseException):  # noqa: N818 - a BaseException so that test code cannot swallow it
    """The container could not be put back to its pristine state after ``culprit`` ran: the job
    stops here and the host replaces the container."""

    def __init__(self, culprit: str, reason: str) -> None:
        super().__init__(f"{culprit} left the sandbox dirty: {reason}")
        self.culprit = culprit


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
        self.meter: list[float] | None = None  # per-call CPU, for call jobs
        self.trace: list[tuple[str, str]] | None = None  # (exact, loose) digest per answer
        self.last_answer: tuple[Any, list | None] = (None, None)
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

    def live(self) -> CandidateProcess:
        if self.process is None or not self.process.alive:
            self._account()
            self.process = CandidateProcess.start(
                self.link,
                self.sources[self.current_id],
                self.limits,
                self.streams,
                self.deadline(),
                tag=self.current_id,
            )
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
        self.round_started = cpu_outside(0)
        self.trace = []
        self.live()

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
        # The request looks the same whether or not this is a timing round: a candidate must not
        # be able to tell when it is being timed.
        want_args = any(isinstance(a, MUTABLE) for a in args)
        value, mutated = self.live().call(
            name, args, kwargs, self.deadline(), want_args, self.meter
        )
        self.last_answer = (value, mutated)
        if self.trace is not None:
            self.trace.append((self.answer_digest(), self.answer_digest(loose=True)))
        if mutated is not None and not self.timing:
            copy_back(args, mutated)
        return value

    def answer_digest(self, loose: bool = False) -> str:
        """The digest of the last call's answer: its value and the arguments it changed."""
        return plaindata.digest(list(self.last_answer), loose=loose)

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
