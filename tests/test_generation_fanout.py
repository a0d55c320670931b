"""The fan-out over real HTTP: litellm → the scripted fake OpenAI server on loopback."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from codegen.errors import BadInput, EnvironmentProblem
from codegen.generation import (
    FanoutLimits,
    GenerationEvent,
    GenerationTask,
    RepairFeedback,
    Roster,
    Worker,
    generate,
)
from codegen.testing import FakeOpenAIServer

STUB = 'def double(x: int) -> int:\n    """Return twice x."""\n'
TASK = GenerationTask(entry_point="double", stub=STUB, visible_tests="assert double(2) == 4")
GOOD = "```python\ndef double(x: int) -> int:\n    return 2 * x\n```"
OTHER = "```python\ndef double(x):\n    return x + x\n```"
FAST = FanoutLimits(backoff_base_s=0.01, backoff_max_s=5.0)


@pytest.fixture(autouse=True)
def _no_real_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_API_BASE", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _worker(server: FakeOpenAIServer, name: str, **fields: object) -> Worker:
    fields.setdefault("timeout_s", 5.0)
    return Worker(model=f"openai/{name}", api_base=server.base_url, **fields)  # type: ignore[arg-type]


def _roster(*workers: Worker, limits: FanoutLimits = FAST) -> Roster:
    return Roster(workers=workers, limits=limits)


def _run(roster: Roster, task: GenerationTask = TASK, **kwargs: object):  # noqa: ANN202
    return asyncio.run(generate(task, roster, **kwargs))  # type: ignore[arg-type]


def test_candidates_are_deduped_and_keep_every_proposer() -> None:
    replies = {"a": GOOD, "b": GOOD, "c": OTHER}
    script = {"models": {name: [{"content": text}] for name, text in replies.items()}}
    with FakeOpenAIServer(script) as server:
        roster = _roster(
            _worker(server, "a", persona="fastest", samples=2),
            _worker(server, "b", persona="simplest"),
            _worker(server, "c", persona="different"),
        )
        result = _run(roster)
    assert result.failures == []
    assert len(result.candidates) == 2
    first, second = sorted(result.candidates, key=lambda c: -len(c.proposers))
    assert sorted((p.model, p.sample) for p in first.proposers) == [
        ("openai/a", 0),
        ("openai/a", 1),
        ("openai/b", 0),
    ]
    assert [p.persona for p in second.proposers] == ["different"]
    proposal = first.proposers[0]
    assert proposal.latency_s > 0
    assert proposal.prompt_tokens > 0 and proposal.completion_tokens > 0
    assert proposal.cost_usd == 0.0  # not in litellm's cost map
    assert "return 2 * x" in first.code and "```" not in first.code


def test_prompt_carries_stub_tests_persona_feedback_and_sampling() -> None:
    task = TASK.model_copy(
        update={"feedback": RepairFeedback(code="def double(x): return x", test_output="E 1 != 2")}
    )
    with FakeOpenAIServer({"models": {"a": [{"content": GOOD}]}}) as server:
        worker = _worker(server, "a", persona="fastest", temperature=0.3, max_tokens=321)
        _run(_roster(worker), task)
        (request,) = server.requests
    body = request["body"]
    assert body["model"] == "a"
    assert body["temperature"] == 0.3 and body["max_tokens"] == 321
    system, user = body["messages"]
    assert "fastest" in system["content"]
    assert STUB.strip() in user["content"]
    assert "assert double(2) == 4" in user["content"]
    assert "E 1 != 2" in user["content"] and "def double(x): return x" in user["content"]
    assert request["headers"]["authorization"] == "Bearer sk-no-key-needed"


def test_429_is_retried_after_retry_after() -> None:
    script = {
        "models": {
            "busy": [{"status": 429, "headers": {"Retry-After": "1"}}, {"content": GOOD}],
        }
    }
    events: list[GenerationEvent] = []
    with FakeOpenAIServer(script) as server:
        result = _run(_roster(_worker(server, "busy")), on_event=events.append)
        first, second = server.requests
    assert result.failures == []
    (candidate,) = result.candidates
    assert candidate.proposers[0].attempts == 2
    # backoff alone would be 0.01 s: the gap is the server's Retry-After
    assert second["at"] - first["at"] >= 0.9
    assert [e.kind for e in events] == ["started", "retrying", "started", "finished"]
    assert events[1].error_class == "RateLimitError"


def test_retry_after_longer_than_the_cap_fails_at_once() -> None:
    script = {"models": {"busy": [{"status": 429, "headers": {"Retry-After": "3600"}}]}}
    with FakeOpenAIServer(script) as server:
        started = time.perf_counter()
        result = _run(_roster(_worker(server, "busy")))
        assert len(server.requests) == 1
    assert time.perf_counter() - started < 60  # not the hour it asked for; load-proof margin
    (failure,) = result.failures
    assert failure.error_class == "RateLimitError" and failure.attempts == 1


def test_500_is_retried_then_recorded() -> None:
    script = {"models": {"down": [{"status": 500}], "up": [{"content": GOOD}]}}
    limits = FanoutLimits(max_retries=2, backoff_base_s=0.01)
    with FakeOpenAIServer(script) as server:
        result = _run(_roster(_worker(server, "down"), _worker(server, "up"), limits=limits))
        assert len(server.requests_for("down")) == 3
    assert len(result.candidates) == 1
    (failure,) = result.failures
    assert (failure.model, failure.error_class, failure.attempts) == (
        "openai/down",
        "InternalServerError",
        3,
    )


def test_500_then_success_recovers() -> None:
    script = {"models": {"flaky": [{"status": 503}, {"status": 500}, {"content": GOOD}]}}
    with FakeOpenAIServer(script) as server:
        result = _run(_roster(_worker(server, "flaky")))
    assert result.failures == [] and result.candidates[0].proposers[0].attempts == 3


def test_a_hung_model_times_out_without_holding_up_the_others() -> None:
    script = {"models": {"stuck": [{"hang": True}], "ok": [{"content": GOOD, "delay_s": 0.2}]}}
    with FakeOpenAIServer(script) as server:
        started = time.perf_counter()
        result = _run(_roster(_worker(server, "stuck", timeout_s=1.0), _worker(server, "ok")))
        wall = time.perf_counter() - started
        assert len(server.requests_for("stuck")) == 1  # a timeout is not retried
    assert wall < 4.0
    assert len(result.candidates) == 1
    (failure,) = result.failures
    assert failure.error_class == "Timeout" and failure.latency_s >= 0.9


def test_malformed_and_empty_replies_are_failures_with_their_class() -> None:
    script = {
        "models": {
            "garbled": [{"body": "{this is not json"}],
            "empty": [{"content": ""}],
            "null": [{"content": None}],
            "chatty": [{"content": "I would rather talk about the weather."}],
            "ok": [{"content": "Sure, here you go:\n" + GOOD + "\nHope this helps!"}],
        }
    }
    limits = FanoutLimits(max_retries=0)
    with FakeOpenAIServer(script) as server:
        names = ["garbled", "empty", "null", "chatty", "ok"]
        result = _run(_roster(*(_worker(server, n) for n in names), limits=limits))
    by_model = {f.model.removeprefix("openai/"): f for f in result.failures}
    assert set(by_model) == {"garbled", "empty", "null", "chatty"}
    assert by_model["garbled"].error_class not in {"", "EmptyReply", "ExtractionError"}
    assert by_model["empty"].error_class == "EmptyReply"
    assert by_model["null"].error_class == "EmptyReply"
    assert by_model["chatty"].error_class == "ExtractionError"
    assert "weather" in by_model["chatty"].message
    (candidate,) = result.candidates
    assert "Hope" not in candidate.code and "Sure" not in candidate.code


def test_unreachable_server_is_a_failure_not_a_crash() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    worker = Worker(model="openai/gone", api_base=f"http://127.0.0.1:{port}/v1", timeout_s=5)
    result = _run(_roster(worker))
    (failure,) = result.failures
    assert failure.error_class == "APIConnectionError" and failure.attempts == 1


def test_requests_run_concurrently() -> None:
    delay = 0.6
    names = ["m1", "m2", "m3", "m4"]
    script = {"models": {n: [{"content": GOOD, "delay_s": delay}] for n in names}}
    with FakeOpenAIServer(script) as server:
        started = time.perf_counter()
        result = _run(_roster(*(_worker(server, n) for n in names)))
        wall = time.perf_counter() - started
    assert sum(len(c.proposers) for c in result.candidates) == 4
    assert wall < 0.6 * delay * len(names), wall


def test_provider_semaphore_serialises_one_api_base() -> None:
    delay = 0.3
    script = {"models": {"solo": [{"content": GOOD, "delay_s": delay}]}}
    with FakeOpenAIServer(script) as server:
        limits = FanoutLimits(per_provider=1)
        result = _run(_roster(_worker(server, "solo", samples=3), limits=limits))
        arrivals = sorted(r["at"] for r in server.requests)
    assert sum(len(c.proposers) for c in result.candidates) == 3
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert all(gap >= delay * 0.9 for gap in gaps), gaps


def test_global_cap_bounds_in_flight_requests() -> None:
    delay = 0.3
    script = {"models": {n: [{"content": GOOD, "delay_s": delay}] for n in ("p", "q")}}
    with FakeOpenAIServer(script) as server, FakeOpenAIServer(script) as other:
        limits = FanoutLimits(max_concurrency=1, per_provider=8)
        _run(_roster(_worker(server, "p"), _worker(other, "q"), limits=limits))
        arrivals = sorted(r["at"] for r in server.requests + other.requests)
    assert arrivals[1] - arrivals[0] >= delay * 0.9


def test_early_stop_cancels_the_slow_rest() -> None:
    script = {
        "models": {
            "quick": [{"content": GOOD, "delay_s": 0.1}],
            "slow": [{"content": OTHER, "delay_s": 5.0}],
        }
    }
    events: list[GenerationEvent] = []
    with FakeOpenAIServer(script) as server:
        roster = _roster(_worker(server, "quick"), _worker(server, "slow", samples=3))
        started = time.perf_counter()
        result = _run(roster, enough=1, on_event=events.append)
        wall = time.perf_counter() - started
    assert wall < 3.0
    assert len(result.candidates) == 1 and result.cancelled == 3
    assert result.failures == []
    assert sum(e.kind == "cancelled" for e in events) == 3


def test_events_report_every_request() -> None:
    script = {"models": {"ok": [{"content": GOOD}], "bad": [{"content": ""}]}}
    events: list[GenerationEvent] = []
    with FakeOpenAIServer(script) as server:
        roster = _roster(_worker(server, "ok", samples=2), _worker(server, "bad"))
        _run(roster, on_event=events.append)
    kinds = sorted(e.kind for e in events)
    assert kinds == ["failed", "finished", "finished", "started", "started", "started"]
    assert all(e.total_requests == 3 for e in events)
    assert max(e.candidates for e in events) == 1


def test_a_broken_event_callback_does_not_end_the_run() -> None:
    def explode(event: GenerationEvent) -> None:
        raise RuntimeError("display bug")

    with FakeOpenAIServer({"models": {"ok": [{"content": GOOD}]}}) as server:
        result = _run(_roster(_worker(server, "ok")), on_event=explode)
    assert len(result.candidates) == 1


def test_cost_comes_from_litellms_cost_map_for_known_models() -> None:
    script = {"models": {"gpt-4o-mini": [{"content": GOOD, "prompt_tokens": 1000}]}}
    with FakeOpenAIServer(script) as server:
        result = _run(_roster(_worker(server, "gpt-4o-mini")))
    proposal = result.candidates[0].proposers[0]
    assert proposal.prompt_tokens == 1000
    assert 0.0 < proposal.cost_usd < 0.01


def test_unknown_model_string_is_bad_input() -> None:
    with pytest.raises(BadInput, match="unknown model 'nonsense-model'"):
        _run(_roster(Worker(model="nonsense-model")))


def test_missing_api_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(EnvironmentProblem, match=r"\$ANTHROPIC_API_KEY"):
        _run(_roster(Worker(model="anthropic/claude-3-5-haiku-20241022")))


def test_api_key_env_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_GATEWAY_KEY", "sk-test-123")
    with FakeOpenAIServer({"models": {"ok": [{"content": GOOD}]}}) as server:
        _run(_roster(_worker(server, "ok", api_key_env="MY_GATEWAY_KEY")))
        (request,) = server.requests
    assert request["headers"]["authorization"] == "Bearer sk-test-123"


def test_openai_api_base_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer({"models": {"ok": [{"content": GOOD}]}}) as server:
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        result = _run(_roster(Worker(model="openai/ok", timeout_s=5)))
        assert len(server.requests) == 1
    assert len(result.candidates) == 1


def test_an_embedded_worker_stops_where_tests_begin_and_the_tester_is_not_cut() -> None:
    from codegen.generation.fanout import write_tests
    from codegen.generation.prompts import CODE_STOPS

    cut = GOOD.removesuffix("```")  # what a server returns when it stops at "\n# Test"
    script = {"models": {"local": [{"content": cut}], "hosted": [{"content": GOOD}]}}
    with FakeOpenAIServer(script) as server:
        roster = _roster(_worker(server, "local", stop_at_tests=True), _worker(server, "hosted"))
        result = _run(roster)
        asyncio.run(write_tests(TASK, _roster(_worker(server, "local", stop_at_tests=True))))
        bodies = {(r["body"]["model"], "tester" in r["body"]["messages"][0]["content"]): r["body"]
                  for r in server.requests}  # fmt: skip
    assert result.failures == [] and len(result.candidates) == 1  # the open fence still reads
    assert bodies[("local", False)]["stop"] == list(CODE_STOPS)
    assert "stop" not in bodies[("hosted", False)]  # hosted APIs cap stop lists at 4
    assert "stop" not in bodies[("local", True)]  # the tester writes asserts: never cut
