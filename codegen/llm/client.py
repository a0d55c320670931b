"""One chat request under a hard deadline; the only module that calls litellm or the OpenAI SDK.

Everything that depends on the provider lives here: routing a model string, the key to send,
litellm's settings, the deadline, and what a provider's exception means: :func:`model_error`
turns it into a typed :class:`codegen.llm.errors.ModelError` (by its type, its HTTP status and
its error code; never by its message). :class:`LiteLLMClient` is the
:class:`codegen.llm.model.ModelClient` of real runs; retries are the caller's
(:func:`codegen.llm.throttle.ask`).

An OpenAI-compatible server named by its address (``openai/NAME`` with an api_base that is not
OpenAI's own: a vLLM or llama.cpp server, the embedded models, the test server) is asked through
the OpenAI SDK directly; every other model through litellm. litellm takes seconds to import
(7 s here, more under load), the SDK a fraction of that: a cold ``codegen solve`` against such a
server sends its requests without waiting for litellm. Both raise the same error classes
(litellm's derive from the SDK's), so they map to the same typed errors. A reply
is priced from litellm's bundled cost map, read as a file (0 for a model it does not list).
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import importlib.util
import json
import os
import sys
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import httpx
import httpx2  # the OpenAI SDK's HTTP client (litellm's is httpx)
import openai

from codegen.errors import BadInput, EnvironmentProblem
from codegen.llm import errors
from codegen.llm.endpoint import Endpoint
from codegen.llm.model import Messages, ModelReply
from codegen.llm.throttle import RetryPolicy
from codegen.llm.throttle import retry_delay as throttle_retry_delay

NO_KEY = "sk-no-key-needed"  # OpenAI-compatible local servers want *some* key
OPENAI_LIKE = {"openai", "text-completion-openai", "hosted_vllm", "llamafile", "lm_studio"}


class DeadlineExceeded(TimeoutError):
    """Our own hard deadline fired before litellm's timeout did."""


@functools.cache
def litellm() -> ModuleType:
    """litellm, imported on first use and set up once."""
    import litellm as module

    module.suppress_debug_info = True  # no "Provider List" banners on stdout
    module.drop_params = True  # a provider that lacks a parameter ignores it instead of failing
    return module


def resolve(endpoint: Endpoint) -> tuple[str, str | None]:
    """(provider, api_base) of an endpoint; BadInput when litellm cannot route the model string.
    An OpenAI-compatible model without api_base uses OPENAI_API_BASE (or OPENAI_BASE_URL)."""
    model = endpoint.model
    if model.startswith("openai/") and len(model) > len("openai/"):  # litellm's own reading
        env = os.environ.get("OPENAI_API_BASE") or os.environ.get("OPENAI_BASE_URL")
        return "openai", endpoint.api_base or env
    try:
        _, provider, _, base = litellm().get_llm_provider(model, api_base=endpoint.api_base)
    except Exception as error:  # litellm raises its BadRequestError for an unknown provider
        short = model.split("/")[-1]
        raise BadInput(
            f"unknown model {model!r}: use litellm's provider/model form, "
            f"e.g. openai/{short} or ollama/{short}"
        ) from error
    if provider in OPENAI_LIKE and base is None:
        base = os.environ.get("OPENAI_API_BASE") or os.environ.get("OPENAI_BASE_URL")
    return provider, endpoint.api_base or base


def api_key(endpoint: Endpoint) -> str | None:
    """The key to send: the endpoint's named variable, a placeholder for keyless
    OpenAI-compatible servers, or None to let litellm read its usual variable."""
    if endpoint.api_key_env:
        return os.environ.get(endpoint.api_key_env)
    provider, base = resolve(endpoint)
    if provider in OPENAI_LIKE and base and not os.environ.get("OPENAI_API_KEY"):
        return NO_KEY
    return None


