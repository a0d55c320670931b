"""The LLM jury: a panel of judge models (PoLL) scores anonymised candidates, in parallel.

Every (judge, aspect) pair is one request, all sent at once through a
:class:`codegen.llm.model.ModelClient` (litellm's by default) and the shared retry loop
(:func:`codegen.llm.throttle.ask`): a rate limit or a 5xx is retried within the judge's deadline,
under a Throttle that may be the run's own.
Judges see the candidates as A, B, C… in an order shuffled per judge and aspect from a fixed
seed, to spread position bias. A reply must be JSON matching :class:`JudgeAnswer`; a malformed
one is retried once with the error shown to the judge. A judge that still fails, errors or
misses its hard deadline (``asyncio.wait_for``) is recorded in ``failures`` and skipped.

Votes are aggregated per aspect with mean Borda points and agreement is Kendall's W (see
:mod:`codegen.ranking.votes`). The jury explains and breaks ties; :mod:`codegen.ranking.rule`
never lets it override a test result or a measured speed difference.
"""

from __future__ import annotations

import asyncio
import random
import string
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence

from codegen.llm.errors import ModelError, TimedOut
from codegen.llm.model import ModelClient
from codegen.llm.throttle import DEFAULT_CAPS, DEFAULT_RETRY, RetryPolicy, Throttle, ask
from codegen.ranking.ballots import Ballot, JudgeFailure, JudgeSpec, JuryResult, parse_answer
from codegen.ranking.jury_prompts import Aspect, judge_messages, retry_message
from codegen.ranking.votes import kendall_w, mean_borda

Completer = Callable[[JudgeSpec, list[dict[str, str]]], Awaitable[str]]


def asking(
    model: ModelClient, throttle: Throttle | None = None, policy: RetryPolicy = DEFAULT_RETRY
) -> Completer:
    """The default transport: `model` through the shared retry loop, under `throttle` (a fresh
    one with the fan-out's default caps unless the run's own is given)."""
    caps = throttle or Throttle(*DEFAULT_CAPS)

    async def complete(judge: JudgeSpec, messages: list[dict[str, str]]) -> str:
        reply = await ask(model, judge, messages, throttle=caps, policy=policy)
        return reply.content or ""

    return complete


async def run_jury(
    candidates: Mapping[str, str],
    judges: Sequence[JudgeSpec],
    task: str,
    aspects: Sequence[Aspect] = tuple(Aspect),
    seed: int = 0,
    complete: Completer | None = None,
    *,
    model: ModelClient | None = None,
    throttle: Throttle | None = None,
) -> JuryResult:
    """Ask every judge about every aspect, in parallel, and aggregate the valid ballots.

    ``candidates`` maps id to source; give it the passing candidates only, since the jury's
    points are only ever used among candidates that are otherwise tied. The judges are asked
    through `model` (litellm's client by default) with retries under `throttle`; or, given
    `complete`, through that function alone.
    """
    ids = list(candidates)
    if len(ids) > len(string.ascii_uppercase):
        raise ValueError(f"the jury compares at most 26 candidates, not {len(ids)}")
    if complete is None:
        if model is None:
            from codegen.llm import client  # imported now: no judge's deadline pays for it

            model = client.LiteLLMClient()
        complete = asking(model, throttle)
    names = _judge_names(judges)
    slots = [asyncio.Semaphore(judge.max_parallel) for judge in judges]
    jobs = [
        _ask(judge, names[index], index, aspect, candidates, task, seed, complete, slots[index])
        for index, judge in enumerate(judges)
        for aspect in aspects
    ]
    outcomes = await asyncio.gather(*jobs) if ids else []
    ballots = [o for o in outcomes if isinstance(o, Ballot)]
    failures = [o for o in outcomes if isinstance(o, JudgeFailure)]
    aspect_points = {}
    agreement = {}
    for aspect in aspects:
        scores = [b.scores for b in ballots if b.aspect is aspect]
        aspect_points[aspect] = mean_borda(scores, ids)
        agreement[aspect] = kendall_w(scores, ids)
    points = {c: sum(aspect_points[a][c] for a in aspects) for c in ids}
    return JuryResult(
        candidates=ids,
        ballots=ballots,
        failures=failures,
        aspect_points=aspect_points,
        points=points,
        agreement=agreement,
    )


