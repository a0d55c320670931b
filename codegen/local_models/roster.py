"""The default roster: the running local servers, each asked under several personas."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from codegen.generation.roster import FanoutLimits, Roster, Worker
from codegen.local_models.runtime import Endpoint

DEFAULT_PERSONAS = ("simplest", "fastest", "different", "careful")


def local_roster(
    endpoints: Sequence[Endpoint],
    *,
    personas: Sequence[str] = DEFAULT_PERSONAS,
    samples: int = 1,
    temperature: float = 0.7,
    max_tokens: int = 512,
    timeout_s: float = 300.0,
) -> Roster:
    """Spread every (persona, sample) of each model evenly over that model's endpoints.

    Each endpoint serves one request at a time, so the roster allows one in flight per
    endpoint: requests queue here, where deadlines and early stop still apply.
    """
    workers: list[Worker] = []
    for _, group in groupby(endpoints, key=lambda e: e.model.name):
        slots = list(group)
        requests = [(persona, s) for persona in personas for s in range(samples)]
        for index, endpoint in enumerate(slots):
            chunk = _chunk(requests, index, len(slots))
            for persona, items in groupby(chunk, key=lambda r: r[0]):
                indices = [s for _, s in items]
                workers.append(
                    Worker(
                        model=endpoint.litellm_model,
                        name=endpoint.model.name,
                        api_base=endpoint.api_base,
                        persona=persona,
                        samples=len(indices),
                        sample_offset=indices[0],
                        temperature=temperature,
                        max_tokens=max_tokens,
                        timeout_s=timeout_s,
                        stop_at_tests=True,
                    )
                )
    limits = FanoutLimits(max_concurrency=max(1, len(endpoints)), per_provider=1, max_retries=1)
    return Roster(workers=tuple(workers), limits=limits)


def _chunk(items: list[tuple[str, int]], index: int, parts: int) -> list[tuple[str, int]]:
    """The `index`-th of `parts` contiguous, nearly equal slices (sizes differ by at most 1)."""
    size, extra = divmod(len(items), parts)
    start = index * size + min(index, extra)
    return items[start : start + size + (1 if index < extra else 0)]