def check_endpoint(endpoint: Endpoint) -> None:
    """Fail before any request when an endpoint cannot work: unknown model, missing key."""
    provider, base = resolve(endpoint)
    if endpoint.api_key_env:
        if not os.environ.get(endpoint.api_key_env):
            raise EnvironmentProblem(
                f"{endpoint.model} needs ${endpoint.api_key_env}: export it in the environment"
            )
        return
    if api_key(endpoint) is not None:
        return
    status = litellm().validate_environment(model=endpoint.model, api_base=base)
    missing = [k for k in status.get("missing_keys", []) if not k.endswith("_API_BASE")]
    if missing:
        names = " and ".join(f"${k}" for k in missing)
        raise EnvironmentProblem(f"{endpoint.model} needs {names}: export it in the environment")


def provider_key(endpoint: Endpoint) -> str:
    provider, base = resolve(endpoint)
    return f"{provider}|{base or ''}"


def compatible_server(endpoint: Endpoint) -> str | None:
    """The address of the OpenAI-compatible server (not OpenAI's own) that serves this
    endpoint, when one does: asked through the SDK, without litellm."""
    provider, base = resolve(endpoint)
    if provider != "openai" or not base or urlsplit(base).hostname == "api.openai.com":
        return None
    return base


async def complete(
    endpoint: Endpoint, messages: list[dict[str, str]], stop: Sequence[str] = ()
) -> ModelReply:
    """One attempt, cancelled at `endpoint.timeout_s` whatever the client's own timeout does;
    the reply ends before any of `stop`."""
    started = time.perf_counter()
    server = compatible_server(endpoint)
    if server is not None:
        return await _complete_compatible(endpoint, server, messages, started, stop)
    _, base = resolve(endpoint)
    call = litellm().acompletion(
        model=endpoint.model,
        messages=messages,
        api_base=base,
        api_key=api_key(endpoint),
        temperature=endpoint.temperature,
        max_tokens=endpoint.max_tokens,
        timeout=endpoint.timeout_s,
        num_retries=0,
        max_retries=0,
        **({"stop": list(stop)} if stop else {}),
    )
    try:
        response = await asyncio.wait_for(call, timeout=endpoint.timeout_s)
    except TimeoutError:
        raise DeadlineExceeded(f"no reply within {endpoint.timeout_s:g}s") from None
    latency = time.perf_counter() - started
    _raise_refusal(response, endpoint)
    usage = getattr(response, "usage", None)
    return ModelReply(
        content=_content(response),
        latency_s=latency,
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cost_usd=_cost(response),
    )


async def _complete_compatible(
    endpoint: Endpoint,
    server: str,
    messages: list[dict[str, str]],
    started: float,
    stop: Sequence[str] = (),
) -> ModelReply:
    client = _sdk_client(server, api_key(endpoint) or NO_KEY, endpoint.timeout_s)
    call = client.chat.completions.create(  # type: ignore[call-overload]  # dict messages, **stop
        model=endpoint.model.removeprefix("openai/"),
        messages=messages,
        temperature=endpoint.temperature,
        max_tokens=endpoint.max_tokens,
        **({"stop": list(stop)} if stop else {}),
    )
    try:
        response = await asyncio.wait_for(call, timeout=endpoint.timeout_s)
    except TimeoutError:
        raise DeadlineExceeded(f"no reply within {endpoint.timeout_s:g}s") from None
    _raise_refusal(response, endpoint)
    usage = response.usage
    return ModelReply(
        content=_content(response),
        latency_s=time.perf_counter() - started,
        prompt_tokens=int(usage.prompt_tokens or 0) if usage else 0,
        completion_tokens=int(usage.completion_tokens or 0) if usage else 0,
        cost_usd=listed_price(
            endpoint.model,
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        ),  # fmt: skip
    )


