"""How many model requests may be in flight: per provider (and api_base) and in all.

One Throttle serves everything a run sends (candidates, repairs), so that a repair round obeys
the same limits as the fan-out instead of building its own; a long-lived process can share one
across runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from codegen.llm.endpoint import Endpoint


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
