"""solve, rank, optimise and bench end to end in seconds, without Docker: the flows take any sandbox
backend (sandbox.SandboxBackend), and these run them on the unsafe in-process one with trusted
candidates and a loopback fake model server. The Docker suites prove the same flows in the real
sandbox; these keep the flows' own logic quick to test."""

from __future__ import annotations

import asyncio
import io
import time
import warnings
from pathlib import Path

import pytest

from codegen.bench.evaluate import evaluate
from codegen.bench.executors import GenerateFn, TestFn
from codegen.bench.progress import LineProgress
from codegen.bench.records import EvalRequest, Evaluation
from codegen.bench.runner import BenchSpec, RunOutcome, run_bench
from codegen.bench.store import Store
from codegen.bench.suites import HumanEvalSuite
from codegen.evaluation import rank_candidates, read_candidates
from codegen.generation.fanout import generate, write_tests
from codegen.generation.personas import TESTER_SYSTEM
from codegen.llm.scripted import ScriptedModel
from codegen.optimise import load_target, optimise
from codegen.problems import load_problem
from codegen.settings import CodegenConfig, FileSettings, Overrides, resolve
from codegen.solve import SolveSession, solve
from codegen.testing import FakeOpenAIServer
from sandbox import UnsafeLocalSandbox
from tests.bench_support import canonical, count, pass_table, wrong
from tests.cli_support import ROOT, TWO_SUM_HASH, fenced
from tests.test_optimise import ANSWERS
from tests.test_optimise import FAST as OPTIMISE_FAST
from tests.test_optimise import SLOW as SLOW_MODULE

TWO_SUM = ROOT / "examples" / "two_sum"
BASE = "http://scripted.invalid/v1"  # never contacted: routes the throttle without litellm
# In one process, the backend's seeding of `random` for a job can meet hypothesis drawing the
# differential inputs in another thread: hypothesis notices and warns. Harmless here.
pytestmark = [
    pytest.mark.filterwarnings("ignore:UnsafeLocalSandbox runs candidate code"),
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]


def _in_seconds(work, limit: float = 60.0):  # noqa: ANN001, ANN202
    """Run the flow; it takes at most ``limit`` CPU seconds of this process (whose threads run
    the in-process sandbox): CPU, not wall time, so that a loaded machine does not fail it."""
    started = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = asyncio.run(work)
    assert time.process_time() - started < limit
    return result


def test_rank_picks_the_fast_correct_candidate() -> None:
    # not crashes.py: it ends its process, which here is this one
    paths = [
        TWO_SUM / "candidates" / f"{n}.py" for n in ("fast_hash", "slow_quadratic", "wrong_edge")
    ]
    sources = read_candidates([str(p) for p in paths])

    async def work():  # noqa: ANN202
        async with UnsafeLocalSandbox() as sandbox:
            return await rank_candidates(load_problem(str(TWO_SUM)), sources, sandbox, rounds=3)

    report = _in_seconds(work())
    verdicts = {Path(c.id).stem: c.passed for c in report.candidates}
    assert verdicts["fast_hash"] and verdicts["slow_quadratic"]
    assert not verdicts["wrong_edge"]
    assert Path(report.winner).stem == "fast_hash"


