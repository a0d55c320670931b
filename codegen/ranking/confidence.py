"""How likely the winner is right: independent pieces of evidence, each adding to the log-odds.

The evidence behind a winner is counted (:class:`Evidence`) and turned into features, each of
which moves the log-odds that the winner passes the hidden tests by a fixed weight:

- **other models agree**: samples of a *different* model behave like the winner on every
  input. Two models rarely share a bug, so this is the strongest evidence there is.
- **models disagree**: a model whose passing samples all behave otherwise.
- **votes**: how many samples behave like the winner (log2). Samples of one small model share
  its misreadings, so this counts little.
- **rivals**: the share of the passing samples that behave otherwise.
- **failing**: the share of the samples that fail the visible tests: a hard task, where the
  few that pass are often right only on the examples.
- **tests**: the model-written tests the winner fails, each weighed by how many testers wrote
  it, as a share (and the tests it passes beyond its best rival). Testers guess expected
  values, so a failed test is weak evidence, but many failed ones are not.
- **examples**: how many visible tests it passes (log2), more when they are the user's own.

A log-odds sum treats the pieces as independent (naive Bayes): they are measured apart (the
sandbox's verdicts, the testers' values, the other samples' behaviour). The weights were fitted
on one half of a pool of real samples and checked on the other half and on a second pool
(``benchmarks/pools/calibrate.py``, ``docs/confidence.md``). Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from codegen.ranking.consensus import Consensus


class Evidence(BaseModel):
    """What stands behind the winner, counted (the inputs of :func:`confidence`)."""

    visible_tests: int  # visible tests the winner passes (every one: the gate)
    strong_tests: bool  # the user's own tests, not only docstring examples
    samples: int  # proposals behind every candidate, the failing ones included
    passing: int  # proposals behind the candidates that pass the visible tests
    votes: int  # proposals behind the winner's behaviour (its consensus set)
    models: int  # distinct models among all the proposals (0: unknown)
    passing_models: int  # distinct models behind the passing candidates
    agreeing_models: int  # distinct models behind the winner's behaviour
    compared: bool  # the passing candidates were compared on inputs
    written: float  # model-written tests, each weighed by how many testers wrote it
    written_passed: float  # of that weight, what the winner's behaviour passes
    rival_written_passed: float  # the same for the best other behaviour (0 when none)
    rival_votes: int  # proposals behind the largest other behaviour among the passing


class Contender(BaseModel):
    """One candidate as the confidence sees it."""

    id: str
    passed: bool
    votes: int
    authors: list[str] = []


FEATURES = (
    "other_models_agree",
    "models_disagree",
    "votes",
    "rivals",
    "failing",
    "tests_failed",
    "tests_ahead",
    "examples",
)

# Log-odds per unit of each feature, and the bias: see docs/confidence.md for the fit.
WEIGHTS: dict[str, float] = {
    "bias": 0.0,
    "other_models_agree": 2.0,
    "models_disagree": -1.0,
    "votes": 0.3,
    "rivals": -1.0,
    "failing": -1.0,
    "tests_failed": -1.0,
    "tests_ahead": 0.5,
    "examples": 0.3,
}
LOWEST, HIGHEST = 0.02, 0.99  # no pile of evidence makes a small model's program certain


def features(e: Evidence) -> dict[str, float]:
    """The evidence as the numbers the weights multiply (in :data:`FEATURES` order)."""
    failed = (e.written - e.written_passed) / e.written if e.written else 0.0
    ahead = (e.written_passed - e.rival_written_passed) / e.written if e.written else 0.0
    return {
        "other_models_agree": float(max(0, e.agreeing_models - 1)),
        "models_disagree": float(max(0, e.passing_models - e.agreeing_models)),
        "votes": math.log2(max(1, e.votes)),
        "rivals": (e.passing - e.votes) / e.passing if e.passing else 0.0,
        "failing": (e.samples - e.passing) / e.samples if e.samples else 0.0,
        "tests_failed": failed,
        "tests_ahead": ahead if e.rival_votes else 0.0,
        "examples": math.log2(1 + e.visible_tests) * (2.0 if e.strong_tests else 1.0),
    }


def log_odds(e: Evidence, weights: Mapping[str, float] = WEIGHTS) -> float:
    return weights["bias"] + sum(weights[name] * value for name, value in features(e).items())


def confidence(e: Evidence, weights: Mapping[str, float] = WEIGHTS) -> float:
    """The chance that the winner passes the hidden tests, in [LOWEST, HIGHEST]."""
    z = log_odds(e, weights)
    return round(min(HIGHEST, max(LOWEST, 1 / (1 + math.exp(-z)))), 3)


def gather(
    winner: str,
    candidates: Sequence[Contender],
    consensus: Consensus | None,
    visible_tests: int,
    strong_tests: bool,
) -> Evidence:
    """Count the evidence behind ``winner`` (see :class:`Evidence`)."""
    by_id = {c.id: c for c in candidates}
    passing = [c for c in candidates if c.passed]
    mine = consensus.set_of(winner) if consensus else None
    members = set(mine.members) if mine else {winner}
    others = [s for s in consensus.sets if s is not mine] if consensus else []
    agreeing = {a for m in members if m in by_id for a in by_id[m].authors}
    return Evidence(
        visible_tests=visible_tests,
        strong_tests=strong_tests,
        samples=sum(c.votes for c in candidates),
        passing=sum(c.votes for c in passing),
        votes=mine.votes if mine else by_id[winner].votes,
        models=len({a for c in candidates for a in c.authors}),
        passing_models=len({a for c in passing for a in c.authors}),
        agreeing_models=len(agreeing),
        compared=mine is not None,
        written=consensus.tests_weight if consensus else 0.0,
        written_passed=mine.tests_weight_passed if mine else 0.0,
        rival_written_passed=max((s.tests_weight_passed for s in others), default=0.0),
        rival_votes=max((s.votes for s in others), default=0),
    )
