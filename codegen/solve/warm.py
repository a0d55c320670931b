"""What a long-running service keeps warm for every solve it runs: an open sandbox, litellm
imported, the embedded model servers its roster uses, and one Throttle per kind of roster
(hosted, embedded), so that each model call obeys the generation limits across all jobs, not
per job. A :class:`~codegen.solve.session.SolveSession` borrows these and neither starts nor
stops them."""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import dataclass, field

from codegen.llm.throttle import Throttle
from codegen.local_models import LocalRuntime
from sandbox import SandboxBackend

# What a first job would otherwise import on its own time: litellm (seconds), hypothesis, the
# evaluation path and the jury.
PRELOADED = ("litellm", "codegen.llm.client", "codegen.generation.fanout",
             "codegen.evaluation.pipeline",
             "codegen.ranking.inputs", "codegen.ranking.jury")  # fmt: skip


@dataclass
class Warm:
    sandbox: SandboxBackend
    runtime: LocalRuntime | None = None
    throttles: dict[str, Throttle] = field(default_factory=dict)
    started: bool = False

    async def start(self) -> Warm:
        """Open the sandbox while litellm imports (seconds each) and the models start."""
        if self.started:
            return self
        opening = asyncio.create_task(self.sandbox.__aenter__())
        try:
            for module in PRELOADED:
                await asyncio.to_thread(importlib.import_module, module)
            if self.runtime is not None and not self.runtime.endpoints:
                await asyncio.to_thread(self.runtime.start)
            await opening
            self.started = True
        except BaseException:
            opening.cancel()
            await self.stop()
            raise
        return self

    async def stop(self) -> None:
        self.started = False
        await self.sandbox.__aexit__(None, None, None)
        if self.runtime is not None:
            await asyncio.to_thread(self.runtime.stop)
