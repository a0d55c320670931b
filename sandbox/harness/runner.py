"""The trusted harness: one long-lived process per container that runs the host's jobs one by
one, pytest loaded, candidates in processes of their own. Three jobs exist:

- ``run``: the candidate against the problem's pytest files (verdict, outcomes, benchmarks);
- ``call``: the entry point on a list of inputs (outputs for differential testing);
- ``time``: several candidates on the benchmark workload, in interleaved rounds.
"""

from __future__ import annotations

import base64
import importlib
import os
import pickle
import signal
import sys
import time
from typing import Any

from . import framing, plaindata, processes, pytest_plugin, server
from .processes import CandidateFault, ServerLink
from .pytest_plugin import STATE
from .pytest_session import ReusablePytest
from .session import Session

JOB_DIR = "/tmp/.harness-job"
TEST_DIR = JOB_DIR + "/tests"
PYTEST: ReusablePytest | None = None
WORST_FIRST = ["output_limit", "memory_limit", "timeout", "crashed"]


PHASES: dict[str, float] = {}
_last = [0.0]


def mark(phase: str) -> None:
    """Record how long the phase that just ended took, to say where a job's time goes."""
    now = time.perf_counter()
    PHASES[phase] = PHASES.get(phase, 0.0) + now - _last[0]
    _last[0] = now


def run(request: dict, link: ServerLink) -> dict:
    started = _last[0] = time.perf_counter()
    handler = {"run": run_tests, "time": time_candidates, "call": call_inputs}[request["op"]]
    result = handler(request, link)
    result["wall_seconds"] = time.perf_counter() - started
    result["phases"] = dict(PHASES)
    return result


def _failure(verdict: str, message: str) -> dict:
    return {"verdict": verdict, "message": message}


def _start_candidate(session: Session, entry: str) -> dict | None:
    """Import the candidate; a failure dict when it cannot be tested, None when it is fine."""
    source = session.sources[session.current_id]
    try:
        compile(source, "solution.py", "exec")
    except SyntaxError as error:
        return _failure("error", f"candidate is not valid Python: line {error.lineno}: {error.msg}")
    except ValueError as error:
        return _failure("error", f"candidate is not valid Python: {error}")
    session.start_test()  # importing gets the same time limit as one test
    try:
        process = session.live()
    except CandidateFault as fault:
        return _failure(fault.verdict, f"at import: {fault}")
    except Exception as error:
        return _failure("error", f"candidate raised at import: {error}")
    mark("start candidate")
    if entry not in process.callables:
        session.stop()
        return _failure("error", f"candidate does not define the function `{entry}`")
    return None


def _usage(session: Session) -> dict:
    session.stop()
    mark("stop")
    return {
        "cpu_seconds": session.cpu_seconds,
        "peak_memory_mb": session.peak_rss_kb / 1024,
        "stdout": session.streams.text(1),
        "stderr": session.streams.text(2),
    }


def _run_pytest(request: dict, session: Session, timing_only: bool) -> dict | None:
    """Collect the tests (no candidate is alive while they are on disk), then start the
    candidate and run them. Returns a failure dict when the candidate cannot even start."""
    server.wipe_writable()
    os.makedirs(TEST_DIR, exist_ok=True)
    for name, text in request["test_files"].items():
        with open(os.path.join(TEST_DIR, name), "w") as handle:
            handle.write(text)
    sys.modules["solution"] = session.proxy_module()
    _bind(session, request)
    STATE.timing_only = timing_only
    STATE.test_dir = TEST_DIR
    mark("write tests")
    config = PYTEST.config
    pytest_session = PYTEST.new_session()
    try:
        config.hook.pytest_collection(session=pytest_session)
        forget_writable_paths()
        mark("collect")
        if _problem_error() is not None:
            return None
        failure = _start_candidate(session, request["entry_point"])
        if failure is not None:
            return failure
        modules = list({item.module for item in pytest_session.items if hasattr(item, "module")})
        session.bind_constants(session.process, modules)
        config.hook.pytest_runtestloop(session=pytest_session)
    except (pytest_session.Interrupted, pytest_session.Failed):
        pass
    mark("run tests")
    return None


def _bind(session: Session, request: dict) -> None:
    """Hand the job's candidates and its number of benchmark rounds to the pytest plugin."""
    STATE.session = session
    STATE.rounds = int(request.get("rounds", 5))


def forget_writable_paths() -> None:
    """The tests are imported: drop /tmp from the import path before any candidate runs, or a
    module it plants there would be imported by the trusted harness at the next lazy import."""
    sys.path[:] = [path for path in sys.path if not path.startswith("/tmp")]
    for path in [p for p in sys.path_importer_cache if p.startswith("/tmp")]:
        del sys.path_importer_cache[path]
    importlib.invalidate_caches()


def _benchmarks(samples: dict[str, list[float]], digests: dict[str, str]) -> list[dict]:
    from pytest_benchmark.stats import Stats

    stats = []
    for test, values in samples.items():
        summary = Stats()
        for value in values:
            summary.update(value)
        stats.append(
            {
                "test": test,
                "rounds": len(values),
                "min": summary.min,
                "max": summary.max,
                "mean": summary.mean,
                "median": summary.median,
                "stddev": summary.stddev,
                "iqr": summary.iqr,
                "samples": values,
                "digest": digests.get(test, ""),
            }
        )
    return stats


