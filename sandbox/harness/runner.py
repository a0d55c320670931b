"""The trusted harness: one long-lived process per container (its own user, no capabilities)
that runs the host's jobs one by one, pytest loaded, candidates in processes of their own.
Three jobs exist:

- ``run``: the candidate against the problem's pytest files (verdict, outcomes, benchmarks);
- ``call``: the entry point on a list of inputs (outputs for differential testing);
- ``time``: several candidates on the benchmark workload, in interleaved rounds.

Its files live in /run/harness, which no candidate can enter. Every job ends with the server
restoring the container to its pristine state and saying whether it could (``clean``).
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

from . import framing, plaindata
from .processes import CandidateFault, ServerLink
from .pytest_plugin import Job, JobPlugin, SandboxBenchmark
from .pytest_session import ReusablePytest
from .session import JobBroken, Session

HARNESS_HOME = "/run/harness"
JOB_DIR = HARNESS_HOME + "/job"
TEST_DIR = JOB_DIR + "/tests"
WORST_FIRST = ["output_limit", "memory_limit", "timeout", "crashed"]
IGNORED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                   signal.SIGUSR2, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)  # fmt: skip


class Phases:
    """How long each phase of a job took, to say where its time goes."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.last = time.perf_counter()

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self.last
        self.last = now


def _failure(verdict: str, message: str) -> dict:
    return {"verdict": verdict, "message": message}


class Harness:
    def __init__(self, link: ServerLink, host_out: int) -> None:
        self.link = link
        self.host_out = host_out
        self.plugin = JobPlugin()
        self.pytest = ReusablePytest(JOB_DIR, TEST_DIR, self.plugin)
        self.phases = Phases()

    def run(self, request: dict) -> dict:
        self.phases = Phases()
        started = self.phases.last
        handler = {"run": self.run_tests, "time": self.time_candidates, "call": self.call_inputs}
        result = handler[request["op"]](request)
        result["wall_seconds"] = time.perf_counter() - started
        result["phases"] = dict(self.phases.seconds)
        return result

    def announce(self, candidate_id: str) -> None:
        """Tell the host which candidate runs now: if the container dies, it knows whom to
        blame and re-times the others without it."""
        framing.write_frame(self.host_out, {"progress": {"live": candidate_id}})

    # -- pieces ---------------------------------------------------------------------------
    def _start_candidate(self, session: Session, entry: str) -> dict | None:
        """Import the candidate; a failure dict when it cannot be tested, None when it is fine."""
        source = session.sources[session.current_id]
        try:
            compile(source, "solution.py", "exec")
        except SyntaxError as error:
            return _failure(
                "error", f"candidate is not valid Python: line {error.lineno}: {error.msg}"
            )
        except ValueError as error:
            return _failure("error", f"candidate is not valid Python: {error}")
        session.start_test()  # importing gets the same time limit as one test
        try:
            process = session.live()
        except CandidateFault as fault:
            return _failure(fault.verdict, f"at import: {fault}")
        except Exception as error:
            return _failure("error", f"candidate raised at import: {error}")
        self.phases.mark("start candidate")
        if entry not in process.callables:
            session.stop()
            return _failure("error", f"candidate does not define the function `{entry}`")
        return None

    def _usage(self, session: Session) -> dict:
        session.stop()
        self.phases.mark("stop")
        if session.resets:
            self.phases.seconds["reset between rounds"] = sum(session.resets)
        return {
            "cpu_seconds": session.cpu_seconds,
            "peak_memory_mb": session.peak_rss_kb / 1024,
            "stdout": session.streams.text(1),
            "stderr": session.streams.text(2),
        }

    def _run_pytest(self, request: dict, job: Job) -> dict | None:
        """Collect the tests (no candidate is alive while they are on disk), then start the
        candidate and run them. Returns a failure dict when the candidate cannot even start."""
        session = job.session
        _write_tests(request["test_files"])
        sys.modules["solution"] = session.proxy_module()
        self.phases.mark("write tests")
        pytest_session = self.pytest.new_session()
        try:
            self.pytest.config.hook.pytest_collection(session=pytest_session)
            _delete_tests()
            forget_writable_paths()
            self.phases.mark("collect")
            if _problem_error(job) is not None:
                return None
            failure = self._start_candidate(session, request["entry_point"])
            if failure is not None:
                return failure
            items = pytest_session.items
            modules = list({item.module for item in items if hasattr(item, "module")})
            session.bind_constants(session.process, modules)
            self.pytest.config.hook.pytest_runtestloop(session=pytest_session)
        except (pytest_session.Interrupted, pytest_session.Failed):
            pass
        finally:
            _delete_tests()
        self.phases.mark("run tests")
        return None

    def _job(self, session: Session, request: dict, timing_only: bool = False) -> Job:
        return self.plugin.start(
            Job(
                session=session,
                rounds=int(request.get("rounds", 5)),
                timing_only=timing_only,
                budgets={k: float(v) for k, v in (request.get("budgets") or {}).items()},
                expected=request.get("expected") or {},
                announce=self.announce if timing_only else _silent,
            )
        )

    # -- jobs -----------------------------------------------------------------------------
    def run_tests(self, request: dict) -> dict:
        session = Session(self.link, {"candidate": request["candidate"]}, request["limits"])
        job = self._job(session, request)
        failure = self._run_pytest(request, job)
        result = self._usage(session)
        problem = _problem_error(job)
        if problem is not None:
            return result | {"verdict": "error", "problem_error": problem}
        if failure is not None:
            return result | failure
        tests = list(job.outcomes.values())
        result["tests"] = tests
        result["benchmarks"] = _benchmarks(job, "candidate")
        result["verdict"], result["message"] = verdict_of(tests, job.collect_errors, job.stopped)
        return result

    def time_candidates(self, request: dict) -> dict:
        session = Session(self.link, request["candidates"], request["limits"])
        session.timing = True
        job = self._job(session, request, timing_only=True)
        try:
            if request.get("inputs"):
                self._time_inputs(request, job)
            else:
                failure = self._run_pytest(request, job)
                if failure is not None:
                    return failure
                problem = _problem_error(job)
                if problem is not None:
                    return {"verdict": "error", "problem_error": problem}
        except JobBroken as broken:
            return {"verdict": "crashed", "message": str(broken), "culprit": broken.culprit}
        self._usage(session)
        return {
            "verdict": "passed",
            "timings": {  # a candidate that failed part-way has no timings, only its error
                cid: _benchmarks(job, cid) for cid in job.samples if cid not in job.timing_errors
            },
            "errors": job.timing_errors,
            "rounds": job.rounds,
            "truncated": job.truncated,
        }

    def _time_inputs(self, request: dict, job: Job) -> None:
        """The workload is the entry point on each input in turn; one benchmark named
        ``inputs``, whose digest is that of the answers, in order."""
        entry = request["entry_point"]
        inputs = pickle.loads(base64.b64decode(request["inputs"]))

        def workload() -> None:
            for args, kwargs in inputs:
                job.session.call(entry, tuple(args), dict(kwargs))

        SandboxBenchmark(job, "inputs")(workload)

    def call_inputs(self, request: dict) -> dict:
        session = Session(self.link, {"candidate": request["candidate"]}, request["limits"])
        failure = self._start_candidate(session, request["entry_point"])
        if failure is not None:
            return failure | self._usage(session)
        entry = request["entry_point"]
        outcomes = []
        faults = 0
        max_timeouts = int(request.get("max_timeouts", 3))
        for args, kwargs in pickle.loads(base64.b64decode(request["inputs"])):
            if faults >= max_timeouts:
                outcomes.append({"ok": False, "error": "skipped", "cause": "timeout"})
                continue
            session.start_test()
            meter = session.meter = [0.0]
            try:
                value = session.call(entry, tuple(args), dict(kwargs))
                outcomes.append(
                    {
                        "ok": True,
                        "value": plaindata.canonical(value),
                        "repr": _short_repr(value),
                        "digest": session.answer_digest(),
                        "cpu_seconds": meter[0],
                    }
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
            finally:
                session.meter = None
        return {"verdict": "passed", "outcomes": outcomes} | self._usage(session)


def _silent(candidate_id: str) -> None:
    pass


def _short_repr(value: Any) -> str:
    try:
        return repr(value)[:300]
    except Exception as error:  # a plain value this deep or large is refused earlier
        return f"<{type(error).__name__}>"


def _write_tests(files: dict[str, str]) -> None:
    os.makedirs(TEST_DIR, mode=0o700, exist_ok=True)
    _delete_tests()
    for name, text in files.items():
        with open(os.path.join(TEST_DIR, name), "w") as handle:
            handle.write(text)


def _delete_tests() -> None:
    """The tests are imported: take them off the disk before any candidate runs."""
    for name in os.listdir(TEST_DIR):
        os.unlink(os.path.join(TEST_DIR, name))


def forget_writable_paths() -> None:
    """Drop /tmp from the import path before any candidate runs, or a module it plants there
    would be imported by the trusted harness at the next lazy import."""
    sys.path[:] = [path for path in sys.path if not path.startswith("/tmp")]
    for path in [p for p in sys.path_importer_cache if p.startswith("/tmp")]:
        del sys.path_importer_cache[path]
    importlib.invalidate_caches()


def _benchmarks(job: Job, candidate_id: str) -> list[dict]:
    from pytest_benchmark.stats import Stats

    stats = []
    for test, values in job.samples.get(candidate_id, {}).items():
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
                "digest": job.digests.get(candidate_id, {}).get(test, ""),
                "behaviour": job.behaviours.get(candidate_id, {}).get(test, ""),
            }
        )
    return stats


