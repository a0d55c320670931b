"""How many model requests may be in flight (per provider and api_base, and in all), and the
one retry loop every request goes through.

One Throttle serves everything a run sends (candidates, repairs, tests, judges), so that a
repair round obeys the same limits as the fan-out instead of building its own; a long-lived
process can share one across runs. :func:`ask` is the loop the fan-out, the tester and the jury
share: one attempt per throttle slot, and after a RateLimited, Unavailable or TimedOut that
says it is worth it, a backoff (or the server's Retry-After) spent outside the slot. AuthFailed,
BadRequest and Refused end the request at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from codegen.llm.endpoint import Endpoint
from codegen.llm.errors import ModelError
from codegen.llm.model import Messages, ModelClient, ModelReply


class Throttle:
    def __init__(self, max_concurrency: int, per_provider: int) -> None:
        self.everything = asyncio.Semaphore(max_concurrency)
        self.per_provider = per_provider
        self.providers: dict[str, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def slot(self, endpoint: Endpoint) -> AsyncIterator[None]:
        """Hold one slot of the endpoint's provider and one of the global cap."""
        from codegen.llm import client  # litellm: imported when a request is about to go

        key = client.provider_key(endpoint)
        provider = self.providers.setdefault(key, asyncio.Semaphore(self.per_provider))
        async with provider, self.everything:
            yield


class RetryPolicy(Protocol):
    """How often and how long to retry (FanoutLimits for the fan-out, Retry for the jury)."""

    @property
    def max_retries(self) -> int: ...
    @property
    def backoff_base_s(self) -> float: ...
    @property
    def backoff_max_s(self) -> float: ...


@dataclass(frozen=True)
class Retry:
    """A retry policy for callers without a fan-out's settings (the jury)."""

    max_retries: int = 2
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0


DEFAULT_RETRY = Retry()
DEFAULT_CAPS = (64, 32)  # max_concurrency, per_provider: FanoutLimits' defaults


def retry_delay(error: ModelError, attempt: int, policy: RetryPolicy) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None when the error is final.

    Only an error that says it is worth another attempt is retried (rate limits, 5xx); its
    Retry-After is honoured, and one asking for longer than `policy.backoff_max_s` ends the
    request instead of stalling the run.
    """
    if attempt > policy.max_retries or not error.retryable:
        return None
    backoff = min(policy.backoff_base_s * 2 ** (attempt - 1), policy.backoff_max_s)
    asked = error.retry_after_s
    if asked is None:
        return backoff
    return asked if asked <= policy.backoff_max_s else None


async def ask(
    model: ModelClient,
    endpoint: Endpoint,
    messages: Messages,
    *,
    throttle: Throttle,
    policy: RetryPolicy = DEFAULT_RETRY,
    stop: Sequence[str] = (),
    on_attempt: Callable[[int], None] | None = None,
    on_retry: Callable[[ModelError, int, float], None] | None = None,
) -> ModelReply:
    """One request with its retries: each attempt holds a throttle slot, each wait does not.
    Raises the last ModelError (its ``attempts`` set) when the request is given up."""
    attempt = 0
    while True:
        attempt += 1
        async with throttle.slot(endpoint):
            if on_attempt is not None:
                on_attempt(attempt)
            try:
                return await model.complete(endpoint, messages, stop)
            except ModelError as error:
                failed = error
        failed.attempts = attempt
        delay = retry_delay(failed, attempt, policy)
        if delay is None:
            raise failed
        if on_retry is not None:
            on_retry(failed, attempt, delay)
        await asyncio.sleep(delay)