def test_solve_generates_tests_and_returns_the_winner(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    wrong = "def two_sum(nums, target):\n    return [0, 1]\n"
    script = {"models": {"coder": [fenced(TWO_SUM_HASH), fenced(wrong)]}}
    with FakeOpenAIServer(script) as server:
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        file = FileSettings(sandbox={"backend": "unsafe-local", "timing_rounds": 3})
        config = CodegenConfig.model_validate(file.model_dump())
        settings = resolve(config, Overrides(models=["openai/coder"], samples=2, jury=False))

        async def work():  # noqa: ANN202
            async with SolveSession(settings) as session:
                return await solve(load_problem(str(TWO_SUM)), session)

        report = _in_seconds(work())
    assert report.solved and "seen = {}" in report.code
    assert report.totals.requests == 8  # 4 default personas × 2 samples
    assert report.totals.passing == 1 and report.totals.candidates == 2


def test_bench_evaluates_one_humaneval_problem() -> None:
    problem = next(p for p in HumanEvalSuite().problems() if p.name == "HumanEval/0")
    right = problem.prompt + (problem.canonical_solution or "")
    wrong = problem.prompt + "    return False\n"

    async def work():  # noqa: ANN202
        request = EvalRequest(problem=problem, candidates={"a": right, "b": wrong}, rounds=3)
        async with UnsafeLocalSandbox() as sandbox:
            return await evaluate(request, sandbox)

    result = _in_seconds(work())
    assert result.pick == "a"
    assert result.candidates["a"].passed and not result.candidates["b"].passed
    assert result.canonical_s is not None and result.candidates["a"].efficiency is not None


def test_optimise_accepts_only_the_faster_equivalent(tmp_path: Path, monkeypatch) -> None:
    """The optimise flow's own logic (test the answers, hold them to the current version's
    behaviour, time the equivalent ones): the same scripted answers as tests/test_optimise.py,
    whose Docker run proves the CLI and the sandbox."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    module = tmp_path / "slow.py"
    module.write_text(SLOW_MODULE)
    script = {"models": {name: [fenced(code)] for name, code in ANSWERS.items()}}
    with FakeOpenAIServer(script) as server:
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        file = FileSettings(
            personas=["fastest"], sandbox={"backend": "unsafe-local", "timing_rounds": 5}
        )
        config = CodegenConfig.model_validate(file.model_dump())
        models = [f"openai/{name}" for name in ANSWERS]
        settings = resolve(config, Overrides(models=models, jury=False))

        async def work():  # noqa: ANN202
            async with SolveSession(settings) as session:
                return await optimise(load_target(f"{module}::has_duplicates"), session, rounds=1)

        report = _in_seconds(work(), limit=120)  # growth and timing rounds, in one process
    assert report.improved, (report.stopped, report.notes)
    accepted = report.chain[1]
    assert accepted.code == OPTIMISE_FAST and accepted.author == "openai/fast[fastest]"
    assert accepted.speedup and accepted.speedup > 1
    reasons = {r.author.split("/")[1].split("[")[0]: r.reason for r in report.rejected}
    assert reasons == {
        "wrong": "behaves differently",
        "large": "behaves differently",  # only sizes above 300 show it
        "mutates": "behaves differently",  # sorting the caller's list
        "slower": "not faster",
        "broken": "fails the tests",
    }


class _InProcessExecutor:
    """The bench's executor seam (codegen.bench.executors.Executor) over one in-process sandbox:
    the real evaluation (hidden tests, timing against the reference), with no Docker."""

    image: str = "unsafe-local"
    slots: int = 2
    generator: GenerateFn | None = None  # the models are asked on the driver (the test's)
    tester: TestFn | None = None

    def __init__(self) -> None:
        self.sandbox = UnsafeLocalSandbox()

    async def __aenter__(self) -> _InProcessExecutor:
        await self.sandbox.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sandbox.__aexit__(None, None, None)

    async def evaluate(self, request: EvalRequest) -> Evaluation:
        return await evaluate(request, self.sandbox)


def _bench_model(problems: list) -> ScriptedModel:  # noqa: ANN401
    """openai/canonical answers each HumanEval prompt with its canonical solution, openai/wrong
    with a wrong one; both write one (true) test case when asked as the tester."""
    by_stub = [(p.prompt.strip("\n"), p) for p in problems]

    def answer(variant: str):  # noqa: ANN202
        def reply(messages: list[dict[str, str]]) -> str:
            text = " ".join(str(m.get("content", "")) for m in messages)
            problem = next(p for stub, p in by_stub if stub in text)
            if messages[0].get("content") == TESTER_SYSTEM:
                return "```python\nassert True\n```"
            code = canonical(problem) if variant == "canonical" else wrong(problem)
            return f"```python\n{code}\n```"

        return reply

    return ScriptedModel({f"openai/{v}": [answer(v)] for v in ("canonical", "wrong")})


def test_bench_runs_stores_and_resumes_on_the_doubles(tmp_path: Path) -> None:
    """The bench flow (samples from the models, the tester, the real evaluation, the store,
    the pick and the resume) on the scripted model and the in-process sandbox; the Docker
    suites run `codegen bench` itself (tests/test_bench_e2e.py)."""
    suite = HumanEvalSuite()
    problems = suite.problems()[:2]
    model = _bench_model(problems)
    spec = BenchSpec(suite=suite, models=("openai/canonical", "openai/wrong"), samples=2,
                     limit=2, run_name="doubles", rounds=3, api_base=BASE)  # fmt: skip

    async def generate_fn(task, roster):  # noqa: ANN001, ANN202
        return await generate(task, roster, model=model)

    async def tester_fn(task, roster, per_model, cases):  # noqa: ANN001, ANN202
        return await write_tests(task, roster, per_model=per_model, cases=cases, model=model)

    def run() -> RunOutcome:
        with Store(tmp_path / "bench.sqlite") as store:
            work = run_bench(spec, store, _InProcessExecutor(), LineProgress(io.StringIO()),
                             generate_fn, tester_fn)  # fmt: skip
            return _in_seconds(work, limit=120)

    first = run()
    assert (first.total, first.done, first.evaluated_now) == (2, 2, 2)
    assert first.generated_now == 2 * 2 * 2  # problems × models × samples
    table = pass_table(tmp_path / "bench.sqlite", "doubles")
    assert len(table) == 8
    for (problem, model_name, _), (passed, pick_passed) in table.items():
        assert passed is (model_name == "openai/canonical"), (problem, model_name)
        assert pick_passed, problem
    db = tmp_path / "bench.sqlite"
    assert first.tester_now == count(db, "SELECT count(*) FROM tester_replies WHERE error = ''")
    assert first.tester_now >= 2 * 2  # problems × models, each stored
    measured = "SELECT count(*) FROM candidates WHERE json_extract(outcome, '$.efficiency') > 0"
    assert count(db, measured) == 2  # the canonical one, timed against the reference
    asked = len(model.calls)
    again = run()  # every problem done: nothing asked, nothing evaluated again
    assert (again.done, again.evaluated_now, again.generated_now) == (2, 0, 0)
    assert len(model.calls) == asked


SLOW_CALL = 300_000  # a busy loop per call, far beyond the timing noise of a busy machine


def test_bench_times_each_problem_once_the_canonical_in_the_rankings_rounds() -> None:
    problem = next(p for p in HumanEvalSuite().problems() if p.name == "HumanEval/0")
    right = problem.prompt + problem.canonical_solution
    slow = (
        f"{right}\n\n_reference = has_close_elements\n\n\n"
        "def has_close_elements(*args):\n"
        f"    sum(range({SLOW_CALL}))\n    return _reference(*args)\n"
    )
    wrong = problem.prompt + "    return False\n"

    async def work():  # noqa: ANN202
        request = EvalRequest(
            problem=problem, candidates={"a": right, "s": slow, "b": wrong}, rounds=3
        )
        async with UnsafeLocalSandbox() as sandbox:
            return await evaluate(request, sandbox)

    result = _in_seconds(work())
    assert result.pick == "a" and not result.candidates["b"].passed
    assert "timing" not in result.phases  # no timing job of its own: the ranking's measured it
    assert result.canonical_s is not None
    right_ratio, slow_ratio = result.candidates["a"].efficiency, result.candidates["s"].efficiency
    assert right_ratio is not None and slow_ratio is not None
    assert slow_ratio > right_ratio
    assert result.candidates["b"].efficiency is None


def test_bench_a_failing_canonical_touches_no_candidate() -> None:
    problem = next(p for p in HumanEvalSuite().problems() if p.name == "HumanEval/0")
    right = problem.prompt + problem.canonical_solution
    broken = problem.model_copy(
        update={"canonical_solution": "def has_close_elements(*args):\n    raise ValueError\n"}
    )

    async def work():  # noqa: ANN202
        request = EvalRequest(problem=broken, candidates={"a": right}, rounds=3)
        async with UnsafeLocalSandbox() as sandbox:
            return await evaluate(request, sandbox)

    result = _in_seconds(work())
    assert result.pick == "a" and result.candidates["a"].passed
    assert result.canonical_s is None and result.candidates["a"].efficiency is None
    assert any("reference failed while timed" in note for note in result.notes), result.notes
    assert "timing" in result.phases  # timed again in a job of its own, which failed too
    assert any("canonical failed while timed" in note for note in result.notes), result.notes
