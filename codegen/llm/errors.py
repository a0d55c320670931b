"""What can go wrong when a model is asked, as types (pure: no provider imported here).

    ModelError                 one request failed; carries the model and a one-line message
    ├── RateLimited            429: retried after a backoff (or the server's Retry-After)
    ├── TimedOut               no reply within the deadline (or 408): see `retryable`
    ├── Unavailable            5xx, service unavailable: retried
    │   └── Unreachable        nothing answers at that address: not retried
    ├── Refused                the model or its provider declined (content policy, refusal)
    ├── AuthFailed             401/403: the key is missing, wrong or not allowed
    └── BadRequest             400/404/422: the request cannot work as sent
        ├── UnknownModel       the server does not serve that model
        └── ContextTooLong     the prompt does not fit the model's context

A provider's exception becomes one of these in one place, :func:`codegen.llm.client.model_error`,
by its type; nothing else reads provider exceptions or messages. ``error_class`` keeps the name
under which a failure has always been recorded (``RateLimitError``, ``Timeout``,
``APIConnectionError``…), so stored runs and reports keep their meaning.
"""

from __future__ import annotations

import enum
from typing import ClassVar


class ModelFault(enum.StrEnum):
    """The kind of a model failure, for records that outlive the exception (a Failure)."""

    RATE_LIMITED = "rate_limited"
    TIMED_OUT = "timed_out"
    UNAVAILABLE = "unavailable"
    UNREACHABLE = "unreachable"
    REFUSED = "refused"
    AUTH_FAILED = "auth_failed"
    BAD_REQUEST = "bad_request"
    UNKNOWN_MODEL = "unknown_model"
    CONTEXT_TOO_LONG = "context_too_long"


class ModelError(Exception):
    """One request to `model` failed. ``retryable`` says whether asking again may help: only
    rate limits, unavailability and timeouts can be, and a kind may say no for one case (an
    attempt that spent its whole deadline, a refused connection)."""

    fault: ClassVar[ModelFault]
    may_retry: ClassVar[bool] = False

    def __init__(
        self,
        model: str,
        message: str,
        *,
        error_class: str | None = None,
        status: int | None = None,
        retryable: bool = True,
        retry_after_s: float | None = None,
    ) -> None:
        self.model = model
        self.message = " ".join(message.split())[:300] or type(self).__name__
        self.error_class = error_class or type(self).__name__
        self.status = status
        self.retryable = retryable and self.may_retry
        self.retry_after_s = retry_after_s
        self.attempts = 1  # set by the retry loop when it gives up
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model!r}, {self.message!r})"


class RateLimited(ModelError):
    fault = ModelFault.RATE_LIMITED
    may_retry = True


class TimedOut(ModelError):
    fault = ModelFault.TIMED_OUT
    may_retry = True


class Unavailable(ModelError):
    fault = ModelFault.UNAVAILABLE
    may_retry = True


class Unreachable(Unavailable):
    """No connection at all: retrying within a run will not start the server."""

    fault = ModelFault.UNREACHABLE
    may_retry = False


class Refused(ModelError):
    fault = ModelFault.REFUSED


class AuthFailed(ModelError):
    fault = ModelFault.AUTH_FAILED


class BadRequest(ModelError):
    fault = ModelFault.BAD_REQUEST


class UnknownModel(BadRequest):
    fault = ModelFault.UNKNOWN_MODEL


class ContextTooLong(BadRequest):
    fault = ModelFault.CONTEXT_TOO_LONG


__all__ = [
    "AuthFailed",
    "BadRequest",
    "ContextTooLong",
    "ModelError",
    "ModelFault",
    "RateLimited",
    "Refused",
    "TimedOut",
    "UnknownModel",
    "Unavailable",
    "Unreachable",
]
