"""A leaderboard run: for every problem, generate what is missing, evaluate, store; resumable.

Each problem goes through these stored steps, each one SQLite transaction:

1. its samples (model × persona × sample): generated only when missing or when a previous
   attempt hit an infrastructure error, so a resumed run never pays twice for a model's answer;
   at the same time, with the tester on, its tester replies (each model writes test cases:
   ``TESTER_PER_MODEL`` requests of ``TESTER_CASES`` cases), stored and retried the same way;
2. its evaluation (candidates and the ensemble's pick, which weighs each program's votes and
   the model-written tests), which marks the problem ``done``.

A problem with an infrastructure error (no answer from a model, Docker or Ray trouble) is stored
as such and retried on the next run of the same command; it never counts as a model failure. A
tester without an answer is not one: its tests are soft evidence, so the problem goes on without
them (a note says so), and the request is retried only if the problem is.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from codegen.bench.config import TESTER_CASES, TESTER_PER_MODEL, RunConfig, prompts_hash
from codegen.bench.executors import Executor, GenerateFn, TestFn
from codegen.bench.progress import Progress
from codegen.bench.records import (
    EvalRequest,
    Evaluation,
    ProblemStatus,
    SampleKey,
    SampleRecord,
    SampleStatus,
    TesterRecord,
)
from codegen.bench.store import Store
from codegen.bench.suites import Suite
from codegen.errors import BadInput
from codegen.generation import (
    FanoutLimits,
    GenerationTask,
    Roster,
    Worker,
)
from codegen.generation.extract import EmptyReply, ExtractionError
from codegen.generation.test_cases import generated_tests
from codegen.generation.types import TesterReply
from codegen.llm.endpoint import Endpoint
from codegen.llm.throttle import Throttle
from codegen.local_models import MODELS as EMBEDDED
from codegen.problems import Problem
from codegen.ranking.ballots import JudgeSpec
from codegen.ranking.consensus import GeneratedTest
from sandbox import ProblemError

# the class names a reply without usable code is recorded under (a model's fault, not the
# infrastructure's); named from the classes, so that a rename cannot silently change a status
MODEL_ERRORS = {ExtractionError.__name__, EmptyReply.__name__}


@dataclass(frozen=True)
class Route:
    """Where a model of the run is served under another name: an embedded model's own server
    (:mod:`codegen.bench.embedded`), asked for as ``model`` (a litellm string) at ``api_base``,
    with its own deadline (None: the spec's)."""

    model: str
    api_base: str
    timeout_s: float | None = None


@dataclass(frozen=True)
class BenchSpec:
    """What the user asked for; ``limit``, ``run_name``, ``api_base``, ``timeout_s`` and
    ``routes`` are not part of the run key. ``models`` and ``judges`` are the names the user
    typed, stored as such; ``routes`` says how to reach those that are not litellm strings
    (the embedded models, keyed by their name)."""

    suite: Suite
    models: tuple[str, ...]
    personas: tuple[str, ...] = ("simplest",)
    samples: int = 1
    limit: int | None = None
    run_name: str | None = None
    rounds: int = 5
    api_base: str | None = None
    timeout_s: float = 120.0
    temperature: float = 0.7
    max_tokens: int = 1024
    judges: tuple[str, ...] = ()  # the jury (litellm strings or embedded names); none: no jury
    tester: bool = True  # each model writes test cases, soft evidence for the pick
    routes: Mapping[str, Route] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        asked = {r.model for name, r in self.routes.items() if name in self.models}
        clash = sorted(asked & set(self.models))
        if clash:  # the replies could not be told apart
            raise BadInput(f"{clash[0]!r} is in --models twice: once by name, once as served")

    def worker(self, model: str, **fields: object) -> Worker:
        """The Worker that asks ``model`` (a name of the run): through its route, or as a
        litellm string at ``api_base``."""
        route = self.routes.get(model)
        return Worker(
            model=route.model if route else model,
            api_base=route.api_base if route else self.api_base,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            timeout_s=(route.timeout_s if route else None) or self.timeout_s,
            **fields,
        )

    def config(self, image: str) -> RunConfig:
        return RunConfig(
            suite=self.suite.name,
            suite_version=self.suite.version,
            models=self.models,
            personas=self.personas,
            samples=self.samples,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            prompts=prompts_hash(self.personas, tester=self.tester),
            image=image,
            rounds=self.rounds,
            judges=self.judges,
            tester=self.tester,
        )

    def sample_keys(self) -> list[SampleKey]:
        return [
            SampleKey(model=m, persona=p, sample=s)
            for m in self.models
            for p in self.personas
            for s in range(self.samples)
        ]

    def tester_keys(self) -> list[tuple[str, int]]:
        """(model, index) of every tester request of a problem; none with the tester off."""
        if not self.tester:
            return []
        return [(m, i) for m in self.models for i in range(TESTER_PER_MODEL)]


class RunOutcome(BaseModel):
    name: str
    total: int
    done: int
    infra_errors: int
    suite_errors: int
    evaluated_now: int
    generated_now: int
    tester_now: int = 0
    wall_s: float


async def run_bench(
    spec: BenchSpec,
    store: Store,
    executor: Executor,
    progress: Progress,
    generate_fn: GenerateFn | None = None,
    tester_fn: TestFn | None = None,
) -> RunOutcome:
    started = time.perf_counter()
    problems = spec.suite.problems()
    if spec.limit is not None:
        problems = problems[: spec.limit]
    async with executor:
        # One request at a time per embedded server, for the whole run (see _Gated).
        gates = {r.api_base: asyncio.Semaphore(1) for r in spec.routes.values()}
        generate_fn = generate_fn or executor.generator or _default_generate(gates)
        tester_fn = tester_fn or getattr(executor, "tester", None) or _default_tester(gates)
        config = spec.config(executor.image)
        name = spec.run_name or f"{spec.suite.name}-{config.key()[:8]}"
        run_id = store.open_run(name, config)
        store.add_problems(run_id, [p.name for p in problems])
        statuses = store.statuses(run_id)
        todo = [p for p in problems if statuses[p.name] in _RETRIED]
        counters = {"evaluated": 0, "generated": 0, "tester": 0}
        jury = jury_of(spec)
        progress.start(name, total=len(problems), done=len(problems) - len(todo))
        slots = asyncio.Semaphore(max(2, 2 * executor.slots))

        async def one(problem: Problem) -> None:
            async with slots:
                status = await _problem(
                    spec, store, executor, run_id, problem, (generate_fn, tester_fn), counters, jury
                )
            progress.advance(problem.name, status)

        try:
            await asyncio.gather(*(one(p) for p in todo))
        finally:
            progress.close()
    final = store.statuses(run_id)
    names = [p.name for p in problems]
    return RunOutcome(
        name=name,
        total=len(problems),
        done=sum(final[n] is ProblemStatus.DONE for n in names),
        infra_errors=sum(final[n] is ProblemStatus.INFRA_ERROR for n in names),
        suite_errors=sum(final[n] is ProblemStatus.SUITE_ERROR for n in names),
        evaluated_now=counters["evaluated"],
        generated_now=counters["generated"],
        tester_now=counters["tester"],
        wall_s=time.perf_counter() - started,
    )


_RETRIED = {ProblemStatus.PENDING, ProblemStatus.INFRA_ERROR}


async def _problem(
    spec: BenchSpec,
    store: Store,
    executor: Executor,
    run_id: int,
    problem: Problem,
    asks: tuple[GenerateFn, TestFn],
    counters: dict[str, int],
    jury: list[JudgeSpec],
) -> ProblemStatus:
    generate_fn, tester_fn = asks
    stored = {SampleKey(model=r.model, persona=r.persona, sample=r.sample): r
              for r in store.samples(run_id, problem.name)}  # fmt: skip
    missing = [
        k
        for k in spec.sample_keys()
        if k not in stored or stored[k].status is SampleStatus.INFRA_ERROR
    ]
    wanted = spec.tester_keys()
    written = {(r.model, r.index): r for r in store.tester_replies(run_id, problem.name)
               if (r.model, r.index) in wanted}  # fmt: skip
    unwritten = [k for k in wanted if k not in written or written[k].error]
    phases: dict[str, float] = {}

    async def samples() -> None:
        if missing:
            fresh = await generate_samples(problem, missing, spec, generate_fn)
            store.save_samples(run_id, problem.name, fresh)
            counters["generated"] += len(fresh)
            stored.update({SampleKey(model=r.model, persona=r.persona, sample=r.sample): r
                           for r in fresh})  # fmt: skip

    async def tests() -> None:
        if unwritten:
            started = time.perf_counter()
            fresh = await generate_tester_replies(problem, unwritten, spec, tester_fn)
            store.save_tester_replies(run_id, problem.name, fresh)
            counters["tester"] += len(fresh)
            written.update({(r.model, r.index): r for r in fresh})
            phases["tester"] = time.perf_counter() - started

    started = time.perf_counter()
    await asyncio.gather(samples(), tests())  # the tester beside the samples, as solve does
    phases["generation"] = time.perf_counter() - started
    unanswered = [r for k, r in stored.items() if r.status is SampleStatus.INFRA_ERROR]
    if unanswered:
        message = f"{len(unanswered)} sample(s) got no answer: {unanswered[0].error}"
        store.mark(run_id, problem.name, ProblemStatus.INFRA_ERROR, message)
        return ProblemStatus.INFRA_ERROR
    replies = [written[k] for k in wanted if k in written]
    tests_written = problem_tests(problem, replies)
    ok = [r for _, r in sorted(stored.items(), key=lambda item: _order(spec, item[0]))
          if r.status is SampleStatus.OK and r.code_hash and r.code]  # fmt: skip
    candidates = {r.code_hash: r.code for r in ok if r.code_hash and r.code}
    votes = dict(Counter(r.code_hash for r in ok if r.code_hash))  # samples behind each program
    authors: dict[str, list[str]] = {}  # the models behind each program: agreement across models
    for r in ok:
        if r.code_hash:
            authors.setdefault(r.code_hash, []).append(r.model)
    request = EvalRequest(
        problem=problem,
        candidates=candidates,
        rounds=spec.rounds,
        judges=jury,
        generated_tests=tests_written,
        votes=votes,
        authors=authors,
    )
    try:
        evaluation: Evaluation = await executor.evaluate(request)
    except ProblemError as error:
        store.mark(run_id, problem.name, ProblemStatus.SUITE_ERROR, str(error))
        return ProblemStatus.SUITE_ERROR
    except (BadInput, asyncio.CancelledError):
        raise
    except Exception as error:  # Docker, Ray, the network: infrastructure, retried on resume
        store.mark(run_id, problem.name, ProblemStatus.INFRA_ERROR, _line(error))
        return ProblemStatus.INFRA_ERROR
    broken = [cid for cid, o in evaluation.candidates.items() if o.infra]
    if broken:
        message = f"sandbox failure on {broken[0]}: {evaluation.candidates[broken[0]].message}"
        store.mark(run_id, problem.name, ProblemStatus.INFRA_ERROR, message)
        return ProblemStatus.INFRA_ERROR
    # A tester without an answer is a note, not an infrastructure error: its tests are soft.
    evaluation.notes += [f"tester {r.model}: {r.error}" for r in replies if r.error]
    phases.update(evaluation.phases)
    store.save_evaluation(run_id, problem.name, evaluation, phases)
    counters["evaluated"] += 1
    return ProblemStatus.DONE


def _order(spec: BenchSpec, key: SampleKey) -> tuple[int, int, int]:
    """Candidates in a fixed order (model, persona, sample as given), so ties in the ranking
    break the same way on every run and executor."""
    return (spec.models.index(key.model), spec.personas.index(key.persona), key.sample)


def _line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "no message"
    return f"{type(error).__name__}: {text}"[:500]


async def generate_samples(
    problem: Problem, missing: Sequence[SampleKey], spec: BenchSpec, generate_fn: GenerateFn
) -> list[SampleRecord]:
    """Ask for exactly the missing samples; every one comes back as a record, with an
    infrastructure error when no answer arrived."""
    groups: dict[tuple[str, str], list[int]] = {}
    for key in missing:
        groups.setdefault((key.model, key.persona), []).append(key.sample)
    workers = tuple(
        spec.worker(model, persona=persona, samples=len(indices))
        for (model, persona), indices in groups.items()
    )
    named = {w.model: model for w, (model, _) in zip(workers, groups, strict=True)}
    task = GenerationTask(entry_point=problem.entry_point, stub=problem.prompt)
    try:
        result = await generate_fn(task, Roster(workers=workers, limits=FanoutLimits()))
    except (BadInput, asyncio.CancelledError):
        raise
    except Exception as error:
        return [
            SampleRecord(**k.model_dump(), status=SampleStatus.INFRA_ERROR, error=_line(error))
            for k in missing
        ]
    records: dict[SampleKey, SampleRecord] = {}

    def key_of(asked: str, persona: str, sample: int) -> SampleKey:
        model = named.get(asked, asked)  # the litellm string asked for -> the run's name
        return SampleKey(model=model, persona=persona, sample=groups[(model, persona)][sample])

    for candidate in result.candidates:
        code_hash = candidate.fingerprint[:16]
        for p in candidate.proposers:
            key = key_of(p.model, p.persona, p.sample)
            records[key] = SampleRecord(
                **key.model_dump(),
                status=SampleStatus.OK,
                code=candidate.code,
                code_hash=code_hash,
                latency_s=p.latency_s,
                prompt_tokens=p.prompt_tokens,
                completion_tokens=p.completion_tokens,
                cost_usd=p.cost_usd,
            )
    for failure in result.failures:
        key = key_of(failure.model, failure.persona, failure.sample)
        model_error = failure.error_class in MODEL_ERRORS
        records[key] = SampleRecord(
            **key.model_dump(),
            status=SampleStatus.MODEL_ERROR if model_error else SampleStatus.INFRA_ERROR,
            error=f"{failure.error_class}: {failure.message}",
            latency_s=failure.latency_s if model_error else None,
        )
    for key in missing:
        records.setdefault(
            key,
            SampleRecord(**key.model_dump(), status=SampleStatus.INFRA_ERROR, error="no answer"),
        )
    return [records[k] for k in missing]


def problem_tests(problem: Problem, replies: Sequence[TesterRecord]) -> list[GeneratedTest]:
    """The test cases of the answered tester replies, parsed and merged (pure)."""
    answered = [TesterReply(model=r.model, text=r.text) for r in replies if not r.error and r.text]
    params = problem.parameters
    positional = None if params is None else [p.name for p in params if p.kind == "positional"]
    return generated_tests(answered, problem.entry_point, positional)


async def generate_tester_replies(
    problem: Problem, missing: Sequence[tuple[str, int]], spec: BenchSpec, tester_fn: TestFn
) -> list[TesterRecord]:
    """Ask for exactly the missing tester replies ((model, index)); every one comes back as a
    record, with an error when no answer arrived. Models missing as many replies share a call."""
    by_model: dict[str, list[int]] = {}
    for model, index in missing:
        by_model.setdefault(model, []).append(index)
    by_count: dict[int, list[str]] = {}
    for model, indices in by_model.items():
        by_count.setdefault(len(indices), []).append(model)
    task = GenerationTask(entry_point=problem.entry_point, stub=problem.prompt)

    async def ask(count: int, models: list[str]) -> list[TesterRecord]:
        workers = tuple(spec.worker(model, persona=spec.personas[0]) for model in models)
        named = {w.model: model for w, model in zip(workers, models, strict=True)}
        roster = Roster(workers=workers, limits=FanoutLimits())
        try:
            replies = await tester_fn(task, roster, count, TESTER_CASES)
        except (BadInput, asyncio.CancelledError):
            raise
        except Exception as error:
            replies = [
                TesterReply(model=m, error=_line(error)) for m in models for _ in range(count)
            ]
        records: list[TesterRecord] = []
        seen: dict[str, int] = {}
        for reply in replies:
            model = named.get(reply.model, reply.model)
            indices = by_model.get(model, [])
            position = seen.get(model, 0)
            if position >= len(indices) or model not in models:
                continue
            seen[model] = position + 1
            records.append(
                TesterRecord(
                    model=model,
                    index=indices[position],
                    text=reply.text,
                    error=reply.error,
                    latency_s=None if reply.error else reply.latency_s,
                    cost_usd=reply.cost_usd,
                )
            )
        return records

    if len(by_count) == 1:  # the usual case: every model misses as many (one call, no task)
        ((count, models),) = by_count.items()
        groups = [await ask(count, models)]
    else:
        groups = await asyncio.gather(*(ask(c, models) for c, models in by_count.items()))
    records = {(r.model, r.index): r for group in groups for r in group}
    for model, index in missing:
        records.setdefault(
            (model, index), TesterRecord(model=model, index=index, error="no answer")
        )
    return [records[k] for k in missing]


class _Gated(Throttle):
    """A fan-out's own caps, except toward the servers in ``gates`` (embedded models, which
    answer one request at a time): their gates are shared by every problem of the run, so a
    request waits here, before its deadline starts, rather than in the server's queue."""

    def __init__(self, limits: FanoutLimits, gates: Mapping[str, asyncio.Semaphore]) -> None:
        super().__init__(limits.max_concurrency, limits.per_provider)
        self.gates = gates

    @contextlib.asynccontextmanager
    async def slot(self, endpoint: Endpoint) -> AsyncIterator[None]:
        gate = self.gates.get(endpoint.api_base or "")
        if gate is None:
            async with super().slot(endpoint):
                yield
        else:
            async with gate, self.everything:
                yield


def _default_tester(gates: Mapping[str, asyncio.Semaphore]) -> TestFn:
    from codegen.generation.fanout import write_tests

    async def ask(
        task: GenerationTask, roster: Roster, per_model: int, cases: int
    ) -> list[TesterReply]:
        throttle = _Gated(roster.limits, gates) if gates else None
        return await write_tests(task, roster, per_model=per_model, cases=cases, throttle=throttle)

    return ask


def _default_generate(gates: Mapping[str, asyncio.Semaphore]) -> GenerateFn:
    from codegen.generation import GenerationResult, generate

    if not gates:
        return generate

    async def ask(task: GenerationTask, roster: Roster) -> GenerationResult:
        return await generate(task, roster, throttle=_Gated(roster.limits, gates))

    return ask


def check_models(spec: BenchSpec) -> None:
    """Fail before any work when a model or judge cannot be routed or lacks its key. An
    embedded model without its route yet is checked when its server starts."""
    from codegen.llm import client

    for model in spec.models:
        if not _unserved(spec, model):
            client.check_endpoint(spec.worker(model))
    judges = tuple(j for j in spec.judges if not _unserved(spec, j))
    jury_of(dataclasses.replace(spec, judges=judges))


def _unserved(spec: BenchSpec, name: str) -> bool:
    return name in EMBEDDED and name not in spec.routes


def jury_of(spec: BenchSpec) -> list[JudgeSpec]:
    """The judges, addressed like the models (same ``api_base``, or their route: an embedded
    server, one request at a time); BadInput for an unknown one."""
    if not spec.judges:
        return []
    from codegen.ranking.jury import judges_for

    specs: list[JudgeSpec] = []
    for name in spec.judges:
        route = spec.routes.get(name)
        if route is None:
            specs += judges_for([name], spec.api_base, timeout_s=spec.timeout_s)
        else:
            specs.append(
                JudgeSpec(
                    model=route.model,
                    api_base=route.api_base,
                    timeout_s=route.timeout_s or spec.timeout_s,
                    max_parallel=1,
                )
            )
    return specs
