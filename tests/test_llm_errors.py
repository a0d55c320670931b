"""Real HTTP answers become typed model errors: the fake OpenAI server on loopback answers with
a status (or a slow reply, or a refusal), and the litellm-backed client raises the one
ModelError kind it means, with the class name always recorded for it. Both ways the client
asks: the OpenAI SDK (`openai/NAME` at an address) and litellm (`hosted_vllm/NAME`)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from codegen.llm.client import LiteLLMClient
from codegen.llm.endpoint import Endpoint
from codegen.llm.errors import (
    AuthFailed,
    BadRequest,
    ContextTooLong,
    ModelError,
    RateLimited,
    Refused,
    TimedOut,
    Unavailable,
    UnknownModel,
    Unreachable,
)
from codegen.ranking.ballots import JudgeSpec
from codegen.ranking.jury import judge_candidates
from codegen.ranking.jury_prompts import Aspect
from codegen.testing.fake_openai import FakeOpenAIServer

SCRIPT = {
    "models": {
        "busy": [{"status": 429, "headers": {"Retry-After": "2"}}],
        "nokey": [{"status": 401}],
        "forbidden": [{"status": 403}],
        "bad": [{"status": 400}],
        "long": [{"status": 400, "error_code": "context_length_exceeded"}],
        "policy": [{"status": 400, "error_code": "content_policy_violation"}],
        "declines": [{"content": None, "refusal": "I can't help with that."}],
        "down": [{"status": 503}],
        "broken": [{"status": 500}],
        "slow": [{"content": "late", "delay_s": 5.0}],
        "judge": [{"status": 429}, {"content": '{"candidates": [{"label": "A", "score": 7},'
                                                ' {"label": "B", "score": 3}]}'}],
    }
}  # fmt: skip
# model -> (kind, class name recorded as before, worth retrying)
SDK_CASES = {
    "busy": (RateLimited, "RateLimitError", True),
    "nokey": (AuthFailed, "AuthenticationError", False),
    "forbidden": (AuthFailed, "PermissionDeniedError", False),
    "bad": (BadRequest, "BadRequestError", False),
    "long": (ContextTooLong, "BadRequestError", False),
    "policy": (Refused, "BadRequestError", False),
    "declines": (Refused, "Refused", False),
    "unscripted": (UnknownModel, "NotFoundError", False),
    "down": (Unavailable, "InternalServerError", True),
    "broken": (Unavailable, "InternalServerError", True),
    "slow": (TimedOut, "Timeout", False),
}
LITELLM_CASES = {  # litellm's own classes; its 429 waits inside litellm, so it is left out
    "nokey": (AuthFailed, "AuthenticationError", False),
    "bad": (BadRequest, "BadRequestError", False),
    "long": (ContextTooLong, "ContextWindowExceededError", False),
    "unscripted": (UnknownModel, "NotFoundError", False),
    "down": (Unavailable, "ServiceUnavailableError", True),
    "broken": (Unavailable, "InternalServerError", True),
    "slow": (TimedOut, "Timeout", False),
}
# The deadline each case is asked under. Only "slow" is meant to outlast it (its reply waits 5 s);
# every other answer gets a deadline no loaded machine reaches, so that a first request (litellm
# imported, the client built) that is slow under load is never mistaken for a timeout.
DEADLINE_S = {"slow": 1.5}
GENEROUS_S = 120.0


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(SCRIPT) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_real_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_API_BASE", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _raised(endpoint: Endpoint) -> ModelError:
    async def ask() -> None:
        await LiteLLMClient().complete(endpoint, [{"role": "user", "content": "hi"}])

    with pytest.raises(ModelError) as raised:
        asyncio.run(ask())
    return raised.value


def _check(error: ModelError, model: str, expected: tuple[type, str, bool]) -> None:
    kind, recorded, retryable = expected
    assert type(error) is kind, f"{model}: {type(error).__name__} {error.message}"
    assert (error.model, error.error_class, error.retryable) == (model, recorded, retryable)
    assert error.message and "\n" not in error.message
    assert error.__cause__ is not None or kind is Refused  # the provider's own error is kept


@pytest.mark.parametrize("name", list(SDK_CASES))
def test_each_answer_is_its_typed_error_through_the_sdk(
    server: FakeOpenAIServer, name: str
) -> None:
    deadline = DEADLINE_S.get(name, GENEROUS_S)
    endpoint = Endpoint(model=f"openai/{name}", api_base=server.base_url, timeout_s=deadline)
    _check(_raised(endpoint), endpoint.model, SDK_CASES[name])


@pytest.mark.parametrize("name", list(LITELLM_CASES))
def test_each_answer_is_its_typed_error_through_litellm(
    server: FakeOpenAIServer, name: str
) -> None:
    deadline = DEADLINE_S.get(name, GENEROUS_S)
    endpoint = Endpoint(model=f"hosted_vllm/{name}", api_base=server.base_url, timeout_s=deadline)
    _check(_raised(endpoint), endpoint.model, LITELLM_CASES[name])


def test_a_rate_limit_carries_the_servers_retry_after(server: FakeOpenAIServer) -> None:
    error = _raised(Endpoint(model="openai/busy", api_base=server.base_url))
    assert error.retry_after_s == 2.0 and error.status == 429


@pytest.mark.parametrize("model", ["openai/gone", "hosted_vllm/gone"])
def test_a_closed_port_is_unreachable_and_final(model: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = _raised(Endpoint(model=model, api_base=f"http://127.0.0.1:{port}/v1", timeout_s=5))
    assert isinstance(error, Unreachable) and isinstance(error, Unavailable)
    assert error.error_class == "APIConnectionError" and not error.retryable


def test_the_jury_retries_a_rate_limited_judge_over_http(server: FakeOpenAIServer) -> None:
    judge = JudgeSpec(model="openai/judge", api_base=server.base_url, timeout_s=30)
    result = judge_candidates({"a": "x = 1", "b": "x = 2"}, [judge], task="t",
                              aspects=[Aspect.EFFICIENCY])  # fmt: skip
    assert result.failures == [] and len(result.ballots) == 1
    assert len(server.requests_for("judge")) == 2
