"""The models a request names, checked when it is submitted, before it takes a slot: a model
litellm cannot route, one whose key this service lacks, an embedded model it does not run, or
a name its OpenAI-compatible server does not list is a 422 that names the model, answered at
once, instead of a job that fails later.

Only the models the request names are checked: the service's own roster is its operator's
business. A server's list of models is read once in a while (cached), with a short timeout; a
server that does not answer is not held against the request (the job then fails as the CLI
would, naming the server).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx

from codegen.errors import BadInput, CodegenError
from codegen.local_models import MODELS, LocalRuntime
from codegen.settings import SolveSettings

LIST_TIMEOUT_S = 1.0
LISTING_TTL_S = 30.0  # how long a server's list of models is trusted
FRESH_S = 2.0  # before a refusal, a list older than this is read again
MAX_LISTINGS = 64  # servers whose lists are remembered


class ModelCheck:
    def __init__(self, runtime: LocalRuntime | None) -> None:
        self.runtime = runtime
        self.listings: dict[str, tuple[float, frozenset[str] | None]] = {}

    async def check(self, settings: SolveSettings, judges: Sequence[str] = ()) -> None:
        """BadInput naming the first model of the request that cannot be used here."""
        named = settings.models if settings.roster_kind == "flags" else []
        self._check_embedded([name for name in [*named, *judges] if name in MODELS])
        from codegen.generation.roster import Worker  # litellm: imported by the warm start
        from codegen.llm import client

        for name in dict.fromkeys(name for name in [*named, *judges] if name not in MODELS):
            worker = Worker(model=name)
            try:
                client.check_endpoint(worker)
                provider, base = client.resolve(worker)
            except BadInput:
                raise BadInput(
                    f"unknown model {name!r}: use litellm's provider/model form (e.g. "
                    f"openai/{name.split('/')[-1]}) or an embedded model "
                    f"({', '.join(MODELS)})"
                ) from None
            except CodegenError as error:  # a key this service does not have
                raise BadInput(f"model {name!r} cannot be used on this service: {error}") from None
            if provider in client.OPENAI_LIKE and base:
                await self._check_listed(name, provider, base)

    def _check_embedded(self, names: list[str]) -> None:
        served = {e.model.name for e in self.runtime.endpoints} if self.runtime else set()
        for name in names:
            if name not in served:
                raise BadInput(
                    f"embedded model {name!r} is not served by this service "
                    f"(it serves: {', '.join(sorted(served)) or 'none'})"
                )

    async def _check_listed(self, name: str, provider: str, base: str) -> None:
        short = name.removeprefix(f"{provider}/")
        served = await self._listing(base)
        if served and short not in served:
            served = await self._listing(base, fresh=True)  # it may serve it since
        if served and short not in served:
            raise BadInput(
                f"unknown model {name!r}: its server does not serve it "
                f"(it serves: {', '.join(sorted(served)[:10])})"
            )

    async def _listing(self, base: str, fresh: bool = False) -> frozenset[str] | None:
        """The model ids the server at ``base`` lists, or None when it does not say; ``fresh``
        asks again unless the last answer is only seconds old."""
        now = time.monotonic()
        known = self.listings.get(base)
        ttl = FRESH_S if fresh else LISTING_TTL_S
        if known is not None and now - known[0] < ttl:
            return known[1]
        try:
            async with httpx.AsyncClient(timeout=LIST_TIMEOUT_S) as http:
                answer = await http.get(f"{base.rstrip('/')}/models")
            ids = frozenset(str(m["id"]) for m in answer.json()["data"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            ids = None
        if len(self.listings) >= MAX_LISTINGS:
            self.listings.clear()
        self.listings[base] = (now, ids)
        return ids
