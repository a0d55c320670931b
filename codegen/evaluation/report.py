"""What an evaluation returns: the ranking and how its evidence was gathered (plain data, light
to import: a client reading a report needs nothing else)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from codegen.ranking.report import Decision, RankingReport

DEFAULT_ROUNDS = 10  # paired sign test: 10 rounds give a 97.9 % interval (see statistics)


class InputsUsed(BaseModel):
    """Where differential (or timing) inputs came from, how many, or why there are none."""

    origin: str
    count: int
    mutated: int = 0  # of those, the docstring's examples mutated (codegen.ranking.mutations)
    reason: str = ""


class RankingRun(RankingReport):
    """The ranking plus how its evidence was gathered, so that a reader can judge it."""

    problem: str
    differential_inputs: InputsUsed
    timing_workload: str  # "benchmark tests", "3 largest generated inputs" or "none: …"
    timing_rounds: int  # rounds run per timed candidate: more when the first ones are unsure
    notes: list[str] = []  # what went wrong without stopping the ranking
    decision: Decision | None = None  # when the winner was known, and why nothing after mattered
    enriched: bool = True  # False: stopped at the decision (--fast): no growth, jury, more rounds
    # CPU seconds per round of each timed candidate, and of the reference timed in the same
    # rounds (None: it failed; empty: none, or nothing timed); for `codegen bench`'s
    # efficiency, not the report
    timed: dict[str, list[float]] = Field(default_factory=dict, exclude=True)
    reference_timed: list[float] | None = Field(default_factory=list, exclude=True)
