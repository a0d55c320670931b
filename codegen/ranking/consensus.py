"""Dual execution agreement (CodeT): candidates that behave alike, weighed by the model-written
tests they pass, and how much of the evidence stands behind the winner. Pure.

A *consensus set* is a behaviour cluster (:mod:`~codegen.ranking.clusters`): candidates that gave
the same outcome on every input they were called on, the model-written tests' inputs included,
so every member passes the same model-written tests. Its score is

    votes × (1 + tests passed)

where votes counts the proposals behind its members (a program that several samples wrote counts
once per sample: AlphaCode's and CodeT's agreement). CodeT scores votes × tests passed; the
``1 +`` keeps the agreement between candidates as evidence when no model-written test holds (they
are often wrong: a small model's expected values are guesses), instead of scoring every set 0.

Model-written tests are soft evidence: they order the passing candidates, they never make one
pass or fail. Each set also records the models behind it and its tests passed weighed by their
testers, which the winner's confidence reads (:mod:`~codegen.ranking.confidence`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from codegen.ranking.clusters import ClusterReport
from sandbox.harness import plaindata
from sandbox.models import CallOutcome


class GeneratedTest(BaseModel):
    """One model-written test case: ``entry(*args)`` should return ``expected``."""

    args: list[Any]
    expected: Any
    authors: list[str] = []  # the models that wrote it


class ConsensusSet(BaseModel):
    members: list[str]
    votes: int
    tests_passed: int
    score: float
    models: dict[str, int] = {}  # the samples behind it per model that wrote them, when known
    tests_weight_passed: float = 0.0  # its model-written tests passed, each weighed by its authors
    agreed_passed: int = 0  # of those, the tests several testers wrote alike


class Consensus(BaseModel):
    """The consensus sets of the passing candidates, best score first."""

    sets: list[ConsensusSet]
    tests: int  # model-written tests the candidates were run on
    inputs: int  # inputs they were compared on, those tests' included
    tests_weight: float = 0.0  # those tests weighed by how many testers wrote each
    agreed: int = 0  # those that several testers wrote alike (the same arguments and value)

    def tier(self, candidate: str) -> int | None:
        """0 for the best-scoring set(s); sets with equal scores share a tier."""
        found = self.set_of(candidate)
        if found is None:
            return None
        return sorted({s.score for s in self.sets}, reverse=True).index(found.score)

    def set_of(self, candidate: str) -> ConsensusSet | None:
        return next((s for s in self.sets if candidate in s.members), None)

    def evidence(self, candidate: str) -> str:
        """``7 of 9 candidates agree on 30 inputs; they pass 8 of 10 model-written tests``."""
        found = self.set_of(candidate)
        if found is None:
            return "not compared with the other candidates"
        total = sum(s.votes for s in self.sets)
        text = f"{found.votes} of {total} candidates agree on {self.inputs} inputs"
        if self.tests:
            text += f"; they pass {found.tests_passed} of {self.tests} model-written tests"
        return text


def dual_agreement(
    clusters: ClusterReport,
    outcomes: Mapping[str, Sequence[CallOutcome]],
    inputs: Sequence[Sequence[Any]],
    tests: Sequence[GeneratedTest],
    votes: Mapping[str, int],
    authors: Mapping[str, Sequence[str]] | None = None,
) -> Consensus:
    """Score every cluster of ``clusters`` (over ``inputs``; ``outcomes`` in their order). A
    test counts when its arguments are among ``inputs``. ``authors``: the model of each sample
    behind a candidate, when known."""
    position = {repr(list(args)): index for index, args in enumerate(inputs)}
    placed = [(position[key], t) for t in tests if (key := repr(list(t.args))) in position]
    sets = []
    for cluster in clusters.clusters:
        calls = outcomes[cluster.members[0]]  # alike on every input: one member speaks for all
        passing = [test for index, test in placed if passes(calls[index], test.expected)]
        count = sum(votes.get(member, 1) for member in cluster.members)
        models: dict[str, int] = {}
        for member in cluster.members:
            for model in (authors or {}).get(member, ()):
                models[model] = models.get(model, 0) + 1
        sets.append(
            ConsensusSet(
                members=list(cluster.members),
                votes=count,
                tests_passed=len(passing),
                score=float(count * (1 + len(passing))),
                models=dict(sorted(models.items())),
                tests_weight_passed=sum(map(written_weight, passing)),
                agreed_passed=sum(written_weight(t) > 1 for t in passing),
            )
        )
    sets.sort(key=lambda s: -s.score)  # stable: equal scores keep the cluster order
    weight = sum(written_weight(t) for _, t in placed)
    agreed = sum(written_weight(t) > 1 for _, t in placed)
    return Consensus(
        sets=sets, tests=len(placed), inputs=len(inputs), tests_weight=weight, agreed=agreed
    )


def written_weight(test: GeneratedTest) -> float:
    """A test several testers wrote alike counts once per tester: they are independent."""
    return float(max(1, len(set(test.authors))))


def passes(outcome: CallOutcome, expected: Any) -> bool:
    """The call returned ``expected``, as Python's ``==`` would say, except that floats agree
    within 1e-6 relative (testers round)."""
    if outcome.cause is not None or not outcome.ok:
        return False
    try:
        want = plaindata.canonical(expected)
    except plaindata.NotPlainData:
        return False
    return _close(outcome.value, want)


def _close(value: Any, want: Any) -> bool:
    """Compare two :func:`~sandbox.harness.plaindata.canonical` forms."""
    if isinstance(value, bool) or isinstance(want, bool):
        return bool(value == want)
    if isinstance(value, int | float) and isinstance(want, int | float):
        if isinstance(value, int) and isinstance(want, int):
            return value == want
        return math.isclose(value, want, rel_tol=1e-6, abs_tol=1e-12)
    if isinstance(value, list) and isinstance(want, list):
        return len(value) == len(want) and all(map(_close, value, want))
    if isinstance(value, dict) and isinstance(want, dict):
        return value.keys() == want.keys() and all(_close(value[k], want[k]) for k in value)
    return bool(value == want)
