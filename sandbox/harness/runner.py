"""The trusted harness: one long-lived process per container (its own user, no capabilities)
that runs the host's jobs one by one, pytest loaded, candidates in processes of their own.
Three jobs exist:

- ``run``: the candidate against the problem's pytest files (verdict, outcomes, benchmarks);
- ``call``: the entry point on a list of inputs (outputs for differential testing);
- ``time``: several candidates on the benchmark workload, in interleaved rounds.

Its files live in /run/harness, which no candidate can enter. Every job ends with the server
restoring the container to its pristine state and saying whether it could (``clean``).

A job may name the module of a project (mounted read-only at /project) that its candidates
are: they are imported as that module, and the tests may import the project's package too,
from its import path, for the job only (its modules are forgotten after it).
"""

from __future__ import annotations

import base64
import importlib
import os
import pickle
import reprlib
import signal
import statistics
import sys
import time
from typing import Any

from . import framing, plaindata
from .processes import CandidateFault, MemoryMeter, ServerLink
from .pytest_plugin import Job, JobPlugin, SandboxBenchmark
from .pytest_session import ReusablePytest
from .session import JobBroken, Session

HARNESS_HOME = "/run/harness"
PROJECT_DIR = "/project"  # a project's source, mounted read-only (sandbox.models.PROJECT_DIR)
JOB_DIR = HARNESS_HOME + "/job"
TEST_DIR = JOB_DIR + "/tests"
WORST_FIRST = ["output_limit", "memory_limit", "timeout", "crashed"]
# The protocol floor: a candidate that does nothing, timed in every round beside the others.
FLOOR = "__floor__"
FLOOR_SOURCE = (
    "def __getattr__(name):\n"  # any name a test imports, a function that does nothing
    "    return lambda *args, **kwargs: None\n"
)
FLOOR_ROUNDS = 5  # its median needs a few rounds, not every one
FLOOR_LEAST = 1e-7  # what is left of a round as cheap as the floor: it still costs something
HOST_VALUE_BYTES = 64 * 1024  # a call's value is sent to the host only when this small
MAX_VALUE_BYTES = 4 * 1024 * 1024  # (or this, when the host asks for it)
MAX_HOST_FRAME = 8 * 1024 * 1024  # and no answer to the host is larger than this
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 300
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = _REPR.maxfrozenset = 40
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
    memory: MemoryMeter | None = None  # the job's memory peak, when the host reset it

    def __init__(self, link: ServerLink, host_out: int) -> None:
        self.link = link
        self.host_out = host_out
        self.plugin = JobPlugin()
        self.pytest = ReusablePytest(JOB_DIR, TEST_DIR, self.plugin)
        self.phases = Phases()

    def run(self, request: dict) -> dict:
        self.phases = Phases()
        started = self.phases.last
        self.memory = MemoryMeter() if request.get("peak_reset") else None
        handler = {"run": self.run_tests, "time": self.time_candidates, "call": self.call_inputs}
        added = enter_project(request.get("module"))
        try:
            result = handler[request["op"]](request)
        finally:
            leave_project(added)
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
        peak = session.peak_rss_kb / 1024
        if self.memory is not None:  # the host reset the cgroup's peak: it says it all
            peak = self.memory.peak_bytes() / (1 << 20)
        return {
            "cpu_seconds": session.cpu_seconds,
            "peak_memory_mb": peak,
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
            assert session.process is not None  # _start_candidate started it
            session.bind(session.process, modules)
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
                seed=str(request.get("seed", "")),
                entry_point=request["entry_point"],
                sparse={FLOOR: FLOOR_ROUNDS},
            )
        )

    # -- jobs -----------------------------------------------------------------------------
    def run_tests(self, request: dict) -> dict:
        session = Session(
            self.link, {"candidate": request["candidate"]}, request["limits"], request.get("module")
        )
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
        result["benchmark_calls"] = job.recorded
        result["verdict"], result["message"] = verdict_of(tests, job.collect_errors, job.stopped)
        return result

    def time_candidates(self, request: dict) -> dict:
        # a candidate in a project's module has the module with an empty body as its floor
        # (its imports cost the same in every round): the host sends it
        sources = dict(request["candidates"]) | {FLOOR: request.get("floor") or FLOOR_SOURCE}
        session = Session(self.link, sources, request["limits"], request.get("module"))
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
        floor = subtract_floor(job)
        return {
            "verdict": "passed",
            "timings": {  # a candidate that failed part-way has no timings, only its error
                cid: _benchmarks(job, cid) for cid in job.samples if cid not in job.timing_errors
            },
            "errors": job.timing_errors,
            "rounds": job.rounds,
            "truncated": job.truncated,
            "floor": floor,
        }

    def _time_inputs(self, request: dict, job: Job) -> None:
        """The workload is the entry point on each input in turn; one benchmark named
        ``inputs``, whose digest is that of the answers, in order."""
        entry = request["entry_point"]
        packed = base64.b64decode(request["inputs"])

        def workload() -> None:
            for args, kwargs in pickle.loads(packed):  # every round its own copy
                job.session.call(entry, tuple(args), dict(kwargs))

        SandboxBenchmark(job, "inputs")(workload)

    def call_inputs(self, request: dict) -> dict:
        session = Session(
            self.link,
            {"candidate": request["candidate"]},
            request["limits"],
            request.get("module"),
            hypothesis=bool(request.get("hypothesis")),
        )
        failure = self._start_candidate(session, request["entry_point"])
        if failure is not None:
            return failure | self._usage(session)
        entry = request["entry_point"]
        outcomes = []
        faults = 0
        max_timeouts = int(request.get("max_timeouts", 3))
        limit = value_limit(request.get("value_bytes"))
        for args, kwargs in pickle.loads(base64.b64decode(request["inputs"])):
            if faults >= max_timeouts:
                outcomes.append({"ok": False, "error": "skipped", "cause": "timeout"})
                continue
            session.start_test()
            meter = session.meter = [0.0]
            try:
                value = session.call(entry, tuple(args), dict(kwargs))
                sent = _value_for_host(value, limit)
                outcomes.append(
                    {
                        "ok": True,
                        "value": sent,
                        "value_omitted": sent is None and value is not None,
                        "repr": _short_repr(value),
                        "digest": session.answer_digest(value),
                        "behaviour": session.answer_digest(value, loose=True),
                        "cpu_seconds": meter[0],
                    }
                )
                del value
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
                    {"ok": False, "error": type(error).__name__, "message": _said(error)}
                )
            finally:
                session.meter = None
        return {"verdict": "passed", "outcomes": outcomes} | self._usage(session)


