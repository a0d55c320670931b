"""ScriptedModel: an in-memory :class:`codegen.llm.model.ModelClient` for tests.

Replies are scripted per model (the endpoint's ``model`` string), as the fake OpenAI server's
are: each model's list is consumed in order and its last entry then repeats. An entry is the
reply's text, a :class:`ModelReply`, a :class:`ModelError` to raise, or a function of the
messages returning any of those (to answer by prompt):

    model = ScriptedModel({
        "openai/busy": [RateLimited("openai/busy", "slow down"), "```python\\n...\\n```"],
        "openai/nokey": [AuthFailed("openai/nokey", "bad key")],
        "openai/judge": [lambda messages: '{"candidates": [...]}'],
    })
    await generate(task, roster, model=model)
    model.calls  # every (model, messages) asked, in order

No network, no litellm import, no sleeping beyond what the caller's retry loop does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from codegen.errors import BadInput
from codegen.llm.endpoint import Endpoint
from codegen.llm.errors import ModelError
from codegen.llm.model import Messages, ModelReply

Answer = str | ModelReply | ModelError
Entry = Answer | Callable[[Messages], Answer]


@dataclass(frozen=True)
class Call:
    model: str
    messages: Messages
    stop: tuple[str, ...] = ()


@dataclass
class ScriptedModel:
    """Answers from `script` (model → entries); `default`, when given, answers any other
    model, else an unscripted model is refused by :meth:`check` like an unknown one."""

    script: Mapping[str, Sequence[Entry]]
    default: Entry | None = None
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queues = {name: list(entries) for name, entries in self.script.items()}
        for name, entries in self._queues.items():
            if not entries:
                raise ValueError(f"ScriptedModel: model {name!r} has no replies")
        self._lock = threading.Lock()

    def check(self, endpoint: Endpoint) -> None:
        if endpoint.model not in self._queues and self.default is None:
            raise BadInput(f"unknown model {endpoint.model!r}: not in the script")

    async def complete(
        self, endpoint: Endpoint, messages: Messages, stop: Sequence[str] = ()
    ) -> ModelReply:
        self.calls.append(Call(endpoint.model, list(messages), tuple(stop)))
        answer = self._next(endpoint.model)
        if callable(answer):
            answer = answer(messages)
        if isinstance(answer, ModelError):
            raise answer
        if isinstance(answer, ModelReply):
            return answer
        words = sum(len(str(m.get("content", "")).split()) for m in messages)
        return ModelReply(
            content=answer,
            latency_s=0.0,
            prompt_tokens=words,
            completion_tokens=len(answer.split()),
            cost_usd=0.0,
        )

    def calls_for(self, model: str) -> list[Call]:
        return [call for call in self.calls if call.model == model]

    def _next(self, model: str) -> Entry:
        with self._lock:
            queue = self._queues.get(model)
            if queue is None:
                if self.default is None:
                    raise BadInput(f"unknown model {model!r}: not in the script")
                return self.default
            return queue.pop(0) if len(queue) > 1 else queue[0]
