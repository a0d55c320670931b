"""Parallel multi-model generation: roster → prompts → concurrent model calls → extraction →
dedupe. Pure modules: `personas`, `prompts`, `extract`, `dedupe`, `roster`, `types`; I/O:
`fanout` (the asyncio orchestration), which sends every request through the one model layer,
:mod:`codegen.llm`.

`generate` is imported lazily so that reading a config does not pay for importing litellm.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no cost-map download at import

from codegen.generation.roster import FanoutLimits, Roster, Worker  # noqa: E402
from codegen.generation.types import (  # noqa: E402
    Candidate,
    Failure,
    GenerationEvent,
    GenerationResult,
    GenerationTask,
    Proposal,
    RepairFeedback,
)
from codegen.lazy import lazy_getattr  # noqa: E402

if TYPE_CHECKING:
    from codegen.generation.fanout import generate

__all__ = [
    "Candidate",
    "FanoutLimits",
    "Failure",
    "GenerationEvent",
    "GenerationResult",
    "GenerationTask",
    "Proposal",
    "RepairFeedback",
    "Roster",
    "Worker",
    "generate",
]


__getattr__ = lazy_getattr(__name__, {"generate": "fanout"})
