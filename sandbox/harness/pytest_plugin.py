"""The pytest plugin the harness runs tests with: per-test outcomes, per-test deadlines, and a
``benchmark`` fixture that times the candidate, not the harness.

The fixture mirrors pytest-benchmark's API (``benchmark(fn, *args)`` and ``benchmark.pedantic``)
but runs every round in a fresh candidate process, in a container restored to its pristine
state, and reads the candidate's CPU time from outside it (import and children included), so
neither a cache, a patched clock nor work done at import can make a candidate look faster. Every
round's answers are digested: a candidate must give the same answers in every round, and, when
the host says what it answered when tested, the same answers as then.

One :class:`JobPlugin` lives as long as the harness; :meth:`JobPlugin.start` gives it each job.
"""

from __future__ import annotations

import pickle
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from . import plaindata, profile  # noqa: F401  (profile: the tests' hypothesis settings)
from .processes import CandidateFault
from .session import CallRecorder, JobBroken, Session

RESOURCE_VERDICTS = {"timeout", "memory_limit", "output_limit"}
ROUND_MARGIN_S = 0.5  # a round is not started unless its budget and this much remain


class _TestTimeout(CandidateFault):
    verdict = "timeout"


def _on_alarm(signum: int, frame: Any) -> None:
    raise _TestTimeout("the test ran past its time limit")


@dataclass
class Job:
    """What one job asks for and what it has found so far."""

    session: Session
    rounds: int = 5
    timing_only: bool = False
    budgets: dict[str, float] = field(default_factory=dict)  # seconds per round, per candidate
    expected: dict[str, dict[str, str]] = field(default_factory=dict)  # cid -> test -> digest
    announce: Callable[[str], None] = lambda cid: None  # tells the host who runs now
    # The run's secret seed: tests draw their data from it, so no candidate knows the timed
    # data in advance; the same for every job of one run, so all candidates get the same.
    seed: str = ""
    entry_point: str = ""
    sparse: dict[str, int] = field(default_factory=dict)  # ids timed in their first N rounds only
    recorded: str = ""  # the first benchmark round's calls to the entry point (CallRecorder)
    outcomes: dict[str, dict] = field(default_factory=dict)
    collect_errors: list[str] = field(default_factory=list)
    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    digests: dict[str, dict[str, str]] = field(default_factory=dict)
    behaviours: dict[str, dict[str, str]] = field(default_factory=dict)  # loose digests
    timing_errors: dict[str, dict] = field(default_factory=dict)  # cid -> verdict, message
    truncated: bool = False
    stopped: str = ""

    def restart_clock(self, seconds: float | None = None) -> None:
        """Give the test (or one benchmark round of one candidate) its own time limit."""
        self.session.start_test(seconds)
        limit = self.session.limits["test_seconds"] if seconds is None else seconds
        signal.setitimer(signal.ITIMER_REAL, limit + 1.0)


class JobPlugin:
    """Registered with pytest once; holds the running job."""

    def __init__(self) -> None:
        self.job: Job | None = None

    def start(self, job: Job) -> Job:
        self.job = job
        return job

    def stop(self) -> None:
        self.job = None

    # -- hooks ----------------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "benchmark: pytest-benchmark options (accepted)")
        signal.signal(signal.SIGALRM, _on_alarm)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if self.job is not None and self.job.timing_only:
            items[:] = [item for item in items if "benchmark" in getattr(item, "fixturenames", ())]

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and self.job is not None:
            self.job.collect_errors.append(_short(report.longrepr, limit=1500))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        assert self.job is not None  # the tests run inside a job
        random.seed(f"{self.job.seed}:{item.nodeid}")  # the run's data, the same for everyone
        self.job.restart_clock()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        outcome = yield
        assert self.job is not None  # the tests run inside a job
        report = outcome.get_result()
        if call.when == "teardown":
            signal.setitimer(signal.ITIMER_REAL, 0)
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, JobBroken):
            raise error
        fault = isinstance(error, CandidateFault)
        report.candidate_cause = error.verdict if isinstance(error, CandidateFault) else None
        report.candidate_message = str(error) if fault else None
        if fault:
            self.job.session.stop()
            if report.candidate_cause in RESOURCE_VERDICTS:
                item.session.shouldstop = f"stopped after a {report.candidate_cause}"
                self.job.stopped = item.session.shouldstop

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" and not (report.failed or report.skipped):
            return
        assert self.job is not None  # the tests run inside a job
        cause = getattr(report, "candidate_cause", None)
        if report.passed or report.skipped:
            status, message = "passed", ("skipped" if report.skipped else "")
        else:
            status = "failed" if report.when == "call" and not cause else "error"
            message = getattr(report, "candidate_message", None) or _short(report.longrepr)
        prior = self.job.outcomes.get(report.nodeid)
        if prior is None or prior["status"] == "passed":  # keep the first problem of a test
            self.job.outcomes[report.nodeid] = {
                "name": report.nodeid,
                "status": status,
                "message": message,
                "cause": cause,
            }

    @pytest.fixture
    def benchmark(self, request: pytest.FixtureRequest) -> SandboxBenchmark:
        assert self.job is not None  # the tests run inside a job
        return SandboxBenchmark(self.job, request.node.nodeid)


