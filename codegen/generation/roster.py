"""Who writes candidates: workers (model × persona × sampling) and the limits of the fan-out.

Pure data, no I/O: `codegen.settings` builds these from TOML, `codegen.local_models` builds the
offline default, and `codegen.generation.fanout` consumes them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from codegen.generation.personas import PERSONAS
from codegen.llm.endpoint import Endpoint


class Worker(Endpoint):
    """One model endpoint under one persona; `samples` independent requests per run."""

    persona: str = "simplest"
    samples: int = Field(default=1, ge=1, le=64)
    sample_offset: int = Field(
        default=0, ge=0, description="index of the first sample, when one persona spans servers"
    )
    stop_at_tests: bool = Field(
        default=False,
        description="end a reply where the model starts on tests or examples (the embedded "
        "models write more of those than code; its tokens are their time)",
    )

    @field_validator("persona")
    @classmethod
    def _known_persona(cls, value: str) -> str:
        if value not in PERSONAS:
            known = ", ".join(sorted(PERSONAS))
            raise ValueError(f"unknown persona {value!r} (known: {known})")
        return value

    @property
    def label(self) -> str:
        return f"{self.shown}[{self.persona}]"


class FanoutLimits(BaseModel):
    """Concurrency, retry and early-stop policy, shared by every worker of a run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Large enough that a roster of 5 models × 4 personas (20 requests) starts at once even on
    # one api_base: a queued request adds its whole latency to the run's wall time.
    max_concurrency: int = Field(default=64, ge=1, le=1024, description="global in-flight cap")
    per_provider: int = Field(
        default=32, ge=1, le=1024, description="in-flight cap per provider/api_base"
    )
    max_retries: int = Field(default=2, ge=0, le=10, description="extra attempts on 429/5xx")
    backoff_base_s: float = Field(default=0.5, ge=0.0, le=60.0)
    backoff_max_s: float = Field(
        default=30.0, ge=0.0, le=600.0, description="longest wait, even if Retry-After says more"
    )
    enough: int | None = Field(
        default=None, ge=1, description="stop early once this many distinct candidates arrived"
    )


class Roster(BaseModel):
    """The workers of one run and the policy they share."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workers: tuple[Worker, ...] = Field(min_length=1)
    limits: FanoutLimits = FanoutLimits()

    @property
    def request_count(self) -> int:
        return sum(w.samples for w in self.workers)
