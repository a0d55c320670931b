"""How likely the winner is right: evidence measured apart, added up in log-odds, under a ceiling
set by how far independent sources confirm it.

**Support.** The strongest evidence is independent confirmation (:func:`support`):

- *models agree*: samples of two or more models behave like the winner on every input. Two
  models rarely share a bug: on the pool of real samples, every winner that two models stood
  behind was right (28 of 28).
- *one model*: other samples of the one model asked (or of unknown models) behave like it.
  Samples of one small model share its misreadings, so this is capped at 0.8, however many:
  the README's ``two_sum`` had four 0.5B candidates sharing one bug.
- *unconfirmed*: no other sample behaves like it, or, when several models were asked, no
  sample of another model does. Capped at 0.45, below a coin: on the two-model pool every pick
  on a task where no candidate was right was unconfirmed, and nothing else told those apart
  (the other unconfirmed picks were right about 7 times in 10, so this is deliberately low:
  it reads "check it").

**Evidence.** Below that ceiling, each piece of evidence moves the log-odds by a weight
(:data:`WEIGHTS`; a log-odds sum treats them as independent, as they come from different
places: the sandbox's verdicts, the testers' values, other samples' behaviour):

- **other models agree**: each model beyond the first that agrees;
- **same-model votes**: log2 of the agreeing samples per agreeing model (set small, 0.5);
- **failing**: the share of the samples that fail the visible tests (a hard task);
- **agreed tests failed**: model-written tests that several testers wrote alike and the winner
  fails (up to 3). Right programs failed such a test 13 times in 484, wrong ones 10 in 37;
- **tests short**: how far the winner's agreement with the model-written tests, each weighed
  by how many testers wrote it, falls below 0.7, a right program's typical agreement (small
  testers guess values: right programs agreed 0.72 on average, rarely below 0.5). A median that
  passes 1 of 10 drops by 3.6 in log-odds;
- **examples**: log2(1 + the visible tests it passes), doubled when they are the user's own.

The bias and the weights of other models, failing and examples were fitted on the even-numbered
tasks of the pool of real samples; the others were set, because that split holds too few wrong
winners to fit them (``benchmarks/pools/calibrate.py``; figures on both splits and on a pool of
other tasks in ``docs/confidence.md``). Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

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
    written: float = 0.0  # model-written tests, each weighed by how many testers wrote it
    written_passed: float = 0.0  # of that weight, what the winner's behaviour passes
    tests: int = 0  # model-written tests (each counted once)
    tests_passed: int = 0  # of those, the ones the winner's behaviour passes
    agreed: int = 0  # model-written tests several testers wrote alike
    agreed_passed: int = 0  # of those, the ones the winner's behaviour passes


class Contender(BaseModel):
    """One candidate as the confidence sees it."""

    id: str
    passed: bool
    votes: int
    authors: list[str] = []


FEATURES = (
    "other_models_agree",
    "same_model_votes",
    "failing",
    "agreed_failed",
    "tests_short",
    "examples",
)

# Log-odds per unit of each feature, and the bias: see docs/confidence.md for the fit.
WEIGHTS: dict[str, float] = {
    "bias": 2.05,
    "other_models_agree": 0.75,
    "same_model_votes": 0.5,  # set, not fitted: see the module docstring
    "failing": -0.55,
    "agreed_failed": -1.5,  # set, not fitted: see the module docstring
    "tests_short": -6.0,  # set, not fitted
    "examples": 0.3,
}
LOWEST = 0.02
# The most a winner gets for how far it is confirmed (see :func:`support`).
CEILING: dict[str, float] = {"unconfirmed": 0.45, "one model": 0.8, "models agree": 0.99}
# A right program's agreement with the model-written tests (weighed by testers) on the tune
# split: 0.72 on average, rarely below 0.5; wrong ones 0.6 and lower.
TYPICAL_AGREEMENT = 0.7
MAX_AGREED_FAILED = 3  # beyond a few, more failed tests that testers agreed on say nothing new


def features(e: Evidence) -> dict[str, float]:
    """The evidence as the numbers the weights multiply (in :data:`FEATURES` order)."""
    return {
        "other_models_agree": float(max(0, e.agreeing_models - 1)),
        "same_model_votes": math.log2(max(1.0, e.votes / max(1, e.agreeing_models))),
        "failing": (e.samples - e.passing) / e.samples if e.samples else 0.0,
        "agreed_failed": float(min(MAX_AGREED_FAILED, e.agreed - e.agreed_passed)),
        "tests_short": max(0.0, TYPICAL_AGREEMENT - e.written_passed / e.written)
        if e.written
        else 0.0,
        "examples": math.log2(1 + e.visible_tests) * (2.0 if e.strong_tests else 1.0),
    }


def log_odds(e: Evidence, weights: Mapping[str, float] = WEIGHTS) -> float:
    return weights["bias"] + sum(weights[name] * value for name, value in features(e).items())


def support(e: Evidence) -> Literal["unconfirmed", "one model", "models agree"]:
    """How far the winner is confirmed: by no other sample (or, when several models were asked,
    by none of another model); by other samples of one model only; by samples of several."""
    if e.votes <= 1 or (e.models > 1 and e.agreeing_models <= 1):
        return "unconfirmed"
    return "models agree" if e.agreeing_models > 1 else "one model"


def confidence(e: Evidence, weights: Mapping[str, float] = WEIGHTS) -> float:
    """The chance that the winner passes the hidden tests: the log-odds of the evidence, at
    most the :data:`CEILING` of its :func:`support`."""
    value = 1 / (1 + math.exp(-log_odds(e, weights)))
    return round(min(CEILING[support(e)], max(LOWEST, value)), 3)


def describe(e: Evidence) -> str:
    """The winner's :func:`support` in words, with what would raise it."""
    kind = support(e)
    if kind == "models agree":
        return f"{e.agreeing_models} models agree"
    if kind == "one model" and e.models == 0:
        return "no other model confirms it"
    if kind == "one model":
        return "one model only: another model could confirm it"
    if e.votes <= 1:
        return "unconfirmed: no other sample behaves like it"
    return "unconfirmed: no other model's sample behaves like it"


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
        written=consensus.tests_weight if consensus else 0.0,
        written_passed=mine.tests_weight_passed if mine else 0.0,
        tests=consensus.tests if consensus else 0,
        tests_passed=mine.tests_passed if mine else 0,
        agreed=consensus.agreed if consensus else 0,
        agreed_passed=mine.agreed_passed if mine else 0,
    )