@functools.cache
def _price_list() -> dict[str, Any]:
    """litellm's bundled cost map, read as the file it is (importing litellm takes seconds)."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(spec.submodule_search_locations[0]) / "model_prices_and_context_window_backup.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def listed_price(model: str, prompt_tokens: int | None, completion_tokens: int | None) -> float:
    """The per-token price litellm's map lists for this model name (0.0 when unlisted: a local
    or fake model)."""
    entry = _price_list().get(model.removeprefix("openai/")) or _price_list().get(model) or {}
    try:
        return float(entry.get("input_cost_per_token") or 0) * (prompt_tokens or 0) + float(
            entry.get("output_cost_per_token") or 0
        ) * (completion_tokens or 0)
    except (TypeError, ValueError):
        return 0.0


# per event loop, by the loop itself: an id() is reused once a loop is gone, and a client (its
# connection pool) of a closed loop fails every request with "Connection error"
_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, str, float], openai.AsyncOpenAI]
] = weakref.WeakKeyDictionary()
_kept: dict[asyncio.AbstractEventLoop, dict[tuple[str, str, float], openai.AsyncOpenAI]] = {}


def _clients_of(
    loop: asyncio.AbstractEventLoop,
) -> dict[tuple[str, str, float], openai.AsyncOpenAI]:
    try:
        return _clients.setdefault(loop, {})
    except TypeError:  # a loop without weak references (uvloop's): held, so never reused
        return _kept.setdefault(loop, {})


def _sdk_client(base: str, key: str, timeout_s: float) -> openai.AsyncOpenAI:
    """One SDK client (one connection pool) per server, key and event loop; no retries of its
    own (the caller's policy decides) and a pool as large as a fan-out."""
    of_loop = _clients_of(asyncio.get_running_loop())
    cached = of_loop.get((base, key, timeout_s))
    if cached is None:
        limits = httpx2.Limits(max_connections=256, max_keepalive_connections=64)
        cached = openai.AsyncOpenAI(
            base_url=base, api_key=key, timeout=timeout_s, max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(limits=limits, timeout=timeout_s),
        )  # fmt: skip
        of_loop[(base, key, timeout_s)] = cached
    return cached


class LiteLLMClient:
    """The :class:`codegen.llm.model.ModelClient` of real runs: litellm, or the OpenAI SDK for
    an OpenAI-compatible server; every provider exception leaves as a typed ModelError."""

    def check(self, endpoint: Endpoint) -> None:
        check_endpoint(endpoint)

    async def complete(
        self, endpoint: Endpoint, messages: Messages, stop: Sequence[str] = ()
    ) -> ModelReply:
        try:
            return await complete(endpoint, messages, stop)
        except Exception as error:
            typed = model_error(error, endpoint.shown)
            if typed is None:
                raise
            raise typed from error


def model_error(error: BaseException, model: str) -> errors.ModelError | None:
    """The typed error of a provider's exception, decided by its type (and the HTTP status or
    error code it carries); None when it is not a model fault (a bug). The one place that
    reads litellm's and the SDK's exceptions."""
    if isinstance(error, errors.ModelError):
        return error
    message = str(error) or type(error).__name__  # made one line by ModelError
    status = getattr(error, "status_code", None)
    status = status if isinstance(status, int) else None
    fields: dict[str, Any] = {"status": status, "error_class": type(error).__name__}
    if isinstance(error, DeadlineExceeded | openai.APITimeoutError):  # litellm's Timeout too
        # the attempt spent its whole deadline: asking again would double the wait
        return errors.TimedOut(model, message, error_class="Timeout", retryable=False)
    timed_out = any(isinstance(cause, TIMEOUTS) for cause in _causes(error))
    if isinstance(error, openai.APIConnectionError) and timed_out:
        return errors.TimedOut(model, message, retryable=False, **fields)
    answered = status is not None and status < 500  # litellm reports a refused connection as 500
    if isinstance(error, openai.APIConnectionError) or (
        not answered and _connection_failed(error, timed_out)
    ):
        fields["error_class"] = "APIConnectionError"  # as it was always recorded
        return errors.Unreachable(model, message, **fields)
    kind = _litellm_kind(error) or _kind(error, status)
    if kind is None:
        return None
    # only an HTTP answer that says so (408, 429, 5xx) is worth another attempt
    retryable = status is not None and (status in (408, 429) or status >= 500)
    return kind(model, message, retry_after_s=retry_after(error), retryable=retryable,
                **fields)  # fmt: skip


TIMEOUTS = (TimeoutError, httpx.TimeoutException, httpx2.TimeoutException, openai.APITimeoutError)
REFUSAL_CODES = {"content_policy_violation", "content_filter"}
CONTEXT_CODES = {"context_length_exceeded", "string_above_max_length"}


def _kind(error: BaseException, status: int | None) -> type[errors.ModelError] | None:
    code = error.code if isinstance(error, openai.APIError) else None  # the body's error code
    if isinstance(error, openai.ContentFilterFinishReasonError) or code in REFUSAL_CODES:
        return errors.Refused
    if code in CONTEXT_CODES:
        return errors.ContextTooLong
    by_type: list[tuple[type[BaseException], type[errors.ModelError]]] = [
        (openai.RateLimitError, errors.RateLimited),
        (openai.AuthenticationError, errors.AuthFailed),
        (openai.PermissionDeniedError, errors.AuthFailed),
        (openai.NotFoundError, errors.UnknownModel),
        (openai.BadRequestError, errors.BadRequest),
        (openai.UnprocessableEntityError, errors.BadRequest),
        (openai.InternalServerError, errors.Unavailable),
        (openai.APIResponseValidationError, errors.Unavailable),  # a reply that is not one
    ]
    for provider, typed in by_type:
        if isinstance(error, provider):
            return typed
    if status is None:  # a provider's error without a status: an answer that is not one
        return errors.Unavailable if isinstance(error, openai.APIError) else None
    if status == 429:
        return errors.RateLimited
    if status == 408:
        return errors.TimedOut
    if status in (401, 403):
        return errors.AuthFailed
    if status == 404:
        return errors.UnknownModel
    if status >= 500:
        return errors.Unavailable
    if status >= 400:
        return errors.BadRequest
    return errors.Unavailable if isinstance(error, openai.APIError) else None  # an unusable 200


def _litellm_kind(error: BaseException) -> type[errors.ModelError] | None:
    """litellm's own finer classes, when litellm is loaded (else the error is not one)."""
    module = sys.modules.get("litellm")
    exceptions = getattr(module, "exceptions", None) if module else None
    if exceptions is None:
        return None
    if isinstance(error, exceptions.ContentPolicyViolationError):
        return errors.Refused
    if isinstance(error, exceptions.ContextWindowExceededError):
        return errors.ContextTooLong
    if isinstance(error, exceptions.ServiceUnavailableError | exceptions.BadGatewayError):
        return errors.Unavailable
    return None


def _causes(error: BaseException) -> list[BaseException]:
    seen: set[int] = set()
    chain: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    return chain


def _connection_failed(error: BaseException, timed_out: bool) -> bool:
    """A connection that never opened, found anywhere in the chain (litellm reports a refused
    connection as an InternalServerError, status 500, caused by it)."""
    for cause in _causes(error):
        if isinstance(cause, ConnectionError | httpx.ConnectError | httpx2.ConnectError):
            return True
        if isinstance(cause, openai.APIConnectionError) and not timed_out:
            return True
    return False


def retry_after(error: BaseException) -> float | None:
    """The server's Retry-After (seconds or HTTP date; or retry-after-ms), if it sent one."""
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    try:
        if headers.get("retry-after-ms") is not None:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
    except (TypeError, ValueError):
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_delay(error: BaseException, attempt: int, policy: RetryPolicy) -> float | None:
    """:func:`codegen.llm.throttle.retry_delay` of any exception (mapped first)."""
    typed = model_error(error, "")
    return None if typed is None else throttle_retry_delay(typed, attempt, policy)


def _raise_refusal(response: Any, endpoint: Endpoint) -> None:
    """A reply that declines instead of answering (the message's `refusal`, or a reply stopped
    by the provider's content filter with nothing in it) is a Refused, not an empty answer."""
    try:
        choice = response.choices[0]
    except (AttributeError, IndexError, TypeError):
        return
    message = getattr(choice, "message", None)
    refusal = getattr(message, "refusal", None)
    if isinstance(refusal, str) and refusal.strip():
        raise errors.Refused(endpoint.shown, refusal)
    if getattr(choice, "finish_reason", None) == "content_filter" and not _content(response):
        raise errors.Refused(endpoint.shown, "the provider's content filter stopped the reply")


def _content(response: Any) -> str | None:
    try:
        return response.choices[0].message.content
    except (AttributeError, IndexError):
        return None


def _cost(response: Any) -> float:
    """litellm's cost map price of this reply; 0.0 for models it does not know (local, fake)."""
    try:
        cost = litellm().completion_cost(completion_response=response)
    except Exception:  # litellm raises several kinds for unmapped models
        return 0.0
    return float(cost or 0.0)