def _silent(candidate_id: str) -> None:
    pass


def _said(error: BaseException) -> str:
    """``"ValueError: no list"``: the exception's type and text, in a line."""
    return f"{type(error).__name__}: {error}"[:300]


def _short_repr(value: Any) -> str:
    try:
        return _REPR.repr(value)[:300]
    except Exception as error:  # a plain value this deep or large is refused earlier
        return f"<{type(error).__name__}>"


def value_limit(asked: int | None) -> int:
    """How large a call's value may be and still be sent whole: what the host asked for, within
    MAX_VALUE_BYTES."""
    return min(int(asked or HOST_VALUE_BYTES), MAX_VALUE_BYTES)


def _value_for_host(value: Any, limit: int = HOST_VALUE_BYTES) -> Any:
    """A call's value as JSON for the host, when small; a large one goes by its digests
    alone (the host compares answers by digest then), so that what crosses to the host stays
    within a few times the size of what the candidate sent."""
    try:
        if len(pickle.dumps(value, pickle.HIGHEST_PROTOCOL)) > limit:
            return None
        return plaindata.canonical(value)
    except Exception:
        return None


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


def enter_project(module: dict | None) -> tuple[str, str] | None:
    """For a job whose candidates are a project's module: the project's import path goes first
    on the harness's path (the tests may import the package), and the tests run at the
    project's root, as pytest there would. Returns what to undo."""
    if not module:
        return None
    path = str(module["import_path"])
    if not path.startswith(PROJECT_DIR + "/") and path != PROJECT_DIR:
        raise ValueError(f"import path {path!r} is not in the project")
    sys.path.insert(0, path)
    importlib.invalidate_caches()
    previous = os.getcwd()
    os.chdir(PROJECT_DIR)
    return path, previous


def leave_project(entered: tuple[str, str] | None) -> None:
    """Forget the job's project: its path and every module imported from it, so that no state
    a test left in them reaches the next job."""
    if entered is None:
        return
    path, previous = entered
    os.chdir(previous)
    sys.path[:] = [entry for entry in sys.path if entry != path]
    for name, module in list(sys.modules.items()):
        places = [getattr(module, "__file__", None), *(getattr(module, "__path__", None) or [])]
        if any(str(place or "").startswith(PROJECT_DIR + "/") for place in places):
            del sys.modules[name]
    for entry in [p for p in sys.path_importer_cache if p.startswith(PROJECT_DIR)]:
        del sys.path_importer_cache[entry]
    importlib.invalidate_caches()


def subtract_floor(job: Job) -> dict[str, float]:
    """Take the floor out of the job's results and every candidate's samples: per benchmark,
    the median cost of a round of the do-nothing candidate (its process, the protocol, the
    arguments' transfer), which no candidate's code caused. Returns those medians."""
    floor = job.samples.pop(FLOOR, {})
    job.timing_errors.pop(FLOOR, None)
    medians = {test: statistics.median(values) for test, values in floor.items() if values}
    for per_test in job.samples.values():
        for test, values in per_test.items():
            if test in medians:
                per_test[test] = [max(value - medians[test], FLOOR_LEAST) for value in values]
    return medians


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


def bounded_frame(result: dict) -> bytes:
    """The frame of ``result``; when it would be over MAX_HOST_FRAME, the same without call
    values (digests stand for them), or else a crash report: the host never reads more."""
    frame = framing.encode(result)
    if len(frame) <= MAX_HOST_FRAME:
        return frame
    for outcome in result.get("outcomes", []):
        if outcome.get("value") is not None:
            outcome["value"], outcome["value_omitted"] = None, True
    frame = framing.encode(result)
    if len(frame) <= MAX_HOST_FRAME:
        return frame
    keep = {key: result[key] for key in ("clean", "phases", "wall_seconds") if key in result}
    return framing.encode(
        keep | _failure("crashed", "the job's answer to the host is over the size limit")
    )


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
        framing.write_all(host_out, bounded_frame(result))
