"""The jury against a real OpenAI-speaking HTTP server on loopback, through litellm."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from codegen.ranking.ballots import JudgeSpec, parse_answer
from codegen.ranking.jury import judge_candidates, shown_order
from codegen.ranking.jury_prompts import Aspect
from codegen.testing.fake_openai import FakeOpenAIServer, Reply

CANDIDATES_DIR = Path(__file__).resolve().parent.parent / "examples" / "two_sum" / "candidates"
CANDIDATES = {
    name: (CANDIDATES_DIR / name).read_text() for name in ("slow_quadratic.py", "fast_hash.py")
}


def reviewer(request: dict[str, Any]) -> Reply:
    """A judge that reads the prompt like a model would: the hash-map candidate is better."""
    prompt = request["messages"][1]["content"]
    blocks = re.findall(r"### Candidate (\w)\n```python\n(.*?)```", prompt, re.DOTALL)
    answer = {
        "candidates": [
            {
                "label": label,
                "score": 9 if "first_index" in code else 4,
                "complexity": "O(n)" if "first_index" in code else "O(n²)",
                "note": "one pass" if "first_index" in code else "nested loops",
                "risky_inputs": [] if "first_index" in code else ["a list of 10**5 numbers"],
            }
            for label, code in blocks
        ]
    }
    return Reply(content=f"Here is my verdict:\n```json\n{json.dumps(answer)}\n```", delay_s=1.5)


def garbled(request: dict[str, Any]) -> Reply:
    return Reply(content='{"candidates": [{"label": "A", "score": "eleven"}')


def second_time_lucky(request: dict[str, Any]) -> Reply:
    retried = len(request["messages"]) > 2
    return reviewer(request) if retried else Reply(content="I think A is better.")


SCRIPT = {
    "models": {
        "judge-a": reviewer,
        "judge-b": reviewer,
        "retry": second_time_lucky,
        "garbled": garbled,
        "stuck": [{"hang": True}],
        "down": [{"status": 500}],
    }
}


@pytest.fixture(scope="module")
def verdict() -> tuple[Any, list[dict[str, Any]]]:
    with FakeOpenAIServer(SCRIPT) as server:

        def judge(name: str, timeout: float = 60.0) -> JudgeSpec:
            return JudgeSpec(model=f"openai/{name}", api_base=server.base_url, timeout_s=timeout)

        panel = [judge("judge-a"), judge("judge-b"), judge("retry"), judge("garbled")]
        panel += [judge("stuck", timeout=3.0), judge("down")]
        result = judge_candidates(CANDIDATES, panel, task="Write two_sum.", seed=7)
        return result, server.requests


def test_valid_judges_vote_and_the_fast_candidate_wins(verdict: tuple[Any, Any]) -> None:
    result, _ = verdict
    judges = sorted({(b.judge, b.aspect) for b in result.ballots})
    assert judges == sorted(
        (f"openai/{j}", a) for j in ("judge-a", "judge-b", "retry") for a in Aspect
    )
    for aspect in Aspect:
        assert result.aspect_points[aspect] == {"slow_quadratic.py": 0.0, "fast_hash.py": 1.0}
        assert result.agreement[aspect] == pytest.approx(1.0)
    assert result.points == {"slow_quadratic.py": 0.0, "fast_hash.py": 3.0}
    assert result.complexity("fast_hash.py") == "O(n)"
    assert result.complexity("slow_quadratic.py") == "O(n²)"
    assert result.risky_inputs("slow_quadratic.py") == ["a list of 10**5 numbers"]


def test_failed_judges_are_recorded_and_skipped(verdict: tuple[Any, Any]) -> None:
    result, _ = verdict
    kinds = {(f.judge, f.kind) for f in result.failures}
    assert kinds == {
        ("openai/garbled", "malformed"),
        ("openai/stuck", "timeout"),
        ("openai/down", "error"),
    }
    assert len(result.failures) == 3 * len(Aspect)
    assert all("\n" not in f.message for f in result.failures)


def test_malformed_reply_is_retried_once_with_the_error(verdict: tuple[Any, Any]) -> None:
    result, requests = verdict
    retried = [b for b in result.ballots if b.judge == "openai/retry"]
    assert retried and all(b.attempts == 2 for b in retried)
    assert all(b.attempts == 1 for b in result.ballots if b.judge != "openai/retry")
    garbled_calls = [r for r in requests if r["body"]["model"] == "garbled"]
    assert len(garbled_calls) == 2 * len(Aspect)  # one retry each, then given up
    follow_up = [r["body"]["messages"] for r in garbled_calls if len(r["body"]["messages"]) == 4]
    assert follow_up and "could not be used" in follow_up[0][-1]["content"]


def test_candidates_are_anonymised_and_shuffled(verdict: tuple[Any, Any]) -> None:
    result, requests = verdict
    for request in requests:
        prompt = request["body"]["messages"][1]["content"]
        assert "### Candidate A" in prompt and "### Candidate B" in prompt
        assert not any(name in prompt for name in CANDIDATES)
    orders = {tuple(b.shown_order) for b in result.ballots}
    assert len(orders) == 2  # both orders were shown to someone
    assert shown_order(["x", "y", "z"], 1, Aspect.EFFICIENCY, 7) == shown_order(
        ["x", "y", "z"], 1, Aspect.EFFICIENCY, 7
    )


def test_judges_run_in_parallel(verdict: tuple[Any, Any]) -> None:
    _, requests = verdict
    arrivals = sorted(r["at"] for r in requests if r["body"]["model"] in ("judge-a", "judge-b"))
    assert len(arrivals) == 2 * len(Aspect)
    assert arrivals[-1] - arrivals[0] < 1.5  # all sent before the first 1.5 s answer came back


def test_parse_answer() -> None:
    labels = {"A": "a.py", "B": "b.py"}
    good = '{"candidates": [{"label": "a", "score": 3}, {"label": "B", "score": 10}]}'
    assert [a.label for a in parse_answer(f"sure!\n{good}\nbye", labels).candidates] == ["A", "B"]
    with pytest.raises(ValueError, match="no JSON object"):
        parse_answer("A wins", labels)
    with pytest.raises(ValueError, match="invalid JSON"):
        parse_answer('{"candidates": [}', labels)
    with pytest.raises(ValueError, match=r"candidates\.0\.score"):
        parse_answer('{"candidates": [{"label": "A", "score": 11}]}', labels)
    with pytest.raises(ValueError, match="one entry for each of A, B"):
        parse_answer('{"candidates": [{"label": "A", "score": 1}]}', labels)


def test_a_one_slot_judge_gets_one_request_at_a_time() -> None:
    in_flight, peak = 0, 0

    async def complete(judge: JudgeSpec, messages: list[dict[str, str]]) -> str:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return reviewer({"messages": messages}).content or ""

    one_slot = JudgeSpec(model="openai/local", max_parallel=1, timeout_s=5)
    result = judge_candidates(CANDIDATES, [one_slot], task="Write two_sum.", complete=complete)
    assert peak == 1 and len(result.ballots) == len(Aspect) and not result.failures
