"""What `codegen optimise` returns: the chain of accepted versions and what was turned away.

It lives with the solve's report, a floor below :mod:`codegen.optimise`, because a
``solve --optimise N`` report holds one: plain data that both commands' reports share."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Step(BaseModel):
    """One accepted version. Round 0 is the version given; each later one was faster than the
    one before it beyond the noise, and behaved the same on every input in ``checked_on``."""

    round: int
    id: str
    author: str
    code: str
    speedup: float | None = Field(None, description="median CPU time of the previous / this")
    speedup_low: float | None = None  # the speedup's confidence interval
    speedup_high: float | None = None
    growth: str = ""  # "≈ n^1.0"
    checked_on: list[str] = Field(
        default_factory=list, description="every input it was held to, as calls"
    )
    tests: int = 0  # visible test outcomes it passed


class Rejection(BaseModel):
    round: int
    id: str
    author: str
    reason: str  # "fails the tests", "behaves differently", "not faster", "not checked"
    detail: str = ""  # the input that shows it, or the timing
    code: str = ""  # the version turned away, to read


class OptimiseReport(BaseModel):
    """The whole optimisation; ``improved`` is False when no faster equivalent was found (a
    normal outcome, exit 0)."""

    target: str
    entry_point: str
    improved: bool
    speedup: float = Field(1.0, description="the given version's median time / the final one's")
    growth_before: str = ""
    growth_after: str = ""
    code: str  # the final version
    chain: list[Step]
    rejected: list[Rejection] = []
    rounds_run: int = 0
    stopped: str = ""  # why no further round ran
    requests: int = 0
    notes: list[str] = []
    phases_s: dict[str, float] = {}