def judges_for(
    models: Sequence[str], api_base: str | None = None, timeout_s: float = 60.0
) -> list[JudgeSpec]:
    """Judges for model names given on the command line, addressed as the workers are
    (:mod:`codegen.llm.client`): an unknown model is bad input, before any request."""
    from codegen.errors import BadInput
    from codegen.llm import client

    specs = [JudgeSpec(model=model, api_base=api_base, timeout_s=timeout_s) for model in models]
    for spec in specs:
        try:
            client.resolve(spec)
        except BadInput:
            name = spec.model.split("/")[-1]
            raise BadInput(
                f"unknown judge model {spec.model!r}: use litellm's provider/model form, "
                f"e.g. openai/{name}"
            ) from None
    return specs


def judge_candidates(
    candidates: Mapping[str, str],
    judges: Sequence[JudgeSpec],
    task: str,
    aspects: Sequence[Aspect] = tuple(Aspect),
    seed: int = 0,
    complete: Completer | None = None,
    *,
    model: ModelClient | None = None,
) -> JuryResult:
    """Synchronous :func:`run_jury`, for callers without an event loop."""
    return asyncio.run(run_jury(candidates, judges, task, aspects, seed, complete, model=model))


def shown_order(ids: Sequence[str], judge_index: int, aspect: Aspect, seed: int) -> list[str]:
    """The seeded order in which one judge sees the candidates on one aspect."""
    order = list(ids)
    random.Random(f"{seed}:{judge_index}:{aspect}").shuffle(order)
    return order


def _judge_names(judges: Sequence[JudgeSpec]) -> list[str]:
    """The model string, suffixed #2, #3… when the same model sits on the panel twice."""
    seen: Counter[str] = Counter()
    names = []
    for judge in judges:
        seen[judge.model] += 1
        count = seen[judge.model]
        names.append(judge.model if count == 1 else f"{judge.model}#{count}")
    return names


async def _ask(
    judge: JudgeSpec,
    name: str,
    index: int,
    aspect: Aspect,
    candidates: Mapping[str, str],
    task: str,
    seed: int,
    complete: Completer,
    slot: asyncio.Semaphore,
) -> Ballot | JudgeFailure:
    order = shown_order(list(candidates), index, aspect, seed)
    labels = dict(zip(string.ascii_uppercase, order, strict=False))
    messages = judge_messages(task, aspect, [(label, candidates[c]) for label, c in labels.items()])
    async with slot:  # the deadline starts when the request may go out
        try:
            return await asyncio.wait_for(
                _converse(judge, name, aspect, messages, labels, complete),
                timeout=judge.timeout_s,
            )
        except (TimeoutError, TimedOut):
            return JudgeFailure(
                judge=name,
                aspect=aspect,
                kind="timeout",
                message=f"no answer within {judge.timeout_s:g}s",
            )
        except _Malformed as error:
            return JudgeFailure(judge=name, aspect=aspect, kind="malformed", message=str(error))
        except ModelError as error:  # retried already where that could help
            message = f"{error.error_class}: {error.message}"
            return JudgeFailure(judge=name, aspect=aspect, kind="error", message=message[:300])
        except Exception as error:  # a judge's transport error must not sink the jury
            text = str(error).splitlines()[0] if str(error) else ""
            message = f"{type(error).__name__}: {text}"
            return JudgeFailure(judge=name, aspect=aspect, kind="error", message=message[:300])


class _Malformed(Exception):
    pass


async def _converse(
    judge: JudgeSpec,
    name: str,
    aspect: Aspect,
    messages: list[dict[str, str]],
    labels: dict[str, str],
    complete: Completer,
) -> Ballot:
    """Ask, validate, and on a malformed reply ask once more with the error shown."""
    reply = await complete(judge, messages)
    try:
        answer = parse_answer(reply, labels)
        attempts = 1
    except ValueError as first:
        retry = [*messages, {"role": "assistant", "content": reply}, retry_message(str(first))]
        reply = await complete(judge, retry)
        try:
            answer = parse_answer(reply, labels)
        except ValueError as second:
            raise _Malformed(f"twice malformed: {second}") from None
        attempts = 2
    by_id = {labels[a.label]: a for a in answer.candidates}
    return Ballot(
        judge=name,
        aspect=aspect,
        shown_order=list(labels.values()),
        scores={c: a.score for c, a in by_id.items()},
        notes={c: a.note for c, a in by_id.items() if a.note},
        complexity={c: a.complexity for c, a in by_id.items() if a.complexity},
        risky_inputs={c: a.risky_inputs for c, a in by_id.items() if a.risky_inputs},
        attempts=attempts,
    )
