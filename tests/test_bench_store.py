"""The run store on real SQLite, and resuming through the runner with a scripted generator,
tester and executor: no loss, no duplicates, infrastructure errors retried, tester replies
stored and never asked twice, other configurations never reused."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from codegen.bench.progress import LineProgress
from codegen.bench.records import (
    CandidateOutcome,
    EvalRequest,
    Evaluation,
    ProblemStatus,
    SampleStatus,
)
from codegen.bench.runner import BenchSpec, run_bench
from codegen.bench.store import MIGRATIONS, Store
from codegen.bench.suites import HumanEvalSuite
from codegen.errors import BadInput
from codegen.generation import (
    Candidate,
    Failure,
    GenerationResult,
    GenerationTask,
    Proposal,
    Roster,
)
from codegen.generation import types as generation_types
from codegen.ranking.consensus import GeneratedTest
from sandbox import SandboxUnavailable

MODELS = ("fake/good", "fake/bad")
SUITE = HumanEvalSuite()


class Crash(BaseException):
    """Stands in for the process dying mid-run."""


class Generator:
    """Good models answer `return 1`, bad ones `return 0`; scripted failures by entry point."""

    def __init__(self, fail: dict[tuple[str, str], str] | None = None) -> None:
        self.fail = dict(fail or {})  # (entry point, model) -> error class, once
        self.asked: list[tuple[str, str, int]] = []

    async def __call__(self, task: GenerationTask, roster: Roster) -> GenerationResult:
        candidates, failures = [], []
        for worker in roster.workers:
            for sample in range(worker.samples):
                self.asked.append((task.entry_point, worker.model, sample))
                error = self.fail.pop((task.entry_point, worker.model), None)
                if error:
                    failures.append(
                        Failure(model=worker.model, persona=worker.persona, sample=sample,
                                error_class=error, message="scripted")
                    )  # fmt: skip
                    continue
                value = 1 if worker.model.endswith("good") else 0
                proposal = Proposal(
                    model=worker.model, persona=worker.persona, sample=sample,
                    latency_s=0.1, prompt_tokens=3, completion_tokens=4,
                )  # fmt: skip
                code = f"def {task.entry_point}(*a):\n    return {value}\n"
                candidates.append(Candidate(code=code, fingerprint=f"fp{value}{task.entry_point}",
                                            proposers=[proposal]))  # fmt: skip
        return GenerationResult(candidates=candidates, failures=failures)


class FakeTester:
    """Every model writes `assert entry([1, 2], 3) == 1`; scripted errors by (entry, model),
    once each."""

    def __init__(self, fail: dict[tuple[str, str], str] | None = None) -> None:
        self.fail = dict(fail or {})
        self.asked: list[tuple[str, str]] = []

    async def __call__(
        self, task: GenerationTask, roster: Roster, per_model: int, cases: int
    ) -> list[generation_types.TesterReply]:
        assert (per_model, cases) == (1, 10)
        replies = []
        for worker in roster.workers:
            self.asked.append((task.entry_point, worker.model))
            error = self.fail.pop((task.entry_point, worker.model), None)
            if error:
                replies.append(generation_types.TesterReply(model=worker.model, error=error))
            else:
                text = f"```python\nassert {task.entry_point}([1, 2], 3) == 1\n```"
                replies.append(
                    generation_types.TesterReply(model=worker.model, text=text, cost_usd=0.5)
                )
        return replies


class Executor:
    """Passes `return 1`; can crash the run or fail like Docker on chosen calls."""

    image = "fake-image:1"
    slots = 1

    def __init__(self, crash_at: int | None = None, unavailable: set[str] = frozenset()) -> None:
        self.crash_at, self.unavailable, self.calls = crash_at, set(unavailable), []
        self.requests: list[EvalRequest] = []

    async def __aenter__(self) -> Executor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    async def evaluate(self, request: EvalRequest) -> Evaluation:
        self.calls.append(request.problem.name)
        self.requests.append(request)
        if self.crash_at is not None and len(self.calls) >= self.crash_at:
            raise Crash
        if request.problem.name in self.unavailable:
            self.unavailable.discard(request.problem.name)
            raise SandboxUnavailable("docker daemon went away")
        await asyncio.sleep(0)
        outcomes = {
            cid: CandidateOutcome(verdict="passed" if "return 1" in code else "failed",
                                  passed="return 1" in code, efficiency=1.0)
            for cid, code in request.candidates.items()
        }  # fmt: skip
        pick = next((cid for cid, o in outcomes.items() if o.passed), None)
        return Evaluation(candidates=outcomes, pick=pick, phases={"sandbox": 0.01},
                          confidence=0.75, evidence="2 of 4 candidates agree")  # fmt: skip


def _spec(**fields: object) -> BenchSpec:
    defaults: dict = {"suite": SUITE, "models": MODELS, "samples": 2, "limit": 5, "run_name": "r"}
    return BenchSpec(**{**defaults, **fields})


def _run(  # noqa: ANN202
    store: Store,
    executor: Executor,
    generator: Generator,
    writer: FakeTester | None = None,
    **fields: object,
):
    spec = _spec(**fields)
    progress = LineProgress()
    return asyncio.run(
        run_bench(spec, store, executor, progress, generator, writer or FakeTester())
    )


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as raw:
        return raw.execute(sql).fetchone()[0]


def test_migrations_are_recorded_once_and_the_store_is_wal(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite"
    Store(db).close()
    Store(db).close()
    names = [name for name, _ in MIGRATIONS]
    with sqlite3.connect(db) as raw:
        assert [r[0] for r in raw.execute("SELECT name FROM _migrations")] == names
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_resume_after_a_crash_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite"
    generator, tester = Generator(), FakeTester()
    with Store(db) as store, pytest.raises(Crash):
        _run(store, Executor(crash_at=3), generator, tester)
    done_before = _count(db, "SELECT count(*) FROM problems WHERE status = 'done'")
    assert 1 <= done_before < 5

    executor = Executor()
    with Store(db) as store:
        outcome = _run(store, executor, generator, tester)
        data = store.load("r")
    assert (outcome.done, outcome.total, outcome.infra_errors) == (5, 5, 0)
    assert len(executor.calls) == 5 - done_before  # finished problems are not evaluated again
    # Samples stored before the crash were not asked for again; each exists exactly once.
    assert len(generator.asked) == len(set(generator.asked)) == 5 * 2 * 2
    assert _count(db, "SELECT count(*) FROM samples") == 5 * 2 * 2
    assert _count(db, "SELECT count(*) FROM candidates") == 5 * 2
    # Tester replies likewise: one per problem and model, stored, never asked for twice.
    assert len(tester.asked) == len(set(tester.asked)) == 5 * 2
    assert _count(db, "SELECT count(*) FROM tester_replies") == 5 * 2
    assert all(len(p.tester) == 2 and p.confidence == 0.75 for p in data.problems)
    assert all(p.status is ProblemStatus.DONE and p.pick_passed for p in data.problems)
    assert [p.problem for p in data.problems] == [f"HumanEval/{i}" for i in range(5)]


def test_infrastructure_errors_are_stored_apart_and_retried_on_resume(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite"
    entry = SUITE.problems()[1].entry_point
    generator = Generator(
        fail={(entry, "fake/bad"): "Timeout", ("below_zero", "fake/good"): "ExtractionError"}
    )
    executor = Executor(unavailable={"HumanEval/2"})
    with Store(db) as store:
        first = _run(store, executor, generator)
        data = store.load("r")
    assert (first.done, first.infra_errors) == (3, 2)
    statuses = {p.problem: p for p in data.problems}
    assert statuses["HumanEval/1"].status is ProblemStatus.INFRA_ERROR
    assert "Timeout" in statuses["HumanEval/1"].message
    assert statuses["HumanEval/2"].status is ProblemStatus.INFRA_ERROR
    assert "docker daemon went away" in statuses["HumanEval/2"].message
    below_zero = statuses["HumanEval/3"]  # a reply without code is the model's failure
    assert below_zero.status is ProblemStatus.DONE
    assert [s.status for s in below_zero.samples if s.model == "fake/good"] == [
        SampleStatus.MODEL_ERROR, SampleStatus.OK
    ]  # fmt: skip

    asked = len(generator.asked)
    with Store(db) as store:
        second = _run(store, executor, generator)
    assert (second.done, second.infra_errors) == (5, 0)
    assert generator.asked[asked:] == [(entry, "fake/bad", 0)]  # only the unanswered sample
    assert _count(db, "SELECT count(*) FROM samples WHERE status = 'infra_error'") == 0
    assert _count(db, "SELECT count(*) FROM samples WHERE status = 'model_error'") == 1


def test_a_different_configuration_is_never_reused(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite"
    with Store(db) as store:
        _run(store, Executor(), Generator(), limit=2)
        with pytest.raises(BadInput, match=r"different configuration \(samples changed\)"):
            _run(store, Executor(), Generator(), limit=2, samples=3)
        generator = Generator()
        other = _run(store, Executor(), generator, limit=2, samples=3, run_name=None)
        assert other.name.startswith("humaneval-") and other.evaluated_now == 2
        assert len(generator.asked) == 2 * 2 * 3  # nothing borrowed from run "r"
        extended = _run(store, Executor(), Generator(), limit=3)  # --limit is not in the key
        assert (extended.evaluated_now, extended.done) == (1, 3)
        assert store.run_names() == ["r", other.name]


def test_the_ranking_gets_votes_and_the_model_written_tests(tmp_path: Path) -> None:
    executor = Executor()
    with Store(tmp_path / "bench.sqlite") as store:
        _run(store, executor, Generator(), limit=1, samples=3)
        record = store.load("r").problems[0]
    (request,) = executor.requests
    assert sorted(request.votes.values()) == [3, 3]  # each model wrote its program 3 times
    assert set(request.votes) == set(request.candidates)
    assert request.generated_tests == [
        GeneratedTest(args=[[1, 2], 3], expected=1, authors=["fake/good", "fake/bad"])
    ]
    assert (record.confidence, record.evidence) == (0.75, "2 of 4 candidates agree")
    assert [(t.model, t.index, t.cost_usd) for t in record.tester] == [
        ("fake/bad", 0, 0.5), ("fake/good", 0, 0.5)
    ]  # fmt: skip


def test_a_tester_error_is_a_note_and_is_retried_only_with_its_problem(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite"
    first, second = (p.entry_point for p in SUITE.problems()[:2])
    tester = FakeTester(
        fail={(first, "fake/good"): "Timeout: no answer", (second, "fake/bad"): "500"}
    )
    generator = Generator(fail={(second, "fake/good"): "Timeout"})  # its problem is retried
    with Store(db) as store:
        outcome = _run(store, Executor(), generator, tester, limit=2)
        data = {p.problem: p for p in store.load("r").problems}
    assert (outcome.done, outcome.infra_errors, outcome.tester_now) == (1, 1, 4)
    done = data["HumanEval/0"]  # the failed tester did not stop the problem: a note says so
    assert done.status is ProblemStatus.DONE
    assert "tester fake/good: Timeout: no answer" in done.message
    assert [t.error for t in done.tester] == ["", "Timeout: no answer"]
    assert data["HumanEval/1"].status is ProblemStatus.INFRA_ERROR

    asked = len(tester.asked)
    with Store(db) as store:
        again = _run(store, Executor(), generator, tester, limit=2)
        data = {p.problem: p for p in store.load("r").problems}
    assert (again.done, again.infra_errors, again.tester_now) == (2, 0, 1)
    # HumanEval/0 is done (its tester error stays a note); HumanEval/1's failed tester is
    # asked again with its problem, its answered one is not.
    assert tester.asked[asked:] == [(second, "fake/bad")]
    assert all(not t.error for t in data["HumanEval/1"].tester)
    assert _count(db, "SELECT count(*) FROM tester_replies") == 4


def test_the_tester_is_part_of_the_run_key(tmp_path: Path) -> None:
    with Store(tmp_path / "bench.sqlite") as store:
        _run(store, Executor(), Generator(), limit=1)
        with pytest.raises(BadInput, match=r"different configuration \(prompts, tester changed\)"):
            _run(store, Executor(), Generator(), limit=1, tester=False)
        tester = FakeTester()
        off = _run(store, Executor(), Generator(), tester, limit=1, tester=False, run_name=None)
        assert tester.asked == [] and off.tester_now == 0 and off.evaluated_now == 1
        on = _run(store, Executor(), Generator(), limit=1, run_name=None)
        assert on.name != off.name


def test_generated_tests_cross_to_a_worker_as_json_exactly() -> None:
    values = [
        ((1, 2), {3: "a", (4,): b"x"}),
        ({1, 2}, set()),
        (float("inf"), -float("inf")),
        (complex(1, -2), -0.0),
        ([None, True, "it's"], {"k": [1.5]}),
    ]
    tests = [GeneratedTest(args=[a], expected=e, authors=["m"]) for a, e in values]
    problem = SUITE.problems()[0]
    request = EvalRequest(problem=problem, candidates={}, rounds=1, generated_tests=tests)
    back = EvalRequest.model_validate_json(request.model_dump_json())
    assert back.generated_tests == tests
    for sent, got in zip(tests, back.generated_tests, strict=True):
        assert repr(got.args) == repr(sent.args) and repr(got.expected) == repr(sent.expected)
