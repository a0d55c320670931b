"""The fan-out: every request of a run goes out at once, bounded by a Throttle.

Every request goes through the shared retry loop (:func:`codegen.llm.throttle.ask`): the
throttle caps what is in flight per provider/api_base and in all; each attempt has a hard
deadline; rate limits and 5xx are retried after a backoff (outside the throttle); a request
that fails or hangs is recorded with its error class and typed fault and never fails the run.
With `enough`, the run stops as soon as that many distinct candidates have arrived and cancels
the rest. The model is any :class:`codegen.llm.model.ModelClient` (litellm's by default).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from codegen.generation.dedupe import CandidatePool
from codegen.generation.extract import EmptyReply, ExtractionError, extract_code
from codegen.generation.prompts import (
    CODE_STOPS,
    TEST_CASES,
    build_messages,
    build_test_messages,
)
from codegen.generation.roster import Roster, Worker
from codegen.generation.types import (
    Failure,
    GenerationEvent,
    GenerationResult,
    GenerationTask,
    Proposal,
    TesterReply,
)
from codegen.llm import client
from codegen.llm.errors import ModelError
from codegen.llm.model import ModelClient, ModelReply
from codegen.llm.throttle import Throttle, ask

log = logging.getLogger(__name__)

EventCallback = Callable[[GenerationEvent], None]


@dataclass
class _Run:
    task: GenerationTask
    roster: Roster
    on_event: EventCallback | None
    enough: int | None
    total: int
    throttle: Throttle
    pool: CandidatePool
    enough_reached: asyncio.Event
    model: ModelClient

    def emit(self, kind: str, worker: Worker, sample: int, **fields: object) -> None:
        if self.on_event is None:
            return
        event = GenerationEvent(
            kind=kind,
            model=worker.shown,
            persona=worker.persona,
            sample=sample,
            candidates=len(self.pool),
            total_requests=self.total,
            **fields,
        )
        try:
            self.on_event(event)
        except Exception:  # a broken progress display must not end the run
            log.exception("on_event callback failed")


async def generate(
    task: GenerationTask,
    roster: Roster,
    *,
    on_event: EventCallback | None = None,
    enough: int | None = None,
    throttle: Throttle | None = None,
    model: ModelClient | None = None,
) -> GenerationResult:
    """Ask every worker for `samples` candidates concurrently; dedupe what parses. Pass the
    `throttle` of a larger run (a repair round, a service) to share its caps."""
    model = model or client.LiteLLMClient()
    for worker in roster.workers:
        model.check(worker)
    started = time.perf_counter()
    limits = roster.limits
    run = _Run(
        task=task,
        roster=roster,
        on_event=on_event,
        enough=enough or limits.enough,
        total=roster.request_count,
        throttle=throttle or Throttle(limits.max_concurrency, limits.per_provider),
        pool=CandidatePool(),
        enough_reached=asyncio.Event(),
        model=model,
    )
    jobs = [(w, w.sample_offset + s) for w in roster.workers for s in range(w.samples)]
    tasks = [asyncio.create_task(_request(run, w, s)) for w, s in jobs]
    gathered = asyncio.gather(*tasks, return_exceptions=True)
    if run.enough:
        stopper = asyncio.create_task(run.enough_reached.wait())
        either: set[asyncio.Future[Any]] = {gathered, stopper}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        for job in tasks:
            job.cancel()  # no-op for the finished ones
    outcomes = await gathered

    failures: list[Failure] = []
    cancelled = 0
    for (worker, sample), outcome in zip(jobs, outcomes, strict=True):
        if isinstance(outcome, asyncio.CancelledError):
            cancelled += 1
        elif isinstance(outcome, BaseException):  # a bug, not a model failure: still recorded
            failures.append(_failure(worker, sample, outcome, 0.0, 0))
        elif isinstance(outcome, Failure):
            failures.append(outcome)
    return GenerationResult(
        candidates=run.pool.candidates,
        failures=failures,
        cancelled=cancelled,
        wall_s=time.perf_counter() - started,
    )


async def generate_each(
    task: GenerationTask,
    rosters: Sequence[tuple[Roster, Throttle]],
    on_event: EventCallback | None = None,
) -> GenerationResult:
    """Every roster at once, each under its own caps (hosted and embedded servers differ);
    merged: a round of solve's (initial, repair, dispute) or of optimise's."""
    results = await asyncio.gather(
        *(generate(task, r, on_event=on_event, throttle=t) for r, t in rosters)
    )
    merged = GenerationResult()
    for result in results:
        merged.candidates.extend(result.candidates)
        merged.failures.extend(result.failures)
        merged.cancelled += result.cancelled
    return merged


async def _request(run: _Run, worker: Worker, sample: int) -> Failure | None:
    """One sample of one worker, with its retries; returns its Failure, or None on success."""
    messages = build_messages(run.task, worker.persona)
    started = time.perf_counter()
    attempt = 0

    def started_attempt(number: int) -> None:
        nonlocal attempt
        attempt = number
        run.emit("started", worker, sample, attempt=number)

    def retrying(error: ModelError, number: int, delay: float) -> None:
        run.emit(
            "retrying", worker, sample, attempt=number, latency_s=time.perf_counter() - started,
            error_class=error.error_class, message=f"retry in {delay:.2f}s",
        )  # fmt: skip

    try:
        reply = await ask(
            run.model, worker, messages, throttle=run.throttle, policy=run.roster.limits,
            stop=CODE_STOPS if worker.stop_at_tests else (), on_attempt=started_attempt,
            on_retry=retrying,
        )  # fmt: skip
    except asyncio.CancelledError:
        run.emit("cancelled", worker, sample, attempt=attempt)
        raise
    except Exception as error:  # a ModelError, or a bug: recorded either way
        elapsed = time.perf_counter() - started
        failure = _failure(worker, sample, error, elapsed, attempt)
        run.emit(
            "failed", worker, sample, attempt=attempt, latency_s=elapsed,
            error_class=failure.error_class, message=failure.message,
        )  # fmt: skip
        return failure
    return _accept(run, worker, sample, reply, attempt, time.perf_counter() - started)


def _accept(
    run: _Run, worker: Worker, sample: int, reply: ModelReply, attempt: int, total_s: float
) -> Failure | None:
    try:
        if reply.content is None or not reply.content.strip():
            raise EmptyReply("model returned an empty reply")
        code = extract_code(
            reply.content,
            run.task.entry_point,
            run.task.stub,
            earlier_versions(run.task),
            run.task.module,
        )
    except ExtractionError as rejected:
        failure = _failure(worker, sample, rejected, total_s, attempt, reply.content)
        run.emit(
            "failed", worker, sample, attempt=attempt, latency_s=total_s,
            error_class=failure.error_class, message=failure.message,
        )  # fmt: skip
        return failure
    proposal = Proposal(
        model=worker.shown,
        persona=worker.persona,
        sample=sample,
        latency_s=reply.latency_s,
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        cost_usd=reply.cost_usd,
        attempts=attempt,
    )
    run.pool.add(code, proposal)
    run.emit("finished", worker, sample, attempt=attempt, latency_s=reply.latency_s)
    if run.enough and len(run.pool) >= run.enough:
        run.enough_reached.set()
    return None


def earlier_versions(task: GenerationTask) -> list[str]:
    """The code a repair or an optimisation starts from: a reply that forgets one of its
    imports gets it back (the repair once lost `defaultdict` that way)."""
    earlier = [task.feedback.code if task.feedback else None,
               task.optimise.code if task.optimise else None]  # fmt: skip
    return [code for code in earlier if code]


def _failure(
    worker: Worker,
    sample: int,
    error: BaseException,
    latency_s: float,
    attempts: int,
    reply: str | None = None,
) -> Failure:
    message = " ".join(str(error).split())[:300] or type(error).__name__
    if reply:
        message += f"; reply starts {reply.strip()[:80]!r}"
    typed = error if isinstance(error, ModelError) else None
    return Failure(
        model=worker.shown,
        persona=worker.persona,
        sample=sample,
        error_class=typed.error_class if typed else type(error).__name__,
        fault=typed.fault if typed else None,
        message=message,
        latency_s=latency_s,
        attempts=attempts,
    )


async def write_tests(
    task: GenerationTask,
    roster: Roster,
    *,
    per_model: int = 1,
    cases: int = TEST_CASES,
    throttle: Throttle | None = None,
    model: ModelClient | None = None,
) -> list[TesterReply]:
    """``per_model`` tester requests for each model of the roster (through its first worker),
    all at once, under the same caps and retry loop as the generation they run beside. A failed
    request is a reply with its error: the tests are soft evidence, never worth failing a run
    for."""
    firsts: dict[str, Worker] = {}
    for worker in roster.workers:
        firsts.setdefault(worker.model, worker)
    throttle = throttle or Throttle(roster.limits.max_concurrency, roster.limits.per_provider)
    model = model or client.LiteLLMClient()
    messages = build_test_messages(task, cases)
    return list(
        await asyncio.gather(
            *(
                _tester_request(model, worker, messages, throttle, roster)
                for worker in firsts.values()
                for _ in range(per_model)
            )
        )
    )


async def _tester_request(
    model: ModelClient,
    worker: Worker,
    messages: list[dict[str, str]],
    throttle: Throttle,
    roster: Roster,
) -> TesterReply:
    started = time.perf_counter()
    try:
        reply = await ask(model, worker, messages, throttle=throttle, policy=roster.limits)
    except ModelError as failed:
        return TesterReply(model=worker.shown, error=f"{failed.error_class}: {failed.message}")
    except Exception as bug:  # still only a missing tester reply, never a failed run
        message = " ".join(str(bug).split())[:300]
        return TesterReply(model=worker.shown, error=f"{type(bug).__name__}: {message}")
    return TesterReply(
        model=worker.shown,
        text=reply.content or "",
        latency_s=time.perf_counter() - started,
        cost_usd=reply.cost_usd,
    )
