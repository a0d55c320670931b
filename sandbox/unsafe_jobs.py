"""UNSAFE, for tests only: the machinery behind :class:`sandbox.unsafe_local.UnsafeLocalSandbox`.

The Docker harness's own pieces (its pytest plugin, ``benchmark`` fixture, session, digests and
verdicts) run here, in the calling process, around one change: the candidate "process" is a
module exec'd in this process. Answers still cross to the tests as plain data and arguments are
still copied both ways, so a flow sees what it would see from Docker; but nothing is isolated or
limited. Imported lazily by ``unsafe_local``: it loads pytest and hypothesis.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import functools
import io
import math
import os
import pickle
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.pathlib import module_name_from_path
from hypothesis import settings

from .errors import ProblemError, SandboxError
from .harness import candidate, runner, wire
from .harness.processes import CandidateProcess, Streams, act_on
from .harness.pytest_plugin import Job, JobPlugin
from .harness.pytest_session import UNUSED_PLUGINS
from .harness.session import Session
from .messages import failed_call, pack_inputs
from .models import DEFAULT_LIMITS, CallJob, CallOutcome, RunJob, RunResult, TimingJob, TimingResult
from .timing_checks import check_against_expected, expected_digests

# One job at a time in the whole process: `solution`, `random` and hypothesis's profile are global.
ONE_JOB = threading.Lock()


def _serialise_ast_work() -> None:
    """Make every ``ast.parse`` in this process, and pytest's rewriting of a test file (a parse,
    then a compile of the tree), take one lock. CPython 3.11 keeps the AST converters' recursion
    count per interpreter, so two threads converting at once can end one of them with
    "SystemError: AST constructor recursion depth mismatch" (CPython gh-95185 and gh-106905;
    seen with pytest in pytest-dev/pytest#10763). Here pytest rewrites each test file in a
    worker thread while the caller's event loop parses model replies: the flows built on this
    backend failed that way about once in fifteen runs."""
    if sys.version_info >= (3, 13) or getattr(ast.parse, "serialised", False):
        return
    from _pytest.assertion import rewrite

    lock = threading.RLock()

    def locked(function: Any) -> Any:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return function(*args, **kwargs)

        call.serialised = True  # type: ignore[attr-defined]  # a mark: installed once
        return call

    ast.parse = locked(ast.parse)
    if hasattr(rewrite, "_rewrite_test"):  # pytest's private helper: a parse and a compile
        rewrite._rewrite_test = locked(rewrite._rewrite_test)


_serialise_ast_work()
TEST_DIR = "tests"  # as in the container, so that tests are named tests/test_x.py::test_y here too
PROFILE = "sandbox"  # the harness's hypothesis profile, registered by its plugin


class LocalCandidate:
    """What the harness's Session expects of a candidate process, for a module exec'd in this
    process: the same exports, and every call through the same code as in the container (the
    candidate's side in :mod:`~sandbox.harness.candidate`, the harness's in
    :func:`~sandbox.harness.processes.act_on`), only without the process between. No limits."""

    def __init__(self, source: str, classes: dict[str, type]) -> None:
        self.alive = True
        self.usage: dict | None = None
        self.classes = classes
        self.module = types.ModuleType("solution")
        self.module.__file__ = "solution.py"
        sys.modules["solution"] = self.module  # where dataclasses, pickle… look the module up
        started = time.process_time()
        try:
            exec(compile(source, "solution.py", "exec"), self.module.__dict__)
        except (Exception, SystemExit) as error:  # SystemExit at import is reported, not obeyed
            answer = wire.read_answer(candidate.encode(wire.describe_exception(error)))
            raise wire.exception_from(answer, classes) from None
        finally:
            self.cpu = time.process_time() - started
        self.exports = candidate.exports(self.module)

    callables = CandidateProcess.callables
    exception_classes = CandidateProcess.exception_classes

    def constant(self, name: str, deadline: float) -> Any:
        return self._exchange(pickle.dumps(("get", name)), [])[0]

    def call(
        self,
        name: str,
        args: tuple,
        kwargs: dict,
        deadline: float,
        meter: list[float] | None = None,
    ) -> tuple[Any, list]:
        """Call ``name`` as the harness calls a candidate process; ``deadline`` is not
        enforced."""
        request, table = wire.pack_call(name, args, kwargs)
        started = time.process_time()
        try:
            return self._exchange(request, table)
        finally:
            spent = time.process_time() - started
            self.cpu += spent
            if meter is not None:
                meter[0] += spent

    def _exchange(self, request: bytes, table: list) -> tuple[Any, list]:
        answer = wire.read_answer(candidate.encode(candidate.answer(self.module, request)))
        return act_on(answer, table, self.classes)

    def finish(self, grace: float = 0.0, reset: bool = False) -> dict:
        """The candidate is done: its module leaves ``sys.modules``; its usage."""
        if self.alive:
            self.alive = False
            self.usage = {"cpu": self.cpu}
            if sys.modules.get("solution") is self.module:
                del sys.modules["solution"]
        return self.usage or {}


class LocalSession(Session):
    """The harness's session (proxy module, answers, digests, copy-back), its candidates
    exec'd in this process; a round costs the process's CPU time. No deadlines."""

    # LocalCandidate stands in for the harness's CandidateProcess by duck typing, and there is no
    # server link in-process: the `type: ignore`s below say so (a protocol would replace them)
    def __init__(self, sources: dict[str, str], timing: bool = False) -> None:
        limits = DEFAULT_LIMITS.model_dump()
        super().__init__(link=None, sources=sources, limits=limits)  # type: ignore[arg-type]  # no link
        self.job_deadline = self.test_deadline = math.inf
        self.timing = timing

    def live(self) -> LocalCandidate:  # type: ignore[override]  # duck-typed candidate
        if self.process is None or not self.process.alive:
            self._account()
            self.process = LocalCandidate(self.sources[self.current_id], self.classes)  # type: ignore[assignment]  # duck-typed
        return self.process  # type: ignore[return-value]  # a LocalCandidate, set above

    def fresh(self, candidate_id: str) -> None:
        """A new round: the candidate's module exec'd afresh, the meter started before."""
        self.stop()
        self.current_id = candidate_id
        self.round_started = time.process_time()
        self.trace = []
        self.live()

    def round_cost(self) -> float:
        return time.process_time() - self.round_started


class LocalJob(Job):
    """A harness job without the alarm the harness sets per test: nothing is limited here."""

    def restart_clock(self, seconds: float | None = None) -> None:
        pass


class LocalPlugin(JobPlugin):
    """The harness's plugin (outcomes, seeding, the ``benchmark`` fixture, timing-only
    collection) without its signal handling, starting the candidate once the tests are
    collected and before any runs, as the harness does."""

    pytest_runtest_makereport = None  # type: ignore[assignment]  # off: the harness's cancels alarms and reads process faults

    def __init__(self, job: LocalJob, entry_point: str) -> None:
        super().__init__()
        self.start(job)
        self.entry_point = entry_point
        self.failure: dict | None = None
        self.internal_error = ""  # pytest's own crash, as one line (its traceback is long)

    def pytest_internalerror(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        where = excinfo.traceback[-1] if excinfo.traceback else None
        at = f" at {Path(str(where.path)).name}:{where.lineno + 1}" if where is not None else ""
        self.internal_error = f"{excinfo.typename}: {excinfo.value}{at}"

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "benchmark: pytest-benchmark options (accepted)")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        super().pytest_collection_modifyitems(items)
        assert self.job is not None  # started in __init__
        if runner._problem_error(self.job) is not None:
            return  # the collection error stops the session before any test
        session = self.job.session
        self.failure = _harness()._start_candidate(session, self.entry_point)
        if self.failure is not None:
            items.clear()
            return
        modules = list({item.module for item in items if hasattr(item, "module")})
        assert session.process is not None  # _start_candidate started it
        session.bind(session.process, modules)


def _harness() -> runner.Harness:
    """The harness, for its methods that use neither its server link nor its pytest (start-up
    checks and their messages, usage, timing on inputs): an instance without either."""
    harness = object.__new__(runner.Harness)
    harness.phases = runner.Phases()
    return harness


# -- the three jobs ---------------------------------------------------------------------------
def run_job(job: RunJob) -> RunResult:
    """One candidate against the job's tests, as the harness's ``run`` job."""
    started = time.perf_counter()
    session = LocalSession({"candidate": job.candidate})
    with _one_job(session):
        pytest_job = LocalJob(session=session, seed=job.seed, entry_point=job.entry_point)
        failure = _run_pytest(job.test_files, job.entry_point, pytest_job)
        result = _harness()._usage(session)
    _raise_problem(pytest_job)
    result["wall_seconds"] = time.perf_counter() - started
    if failure is not None:
        return RunResult.model_validate(result | failure)
    tests = list(pytest_job.outcomes.values())
    verdict, message = runner.verdict_of(tests, pytest_job.collect_errors, pytest_job.stopped)
    benchmarks = runner._benchmarks(pytest_job, "candidate")
    fields = {"tests": tests, "benchmarks": benchmarks, "verdict": verdict, "message": message,
              "benchmark_calls": pytest_job.recorded}  # fmt: skip
    return RunResult.model_validate(result | fields)


def call_inputs(job: CallJob) -> list[CallOutcome]:
    """The entry point on each input, as the harness's ``call`` job (``max_timeouts`` and
    ``limits`` are not enforced here)."""
    session = LocalSession({"candidate": job.candidate})
    entry, size = job.entry_point, job.value_bytes
    with _one_job(session):
        failure = _harness()._start_candidate(session, entry)
        if failure is not None:
            return [failed_call(failure)] * len(job.inputs)
        try:
            return [_call_one(session, entry, a, k, size) for a, k in _copied(job.inputs)]
        finally:
            session.stop()


def time_candidates(timing: TimingJob) -> TimingResult:
    """Interleaved rounds, as the harness's ``time`` job, held to what each candidate answered
    when tested or screened, as :meth:`sandbox.Sandbox.time` holds them."""
    expected = expected_digests(timing)
    rounds = timing.rounds
    session = LocalSession(timing.candidates | {runner.FLOOR: runner.FLOOR_SOURCE}, timing=True)
    with _one_job(session):
        job = LocalJob(
            session=session, rounds=rounds, timing_only=True, expected=expected,
            seed=timing.seed, sparse={runner.FLOOR: runner.FLOOR_ROUNDS},
        )  # fmt: skip
        if timing.inputs:
            request = {"entry_point": timing.entry_point, "inputs": pack_inputs(timing.inputs)}
            _harness()._time_inputs(request, job)
            failure = None
        else:
            failure = _run_pytest(timing.test_files, timing.entry_point, job)
        session.stop()
    _raise_problem(job)
    if failure is not None:
        raise SandboxError(f"timing failed: {failure['message']}")
    floor = runner.subtract_floor(job)
    timed = [cid for cid in job.samples if cid not in job.timing_errors]
    timings = {cid: runner._benchmarks(job, cid) for cid in timed}
    result = TimingResult.model_validate(
        {"timings": timings, "errors": job.timing_errors, "rounds": rounds, "floor": floor}
    )
    return check_against_expected(result, expected)


def _call_one(
    session: LocalSession, entry_point: str, args: tuple, kwargs: dict, value_bytes: int | None
) -> CallOutcome:
    """One input's outcome, built as the harness's ``call`` job builds it."""
    meter = session.meter = [0.0]
    try:
        value = session.call(entry_point, tuple(args), dict(kwargs))
    except Exception as error:
        return CallOutcome(ok=False, error=type(error).__name__, message=runner._said(error))
    finally:
        session.meter = None
    sent = runner._value_for_host(value, runner.value_limit(value_bytes))
    return CallOutcome(
        ok=True,
        value=sent,
        value_omitted=sent is None and value is not None,
        repr=runner._short_repr(value),
        digest=session.answer_digest(value),
        behaviour=session.answer_digest(value, loose=True),
        cpu_seconds=meter[0],
    )


# -- pytest, in this process --------------------------------------------------------------------
def _run_pytest(test_files: dict[str, str], entry_point: str, job: LocalJob) -> dict | None:
    """Collect the tests (``solution`` is the harness's proxy module meanwhile), start the
    candidate, run the tests; a failure dict when the candidate could not start."""
    plugin = LocalPlugin(job, entry_point)
    with _job_directory(test_files) as root:
        sys.modules["solution"] = job.session.proxy_module()
        code = pytest.main(_pytest_arguments(root), plugins=[plugin])
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        text = job.session.streams.text(2) + "\n" + job.session.streams.text(1)
        said = [line for line in text.splitlines() if line.strip() and not line.startswith("…[")]
        # the exception's own line, not the last line of its traceback
        raised = [
            line for line in said if re.search(r"^(INTERNALERROR> )?\w+(Error|Exception)\b", line)
        ]
        why = plugin.internal_error or (raised or said or [str(code)])[-1]
        raise SandboxError(f"pytest could not run the tests in-process: {why}")
    return plugin.failure


def _pytest_arguments(root: Path) -> list[str]:
    """Plugins as in the container (none from entry points, the harness's unused ones off,
    pytest-benchmark's fixture replaced), and nothing printed: this is the caller's terminal."""
    disabled = [*UNUSED_PLUGINS, "benchmark", "terminal"]
    return [
        *(arg for name in disabled for arg in ("-p", f"no:{name}")),
        *(["--disable-plugin-autoload"] if pytest.version_tuple >= (8, 4) else []),
        "--import-mode=importlib",
        "--capture=no",
        "--noconftest",
        "-c",
        os.devnull,
        "--rootdir",
        str(root),
        "-o",
        "python_files=test_*.py",
        str(root / TEST_DIR),
    ]


def _raise_problem(job: LocalJob) -> None:
    problem = runner._problem_error(job)
    if problem is not None:
        raise ProblemError(f"the problem's tests do not load: {problem}")


def _copied(inputs: list[tuple[tuple, dict]]) -> list[tuple[tuple, dict]]:
    """The inputs as the harness receives them: copies, so that a candidate changing its
    arguments in place changes neither the caller's inputs nor the next call's."""
    return pickle.loads(base64.b64decode(pack_inputs(inputs)))


@contextlib.contextmanager
def _one_job(session: LocalSession) -> Iterator[None]:
    """One job at a time, under the harness's hypothesis profile, its output kept in the
    session (as a candidate process's is), and the process left as found: its random state,
    its hypothesis profile and its ``solution`` module."""
    with ONE_JOB:
        state, profile = random.getstate(), settings.get_current_profile_name()
        saved = sys.modules.pop("solution", None)
        settings.load_profile(PROFILE)
        try:
            with (
                contextlib.redirect_stdout(Output(session.streams, 1)),
                contextlib.redirect_stderr(Output(session.streams, 2)),
            ):
                yield
        finally:
            sys.modules.pop("solution", None)
            if saved is not None:
                sys.modules["solution"] = saved
            settings.load_profile(profile)
            random.setstate(state)


class Output(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` during a job: the session's capped streams, not the
    caller's terminal (whatever any thread prints meanwhile lands there too)."""

    def __init__(self, streams: Streams, which: int) -> None:
        self.streams = streams
        self.which = which

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.streams.add(self.which, text.encode("utf-8", "replace"))
        return len(text)


@contextlib.contextmanager
def _job_directory(test_files: dict[str, str]) -> Iterator[Path]:
    """The job's test files in a fresh directory, under the module names pytest will give them
    (``tests.test_x``, which pytest would reuse if it found them in ``sys.modules``). Modules
    already known by those names (say, the caller's own ``tests`` package) are hidden meanwhile
    and put back after; the job's are dropped, so no job sees another's modules."""
    root = Path(tempfile.mkdtemp(prefix="unsafe-local-"))
    (root / TEST_DIR).mkdir()
    names = {TEST_DIR}
    for name, text in test_files.items():
        path = root / TEST_DIR / name
        path.write_text(text)
        names.add(module_name_from_path(path, root))
    hidden = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    try:
        yield root
    finally:
        for name, module in list(sys.modules.items()):
            if name in names or _is_under(module, root):
                del sys.modules[name]
        sys.modules.update(hidden)
        for cached in [p for p in sys.path_importer_cache if p.startswith(str(root))]:
            del sys.path_importer_cache[cached]
        shutil.rmtree(root, ignore_errors=True)


def _is_under(module: types.ModuleType, root: Path) -> bool:
    path = getattr(module, "__file__", None) or ""
    return path.startswith(str(root))
