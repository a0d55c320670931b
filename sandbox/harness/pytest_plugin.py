"""The pytest plugin the harness runs tests with: per-test outcomes, per-test deadlines, and a
``benchmark`` fixture that times the candidate, not the harness.

The fixture mirrors pytest-benchmark's API (``benchmark(fn, *args)`` and ``benchmark.pedantic``)
but runs every round in a fresh candidate process and reads the candidate's CPU time from outside
it, so neither a memoising cache nor a patched clock can make a candidate look faster.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from .processes import CandidateFault
from .session import Session

settings.register_profile(
    "sandbox",
    database=None,
    deadline=None,
    derandomize=True,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile("sandbox")

RESOURCE_VERDICTS = {"timeout", "memory_limit", "output_limit"}


@dataclass
class JobState:
    session: Session | None = None
    rounds: int = 5
    timing_only: bool = False
    test_dir: str = ""
    outcomes: dict[str, dict] = field(default_factory=dict)
    collect_errors: list[str] = field(default_factory=list)
    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    digests: dict[str, dict[str, str]] = field(default_factory=dict)
    timing_errors: dict[str, str] = field(default_factory=dict)
    stopped: str = ""

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


STATE = JobState()


class _TestTimeout(CandidateFault):
    verdict = "timeout"


def _on_alarm(signum: int, frame: Any) -> None:
    raise _TestTimeout("the test ran past its time limit")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "benchmark: pytest-benchmark options (accepted, ignored)")
    signal.signal(signal.SIGALRM, _on_alarm)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if STATE.timing_only:
        items[:] = [item for item in items if "benchmark" in getattr(item, "fixturenames", ())]


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        STATE.collect_errors.append(_short(report.longrepr, limit=1500))


def pytest_collection_finish(session: pytest.Session) -> None:
    """The tests are imported now: take them off the disk before any candidate runs."""
    for name in os.listdir(STATE.test_dir):
        os.unlink(os.path.join(STATE.test_dir, name))


def restart_test_clock() -> None:
    """Give the test (or one benchmark round of one candidate) its own time limit."""
    STATE.session.start_test()
    signal.setitimer(signal.ITIMER_REAL, STATE.session.limits["test_seconds"] + 1.0)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    restart_test_clock()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    report = outcome.get_result()
    if call.when == "teardown":
        signal.setitimer(signal.ITIMER_REAL, 0)
    fault = call.excinfo is not None and isinstance(call.excinfo.value, CandidateFault)
    report.candidate_cause = call.excinfo.value.verdict if fault else None
    report.candidate_message = str(call.excinfo.value) if fault else None
    if fault:
        STATE.session.stop()
        if report.candidate_cause in RESOURCE_VERDICTS:
            item.session.shouldstop = f"stopped after a {report.candidate_cause}"
            STATE.stopped = item.session.shouldstop


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" and not (report.failed or report.skipped):
        return
    cause = getattr(report, "candidate_cause", None)
    if report.passed or report.skipped:
        status, message = "passed", ("skipped" if report.skipped else "")
    else:
        status = "failed" if report.when == "call" and not cause else "error"
        message = getattr(report, "candidate_message", None) or _short(report.longrepr)
    prior = STATE.outcomes.get(report.nodeid)
    if prior is None or prior["status"] == "passed":  # keep the first problem of a test
        STATE.outcomes[report.nodeid] = {
            "name": report.nodeid,
            "status": status,
            "message": message,
            "cause": cause,
        }


def _short(longrepr: Any, limit: int = 500) -> str:
    crash = getattr(longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(longrepr)
    return text.strip()[:limit]


class SandboxBenchmark:
    """pytest-benchmark's fixture API, measured in fresh candidate processes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.extra_info: dict[str, Any] = {}
        self.group: str | None = None

    def __call__(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        return self._measure(function, lambda: (args, kwargs), STATE.rounds)

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

        return self._measure(target, arguments, max(1, min(rounds, STATE.rounds)))

    def _measure(self, function: Any, arguments: Any, rounds: int) -> Any:
        session = STATE.session
        ids = [cid for cid in session.sources if cid not in STATE.timing_errors]
        result = None
        first_results: dict[str, bytes] = {}
        for round_index in range(rounds):
            shift = round_index % len(ids) if ids else 0
            for cid in ids[shift:] + ids[:shift]:  # interleaved: A B C, B C A, C A B …
                if cid in STATE.timing_errors:
                    continue
                restart_test_clock()  # each round of each candidate has the limit of a test
                session.fresh(cid)
                args, kwargs = arguments()
                meter = [0.0]
                session.meter = meter
                try:
                    result = function(*args, **kwargs)
                    digest = _same_every_round(first_results, cid, result)
                except (Exception, CandidateFault) as error:
                    if not session.timing:
                        raise
                    STATE.timing_errors[cid] = f"{type(error).__name__}: {error}"[:300]
                    continue
                finally:
                    session.meter = None
                STATE.samples.setdefault(cid, {}).setdefault(self.name, []).append(meter[0])
                STATE.digests.setdefault(cid, {})[self.name] = digest
        session.stop()
        return result


def _same_every_round(first_results: dict[str, bytes], cid: str, result: Any) -> str:
    """A candidate must return the same value in every round: one that behaves differently on a
    later round (to look fast) fails instead of being timed. Returns the value's digest, which
    the host compares between the tested and the timed runs."""
    try:
        encoded = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
    except Exception:
        return ""
    expected = first_results.setdefault(cid, encoded)
    if encoded != expected:
        raise AssertionError("the candidate returned a different value in a later benchmark round")
    return hashlib.sha256(encoded).hexdigest()


@pytest.fixture
def benchmark(request: pytest.FixtureRequest) -> SandboxBenchmark:
    return SandboxBenchmark(request.node.nodeid)
