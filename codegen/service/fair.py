"""Sharing one sandbox fairly between jobs: a job that sends twenty candidates at once must not
make a job that sends one wait behind all twenty.

Each job sees the shared sandbox through a :class:`FairSandbox`, which takes a slot from the
job's own queue in a :class:`FairShare`; freed slots go to the waiting jobs in turn (round
robin), not to whoever asked first. Timing jobs go to the sandbox's one timing container,
which serves them in arrival order, one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from typing import Any

from sandbox import CallJob, CallOutcome, RunJob, RunResult, SandboxBackend, TimingJob, TimingResult


class FairShare:
    """``slots`` sandbox jobs at a time, handed out round robin between the waiting jobs."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.busy = 0
        self.waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    @contextlib.asynccontextmanager
    async def slot(self, owner: str) -> AsyncIterator[None]:
        await self._acquire(owner)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, owner: str) -> None:
        if self.busy < self.slots and not self.waiting:
            self.busy += 1
            return
        ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(owner, deque()).append(ticket)
        try:
            await ticket
        except BaseException:
            if not ticket.cancelled() and ticket.done():
                self._release()  # handed over just as we were cancelled: pass it on
            else:
                self._forget(owner, ticket)
            raise

    def _release(self) -> None:
        """Hand the slot to the next job in turn, or free it."""
        while self.waiting:
            owner, tickets = next(iter(self.waiting.items()))
            ticket = tickets.popleft()
            del self.waiting[owner]
            if tickets:
                self.waiting[owner] = tickets  # to the back of the line: others go first
            if not ticket.done():
                ticket.set_result(None)
                return
        self.busy -= 1

    def _forget(self, owner: str, ticket: asyncio.Future[None]) -> None:
        tickets = self.waiting.get(owner)
        if tickets is not None and ticket in tickets:
            tickets.remove(ticket)
            if not tickets:
                del self.waiting[owner]


class FairSandbox:
    """One job's view of the shared sandbox (a SandboxBackend): the same jobs, taken in turn."""

    def __init__(self, inner: SandboxBackend, share: FairShare, owner: str) -> None:
        self.inner = inner
        self.share = share
        self.owner = owner
        self.limits = inner.limits
        self.project = getattr(inner, "project", None)

    async def __aenter__(self) -> FairSandbox:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        pass

    async def run(self, job: RunJob) -> RunResult:
        async with self.share.slot(self.owner):
            return await self.inner.run(job)

    async def call(self, job: CallJob) -> list[CallOutcome]:
        async with self.share.slot(self.owner):
            return await self.inner.call(job)

    async def time(self, job: TimingJob) -> TimingResult:
        return await self.inner.time(job)
