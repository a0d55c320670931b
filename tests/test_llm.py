"""The one model layer (codegen/llm): generation and the jury address models the same way, and
a run's requests share one set of caps."""

from __future__ import annotations

import asyncio
import time

import pytest

from codegen.generation import Worker
from codegen.llm import Endpoint, client
from codegen.llm.throttle import Throttle
from codegen.ranking.ballots import JudgeSpec
from codegen.ranking.jury import judge_candidates
from codegen.testing.fake_openai import FakeOpenAIServer

VERDICT = '{"candidates": [{"label": "A", "score": 7}, {"label": "B", "score": 3}]}'


def test_workers_and_judges_are_endpoints_routed_by_one_client(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    worker, judge = Worker(model="openai/m"), JudgeSpec(model="openai/m")
    assert isinstance(worker, Endpoint) and isinstance(judge, Endpoint)
    assert client.resolve(worker) == client.resolve(judge) == ("openai", "http://127.0.0.1:9/v1")
    assert client.provider_key(worker) == client.provider_key(judge)
    assert client.api_key(judge) == client.NO_KEY  # a keyless local server still gets a key
    assert judge.temperature == 0.0 and worker.temperature == 0.7  # judges are deterministic


def test_a_judge_reaches_a_server_named_only_in_the_environment(monkeypatch) -> None:
    with FakeOpenAIServer({"models": {"judge": [{"content": VERDICT}]}}) as server:
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        result = judge_candidates({"a": "x = 1", "b": "x = 2"}, [JudgeSpec(model="openai/judge")],
                                  task="t", aspects=["efficiency"])  # fmt: skip
    assert result.failures == [] and len(result.ballots) == 1


def test_the_throttle_caps_each_provider_and_the_whole() -> None:
    async def scenario() -> tuple[int, int]:
        throttle = Throttle(max_concurrency=3, per_provider=2)
        here, there = (
            Endpoint(model="openai/a", api_base="http://h/v1"),
            Endpoint(model="openai/b", api_base="http://t/v1"),
        )
        busy = {"http://h/v1": 0, "http://t/v1": 0, "all": 0}
        peaks = {"http://h/v1": 0, "all": 0}

        async def request(endpoint: Endpoint) -> None:
            async with throttle.slot(endpoint):
                busy[endpoint.api_base] += 1  # type: ignore[index]
                busy["all"] += 1
                peaks["http://h/v1"] = max(peaks["http://h/v1"], busy["http://h/v1"])
                peaks["all"] = max(peaks["all"], busy["all"])
                await asyncio.sleep(0.02)
                busy[endpoint.api_base] -= 1  # type: ignore[index]
                busy["all"] -= 1

        await asyncio.gather(
            *(request(here) for _ in range(6)), *(request(there) for _ in range(6))
        )
        return peaks["http://h/v1"], peaks["all"]

    per_provider, overall = asyncio.run(scenario())
    assert per_provider == 2 and overall == 3


@pytest.mark.parametrize("status, retried", [(429, True), (503, True), (400, False)])
def test_only_rate_limits_and_server_errors_are_retried(
    status: int, retried: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Failed(Exception):
        status_code = status

    from codegen.generation import FanoutLimits

    delay = client.retry_delay(Failed("x"), 1, FanoutLimits(backoff_base_s=0.25))
    assert (delay == 0.25) if retried else delay is None
    # out of attempts: None at once (a sleep would fail here; a wall-clock limit was load-bound)
    monkeypatch.setattr(time, "sleep", lambda seconds: pytest.fail(f"slept {seconds} s"))
    assert client.retry_delay(Failed("x"), 9, FanoutLimits()) is None
