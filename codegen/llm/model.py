"""The model seam: what the fan-out, the tester and the jury need from a model (pure types).

:class:`ModelClient` is one request, one reply: ``complete`` answers with a
:class:`ModelReply` or raises a :class:`codegen.llm.errors.ModelError`; retries and caps are
the caller's (:func:`codegen.llm.throttle.ask`). The litellm-backed client
(:class:`codegen.llm.client.LiteLLMClient`) serves real runs, and
:class:`codegen.llm.scripted.ScriptedModel` serves tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from codegen.llm.endpoint import Endpoint

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class ModelReply:
    content: str | None
    latency_s: float
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@runtime_checkable
class ModelClient(Protocol):
    def check(self, endpoint: Endpoint) -> None:
        """Raise a CodegenError (BadInput, EnvironmentProblem) when `endpoint` cannot work
        at all: an unknown model, a missing key. Called once, before any request."""
        ...

    async def complete(
        self, endpoint: Endpoint, messages: Messages, stop: Sequence[str] = ()
    ) -> ModelReply:
        """One attempt; the reply ends before any of `stop`. A model fault raises a
        ModelError; anything else raised is a bug."""
        ...
