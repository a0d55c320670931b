"""The model seam with its in-memory double: ScriptedModel drives the fan-out, the tester and
the jury through the one retry loop (codegen.llm.throttle.ask), with typed errors scripted."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from codegen.errors import BadInput, EnvironmentProblem
from codegen.generation import FanoutLimits, GenerationEvent, GenerationTask, Roster, Worker
from codegen.generation.fanout import generate, write_tests
from codegen.llm.client import LiteLLMClient
from codegen.llm.errors import (
    AuthFailed,
    BadRequest,
    ModelError,
    ModelFault,
    RateLimited,
    Refused,
    TimedOut,
    Unavailable,
    UnknownModel,
    Unreachable,
)
from codegen.llm.model import ModelClient, ModelReply
from codegen.llm.scripted import ScriptedModel
from codegen.llm.throttle import Retry, Throttle, ask, retry_delay
from codegen.ranking.ballots import JudgeSpec
from codegen.ranking.jury import judge_candidates
from codegen.ranking.jury_prompts import Aspect
from codegen.solve.rounds import check_reachable

BASE = "http://scripted.invalid/v1"  # never contacted: routes the throttle without litellm
STUB = 'def double(x: int) -> int:\n    """Return twice x."""\n'
TASK = GenerationTask(entry_point="double", stub=STUB, visible_tests="assert double(2) == 4")
GOOD = "```python\ndef double(x: int) -> int:\n    return 2 * x\n```"
TESTS = "```python\nassert double(3) == 6\n```"
VERDICT = '{"candidates": [{"label": "A", "score": 7}, {"label": "B", "score": 3}]}'
FAST = FanoutLimits(backoff_base_s=0.01, max_retries=2)


def _worker(name: str) -> Worker:
    return Worker(model=f"openai/{name}", api_base=BASE)


def _roster(*names: str) -> Roster:
    return Roster(workers=tuple(_worker(n) for n in names), limits=FAST)


def test_both_clients_are_model_clients() -> None:
    assert isinstance(ScriptedModel({"openai/a": ["x"]}), ModelClient)
    assert isinstance(LiteLLMClient(), ModelClient)


def test_the_fanout_retries_a_rate_limit_then_succeeds() -> None:
    model = ScriptedModel({"openai/busy": [RateLimited("openai/busy", "slow down"), GOOD]})
    events: list[GenerationEvent] = []
    result = asyncio.run(generate(TASK, _roster("busy"), model=model, on_event=events.append))
    assert result.failures == []
    (candidate,) = result.candidates
    assert candidate.proposers[0].attempts == 2 and "return 2 * x" in candidate.code
    assert [e.kind for e in events] == ["started", "retrying", "started", "finished"]
    assert events[1].error_class == "RateLimited"
    assert len(model.calls_for("openai/busy")) == 2


@pytest.mark.parametrize(
    "error, fault",
    [
        (AuthFailed("openai/m", "bad key", error_class="AuthenticationError"),
         ModelFault.AUTH_FAILED),
        (BadRequest("openai/m", "no such parameter"), ModelFault.BAD_REQUEST),
        (Refused("openai/m", "I cannot help with that"), ModelFault.REFUSED),
    ],
)  # fmt: skip
def test_the_fanout_never_retries_auth_bad_requests_or_refusals(
    error: ModelError, fault: ModelFault
) -> None:
    model = ScriptedModel({"openai/m": [error, GOOD]})
    result = asyncio.run(generate(TASK, _roster("m"), model=model))
    (failure,) = result.failures
    assert (failure.fault, failure.attempts, failure.error_class) == (fault, 1, error.error_class)
    assert failure.message == error.message
    assert len(model.calls) == 1 and result.candidates == []


def test_the_fanout_gives_up_after_its_retries_and_records_the_kind() -> None:
    model = ScriptedModel({"openai/down": [Unavailable("openai/down", "503 from the server")]})
    result = asyncio.run(generate(TASK, _roster("down"), model=model))
    (failure,) = result.failures
    assert failure.fault is ModelFault.UNAVAILABLE and failure.attempts == FAST.max_retries + 1
    assert len(model.calls) == FAST.max_retries + 1


def test_an_unscripted_model_is_refused_before_any_request() -> None:
    model = ScriptedModel({"openai/a": [GOOD]})
    with pytest.raises(BadInput, match="openai/b"):
        asyncio.run(generate(TASK, _roster("a", "b"), model=model))
    assert model.calls == []


def test_the_tester_retries_through_the_same_loop() -> None:
    model = ScriptedModel(
        {
            "openai/flaky": [Unavailable("openai/flaky", "502"), TESTS],
            "openai/nokey": [AuthFailed("openai/nokey", "bad key", error_class="AuthError")],
        }
    )
    replies = asyncio.run(write_tests(TASK, _roster("flaky", "nokey"), model=model))
    by_model = {r.model: r for r in replies}
    assert by_model["openai/flaky"].text == TESTS and not by_model["openai/flaky"].error
    assert by_model["openai/nokey"].error == "AuthError: bad key"
    assert len(model.calls_for("openai/flaky")) == 2 and len(model.calls_for("openai/nokey")) == 1


def test_the_jury_retries_a_rate_limit_and_not_a_refused_key() -> None:
    model = ScriptedModel(
        {
            "openai/busy": [RateLimited("openai/busy", "slow down", retry_after_s=0.01), VERDICT],
            "openai/nokey": [AuthFailed("openai/nokey", "bad key", error_class="AuthError")],
        }
    )
    judges = [JudgeSpec(model=f"openai/{n}", api_base=BASE) for n in ("busy", "nokey")]
    result = judge_candidates({"a": "x = 1", "b": "x = 2"}, judges, task="t",
                              aspects=[Aspect.EFFICIENCY], model=model)  # fmt: skip
    (ballot,) = result.ballots
    assert ballot.judge == "openai/busy" and ballot.scores == {"a": 7, "b": 3}
    (failure,) = result.failures
    assert (failure.judge, failure.kind, failure.message) == (
        "openai/nokey", "error", "AuthError: bad key",
    )  # fmt: skip
    assert len(model.calls_for("openai/busy")) == 2 and len(model.calls_for("openai/nokey")) == 1


def test_a_judge_that_times_out_is_a_timeout() -> None:
    model = ScriptedModel({"openai/slow": [TimedOut("openai/slow", "no reply", retryable=False)]})
    judge = JudgeSpec(model="openai/slow", api_base=BASE, timeout_s=7)
    result = judge_candidates({"a": "x = 1", "b": "x = 2"}, [judge], task="t",
                              aspects=[Aspect.EFFICIENCY], model=model)  # fmt: skip
    (failure,) = result.failures
    assert failure.kind == "timeout" and failure.message == "no answer within 7s"


def test_only_rate_limits_unavailability_and_timeouts_may_be_retried() -> None:
    policy = Retry(max_retries=3, backoff_base_s=0.5, backoff_max_s=4.0)
    assert retry_delay(RateLimited("m", "x"), 1, policy) == 0.5
    assert retry_delay(Unavailable("m", "x"), 2, policy) == 1.0
    assert retry_delay(TimedOut("m", "408 from the gateway"), 3, policy) == 2.0
    assert retry_delay(RateLimited("m", "x"), 4, policy) is None  # out of attempts
    assert retry_delay(RateLimited("m", "x", retry_after_s=3.0), 1, policy) == 3.0
    assert retry_delay(RateLimited("m", "x", retry_after_s=60.0), 1, policy) is None
    assert retry_delay(TimedOut("m", "deadline spent", retryable=False), 1, policy) is None
    assert retry_delay(Unreachable("m", "connection refused"), 1, policy) is None
    for final in (AuthFailed, BadRequest, Refused):
        assert not final("m", "x", retryable=True).retryable
        assert retry_delay(final("m", "x"), 1, policy) is None


def test_the_loop_raises_the_last_error_with_its_attempts() -> None:
    model = ScriptedModel({"openai/m": [RateLimited("openai/m", "x")]})
    endpoint = _worker("m")

    async def scenario() -> ModelError:
        once = Retry(max_retries=1, backoff_base_s=0)
        with pytest.raises(RateLimited) as raised:
            await ask(model, endpoint, [{"role": "user", "content": "hi"}],
                      throttle=Throttle(4, 4), policy=once)  # fmt: skip
        return raised.value

    error = asyncio.run(scenario())
    assert error.attempts == 2 and error.model == "openai/m"


def test_a_scripted_reply_can_answer_by_prompt() -> None:
    model = ScriptedModel({}, default=lambda messages: messages[-1]["content"].upper())
    reply = asyncio.run(model.complete(_worker("echo"), [{"role": "user", "content": "hi"}]))
    assert isinstance(reply, ModelReply) and reply.content == "HI"


@pytest.mark.parametrize(
    "error, raised",
    [
        (Unreachable("openai/m", "connection refused"), EnvironmentProblem),
        (AuthFailed("openai/m", "bad key"), EnvironmentProblem),
        (UnknownModel("openai/m", "404"), BadInput),
    ],
)
def test_no_candidate_at_all_is_the_environment_or_the_input(
    error: ModelError, raised: type[Exception]
) -> None:
    model = ScriptedModel({"openai/m": [error]})
    result = asyncio.run(generate(TASK, _roster("m"), model=model))
    session = SimpleNamespace(workers=[_worker("m")])
    with pytest.raises(raised):
        check_reachable(result, session)  # type: ignore[arg-type]  # only .workers is read