def _problem_error(job: Job) -> str | None:
    """A collection error is the problem's fault unless it is about importing from solution."""
    for error in job.collect_errors:
        if "solution" not in error:
            return error
    return None


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


def serve(control: Any) -> None:
    """The harness's life: load pytest once, then run the host's jobs until stdin closes."""
    for number in IGNORED_SIGNALS:
        signal.signal(number, signal.SIG_IGN)  # a candidate's signals must not stop the tests
    host_in, host_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # pytest and tests print; none of it may reach the host's channel
        os.dup2(devnull, fd)
    os.environ.update(HOME=HARNESS_HOME, TMPDIR=HARNESS_HOME)
    import hypothesis  # noqa: F401  (loaded once, for the tests that use it)
    import pytest_benchmark.stats  # noqa: F401

    link = ServerLink(control)
    harness = Harness(link, host_out)
    link.ready()
    framing.write_frame(host_out, {"ready": True, "python": sys.version.split()[0]})
    while (body := framing.read_frame_body(host_in)) is not None:
        started = time.perf_counter()
        request = framing.decode(body)
        del body
        link.begin(request["limits"]["wall_seconds"])
        try:
            result = harness.run(request)
        except BaseException as error:  # a harness bug: reported once, container replaced
            result = {"internal_error": f"{type(error).__name__}: {error}"}
        signal.setitimer(signal.ITIMER_REAL, 0)
        harness.pytest.finish()
        harness.plugin.stop()
        ending = time.perf_counter()
        boundary = link.end()
        result.setdefault("phases", {})["clean up"] = time.perf_counter() - ending
        result["clean"] = boundary["clean"]
        if boundary["leftovers"]:
            result["leftovers"] = boundary["leftovers"]
        result["server_seconds"] = time.perf_counter() - started
        framing.write_frame(host_out, result)
