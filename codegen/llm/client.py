"""One chat request under a hard deadline; the only module that calls litellm or the OpenAI SDK.

Everything that depends on the provider lives here: routing a model string, the key to send,
litellm's settings, the deadline, which failures are worth a retry (`retry_delay`; the caller
sleeps, so that a request waiting out a Retry-After holds no concurrency slot) and the class a
failure is recorded under.

An OpenAI-compatible server named by its address (``openai/NAME`` with an api_base that is not
OpenAI's own: a vLLM or llama.cpp server, the embedded models, the test server) is asked through
the OpenAI SDK directly; every other model through litellm. litellm takes seconds to import
(7 s here, more under load), the SDK a fraction of that: a cold ``codegen solve`` against such a
server sends its requests without waiting for litellm. Both raise the same error classes
(litellm's derive from the SDK's), so retries and failure classes read the same. A reply
is priced from litellm's bundled cost map, read as a file (0 for a model it does not list).
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import importlib.util
import json
import os
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import openai

from codegen.errors import BadInput, EnvironmentProblem
from codegen.llm.endpoint import Endpoint

NO_KEY = "sk-no-key-needed"  # OpenAI-compatible local servers want *some* key
OPENAI_LIKE = {"openai", "text-completion-openai", "hosted_vllm", "llamafile", "lm_studio"}


@dataclass(frozen=True)
class ModelReply:
    content: str | None
    latency_s: float
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


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
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        cached = openai.AsyncOpenAI(
            base_url=base, api_key=key, timeout=timeout_s, max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(limits=limits, timeout=timeout_s),  # type: ignore[arg-type]  # openai's client is httpx2's: it reads httpx's Limits alike
        )  # fmt: skip
        of_loop[(base, key, timeout_s)] = cached
    return cached


class RetryPolicy(Protocol):
    @property
    def max_retries(self) -> int: ...
    @property
    def backoff_base_s(self) -> float: ...
    @property
    def backoff_max_s(self) -> float: ...


def retry_delay(error: BaseException, attempt: int, policy: RetryPolicy) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None when the error is final.

    Only HTTP 429 and 5xx answers are retried; Retry-After is honoured, and an answer that asks
    for longer than `policy.backoff_max_s` ends the request instead of stalling the run.
    """
    if attempt > policy.max_retries or error_class(error) in {"Timeout", "APIConnectionError"}:
        return None
    status = getattr(error, "status_code", None)
    if not isinstance(status, int) or not (status == 429 or 500 <= status <= 599):
        return None
    backoff = min(policy.backoff_base_s * 2 ** (attempt - 1), policy.backoff_max_s)
    asked = retry_after(error)
    if asked is None:
        return backoff
    return asked if asked <= policy.backoff_max_s else None


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


def error_class(error: BaseException) -> str:
    """The class name to record; a refused connection is reported as such, although litellm
    wraps it in an InternalServerError (status 500)."""
    if isinstance(error, DeadlineExceeded | openai.APITimeoutError):  # litellm's Timeout too
        return "Timeout"
    if _refused(error):
        return "APIConnectionError"
    return type(error).__name__


def _refused(error: BaseException) -> bool:
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ConnectionError | httpx.ConnectError):
            return True
        if type(cause).__name__ == "APIConnectionError" and not isinstance(cause, TimeoutError):
            return "timed out" not in str(cause).lower()
        cause = cause.__cause__ or cause.__context__
    return False


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