def round_order(ids: list[str], round_index: int) -> list[str]:
    """The order of one round: a fixed shuffle per round, so that no candidate always runs
    right after the same rival (whatever one leaves in the caches, the next one pays for)."""
    order = list(ids)
    random.Random(round_index).shuffle(order)
    return order


def fault_of(error: BaseException) -> dict:
    """A candidate's failure in a timing round, as the host's Fault: a limit it hit, else
    failed (a wrong or changed answer, an exception)."""
    verdict = error.verdict if isinstance(error, CandidateFault) else "failed"
    text, kind = str(error), type(error).__name__
    return {
        "verdict": verdict,
        "message": (text if text.startswith(kind) else f"{kind}: {text}")[:300],
    }


def _copy(value: Any) -> Any:
    """A deep copy (pickled and back, at C speed), or ``value`` when it cannot be pickled."""
    try:
        return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except Exception:
        return value


def _short(longrepr: Any, limit: int = 500) -> str:
    crash = getattr(longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(longrepr)
    return text.strip()[:limit]


class SandboxBenchmark:
    """pytest-benchmark's fixture API, measured in fresh candidate processes."""

    def __init__(self, job: Job, name: str) -> None:
        self.job = job
        self.name = name
        self.extra_info: dict[str, Any] = {}
        self.group: str | None = None

    def __call__(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        return self._measure(function, lambda: (args, kwargs), self.job.rounds)

    def pedantic(
        self,
        target: Any,
        args: tuple = (),
        kwargs: dict | None = None,
        setup: Any = None,
        rounds: int = 1,
        warmup_rounds: int = 0,
        iterations: int = 1,
    ) -> Any:
        def arguments() -> tuple[tuple, dict]:
            made = setup() if setup is not None else None
            return made if made is not None else (args, kwargs or {})

        return self._measure(target, arguments, max(1, min(rounds, self.job.rounds)))

    def _measure(self, function: Any, arguments: Any, rounds: int) -> Any:
        """Interleaved rounds (see :func:`round_order`), each candidate in a fresh process,
        each with its own time limit, each checked against the round before and against
        ``expected``."""
        job, session = self.job, self.job.session
        ids = [cid for cid in session.sources if cid not in job.timing_errors]
        result = None
        firsts: dict[str, str] = {}
        for round_index in range(rounds):
            if session.timing and not self._time_left(ids, round_index):
                job.truncated = True
                break
            for cid in round_order(ids, round_index):
                if cid in job.timing_errors or round_index >= job.sparse.get(cid, rounds):
                    continue
                # the last round of a test run works on the test's own arguments, so that
                # the test sees what a call did to them; every other round (and every round
                # of a timing job) on a copy, so that each starts from the same data
                originals = not session.timing and round_index == rounds - 1
                result = None  # no answer outlives its round: the next candidate needs room
                try:
                    result = self._one_round(cid, function, arguments, firsts, originals)
                except (Exception, CandidateFault) as error:
                    if not session.timing:
                        raise
                    job.timing_errors[cid] = fault_of(error)
        session.stop()
        session.trace = None
        return result

    def _one_round(
        self, cid: str, function: Any, arguments: Any, firsts: dict, originals: bool
    ) -> Any:
        job, session = self.job, self.job.session
        job.restart_clock(job.budgets.get(cid))
        job.announce(cid)
        random.seed(f"{job.seed}:{self.name}")  # every round and every candidate: the same data
        session.fresh(cid)
        args, kwargs = arguments()
        if not originals:
            args, kwargs = _copy((args, kwargs))
        recording = not session.timing and not job.recorded and job.entry_point
        if recording:
            session.recorder = CallRecorder(job.entry_point)
        try:
            result = function(*args, **kwargs)
        finally:
            if recording and session.recorder is not None:  # set above when recording
                job.recorded = session.recorder.packed()
            session.recorder = None
        cost = session.round_cost()
        digest, behaviour = self._digests(result)
        expected = job.expected.get(cid, {}).get(self.name)
        if firsts.setdefault(cid, digest) != digest:
            raise AssertionError("the candidate returned a different value in a later round")
        if expected is not None and digest != expected:
            raise AssertionError("returned a different value when timed than when tested")
        job.samples.setdefault(cid, {}).setdefault(self.name, []).append(cost)
        job.digests.setdefault(cid, {})[self.name] = digest
        job.behaviours.setdefault(cid, {})[self.name] = behaviour
        return result

    def _digests(self, result: Any) -> tuple[str, str]:
        """(exact, loose) digests of the round: every answer the candidate gave, in order, and
        the value the benchmarked function returned when that is plain data."""
        answers = self.job.session.trace or []
        trace, loose = [exact for exact, _ in answers], [near for _, near in answers]
        if result is not None:
            try:
                trace.append(plaindata.digest(result))
                loose.append(plaindata.digest(result, loose=True))
            except plaindata.NotPlainData:
                pass  # built by the test, from answers already in the trace
        return plaindata.combine(trace), plaindata.combine(loose)

    def _time_left(self, ids: list[str], round_index: int) -> bool:
        """Whether a whole round more fits in the job's wall-clock budget."""
        needed = sum(self.job.budgets.get(cid, 0.0) for cid in ids) + ROUND_MARGIN_S
        return round_index == 0 or time.monotonic() + needed < self.job.session.job_deadline