def _problem_error() -> str | None:
    """A collection error is the problem's fault unless it is about importing from solution."""
    for error in STATE.collect_errors:
        if "solution" not in error:
            return error
    return None


def run_tests(request: dict, link: ServerLink) -> dict:
    session = Session(link, {"candidate": request["candidate"]}, request["limits"])
    failure = _run_pytest(request, session, timing_only=False)
    result = _usage(session)
    problem = _problem_error()
    if problem is not None:
        return result | {"verdict": "error", "problem_error": problem}
    if failure is not None:
        return result | failure
    tests = list(STATE.outcomes.values())
    result["tests"] = tests
    result["benchmarks"] = _benchmarks(
        STATE.samples.get("candidate", {}), STATE.digests.get("candidate", {})
    )
    result["verdict"], result["message"] = verdict_of(tests, STATE.collect_errors, STATE.stopped)
    return result


def verdict_of(tests: list[dict], collect_errors: list[str], stopped: str) -> tuple[str, str]:
    """The job's verdict: the worst cause among the tests, then error, then failed."""
    if collect_errors:
        return "error", collect_errors[0]
    if not tests:
        return "error", "no tests were collected"
    for cause in WORST_FIRST:
        for test in tests:
            if test["cause"] == cause:
                return cause, f"{test['name']}: {test['message']}" + (
                    f" ({stopped})" if stopped else ""
                )
    for status in ("error", "failed"):
        bad = [t for t in tests if t["status"] == status]
        if bad:
            return (
                status,
                f"{len(bad)} of {len(tests)} tests {status}: {bad[0]['name']}: {bad[0]['message']}",
            )
    return "passed", ""


def time_candidates(request: dict, link: ServerLink) -> dict:
    session = Session(link, request["candidates"], request["limits"])
    session.timing = True
    if request.get("inputs"):
        _bind(session, request)
        entry = request["entry_point"]
        inputs = pickle.loads(base64.b64decode(request["inputs"]))

        def workload() -> None:
            for args, kwargs in inputs:
                session.call(entry, tuple(args), dict(kwargs))

        pytest_plugin.SandboxBenchmark("inputs")(workload)
    else:
        failure = _run_pytest(request, session, timing_only=True)
        if failure is not None:
            return failure
        problem = _problem_error()
        if problem is not None:
            return {"verdict": "error", "problem_error": problem}
    session.stop()
    return {
        "verdict": "passed",
        "timings": {  # a candidate that failed part-way has no timings, only its error
            cid: _benchmarks(tests, STATE.digests.get(cid, {}))
            for cid, tests in STATE.samples.items()
            if cid not in STATE.timing_errors
        },
        "errors": STATE.timing_errors,
    }


def call_inputs(request: dict, link: ServerLink) -> dict:
    session = Session(link, {"candidate": request["candidate"]}, request["limits"])
    failure = _start_candidate(session, request["entry_point"])
    if failure is not None:
        return failure | _usage(session)
    entry = request["entry_point"]
    outcomes = []
    faults = 0
    max_timeouts = int(request.get("max_timeouts", 3))
    for args, kwargs in pickle.loads(base64.b64decode(request["inputs"])):
        if faults >= max_timeouts:
            outcomes.append({"ok": False, "error": "skipped", "cause": "timeout"})
            continue
        session.start_test()
        try:
            value = session.call(entry, tuple(args), dict(kwargs))
            outcomes.append(
                {"ok": True, "value": plaindata.canonical(value), "repr": repr(value)[:300]}
            )
        except CandidateFault as fault:
            faults += fault.verdict == "timeout"
            session.stop()
            outcomes.append(
                {
                    "ok": False,
                    "error": type(fault).__name__,
                    "cause": fault.verdict,
                    "message": str(fault)[:300],
                }
            )
        except Exception as error:
            outcomes.append(
                {"ok": False, "error": type(error).__name__, "message": str(error)[:300]}
            )
    return {"verdict": "passed", "outcomes": outcomes} | _usage(session)


def serve(control: Any) -> None:
    """The harness's life: load pytest once, then run the host's jobs until stdin closes."""
    global PYTEST
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                   signal.SIGUSR2, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):  # fmt: skip
        signal.signal(number, signal.SIG_IGN)  # a candidate's signals must not stop the tests
    host_in, host_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # pytest and tests print; none of it may reach the host's channel
        os.dup2(devnull, fd)
    import hypothesis  # noqa: F401  (loaded once, for the tests that use it)
    import pytest_benchmark.stats  # noqa: F401

    PYTEST = ReusablePytest(JOB_DIR, TEST_DIR, pytest_plugin)
    server.wipe_writable()
    link = ServerLink(control)
    framing.write_frame(host_out, {"ready": True, "python": sys.version.split()[0]})
    while (body := framing.read_frame_body(host_in)) is not None:
        started = time.perf_counter()
        request = framing.decode(body)
        del body
        link.begin(request["limits"]["wall_seconds"])
        try:
            result = run(request, link)
        except BaseException as error:  # a harness bug: reported once, container replaced
            result = {"internal_error": f"{type(error).__name__}: {error}"}
        signal.setitimer(signal.ITIMER_REAL, 0)
        PYTEST.finish()
        STATE.reset()
        PHASES.clear()
        processes.kill_others()
        result["clean"] = link.end()
        result["server_seconds"] = time.perf_counter() - started
        framing.write_frame(host_out, result)
