"""Behaviour clustering (AlphaCode, CodeT): candidates that act alike on the same inputs.

Two candidates are in one cluster when every input gives the same *behaviour*: an equal value
(floats compared to 10 significant digits), an exception of the same type (the message is
ignored), or the same limit hit (timeout, memory...). An input on which *every* candidate
raises is one they all reject, whatever the exception: most likely outside the problem's
domain (one number where the text asks for at least two), so which exception each raises there
says nothing about which is right; it neither splits them nor makes a finding. The dominant
cluster is the strictly largest one; when two clusters tie for largest there is no dominant
cluster, because a vote that is split evenly says nothing. A *finding* is an input on which
candidates disagree, with what each group of candidates did: either a bug or an unclear spec.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from sandbox.models import CallOutcome


class Cluster(BaseModel):
    id: int  # 0 = largest; ties in size keep the order of the first member
    members: list[str]


class FindingGroup(BaseModel):
    members: list[str]
    behaviour: str  # "returns [0, 1]", "raises IndexError", "timeout"


class Finding(BaseModel):
    """One input on which the candidates disagree."""

    input_index: int
    args: list[Any]
    call: str  # "two_sum([3, 3], 6)" when the entry point is known, else the argument list
    groups: list[FindingGroup]


class ClusterReport(BaseModel):
    clusters: list[Cluster]
    dominant: int | None
    findings: list[Finding]
    inputs: int

    def cluster_of(self, candidate: str) -> int:
        return next(c.id for c in self.clusters if candidate in c.members)

    def disagreement(self, candidate: str, reference: str | None = None) -> Finding | None:
        """The first finding where ``candidate`` acts unlike ``reference`` (by default, the
        first member of the dominant cluster)."""
        if reference is None:
            if self.dominant is None:
                return None
            reference = self.clusters[self.dominant].members[0]
        for finding in self.findings:
            for group in finding.groups:
                if candidate in group.members:
                    if reference not in group.members:
                        return finding
                    break
        return None


def cluster_outcomes(
    outcomes: Mapping[str, Sequence[CallOutcome]],
    inputs: Sequence[Sequence[Any]],
    entry_point: str | None = None,
) -> ClusterReport:
    """Cluster candidates by their outcomes on ``inputs`` (same order for every candidate)."""
    for candidate, calls in outcomes.items():
        if len(calls) != len(inputs):
            raise ValueError(f"{candidate}: {len(calls)} outcomes for {len(inputs)} inputs")
    rejected = {
        index
        for index in range(len(inputs))
        if outcomes and all(_raised(calls[index]) for calls in outcomes.values())
    }
    keys = {
        c: tuple(REJECTED if i in rejected else behaviour_key(o) for i, o in enumerate(calls))
        for c, calls in outcomes.items()
    }
    by_signature: dict[tuple[Hashable, ...], list[str]] = {}
    for candidate, signature in keys.items():
        by_signature.setdefault(signature, []).append(candidate)
    groups = sorted(by_signature.values(), key=len, reverse=True)  # stable: first seen first
    clusters = [Cluster(id=i, members=members) for i, members in enumerate(groups)]
    dominant = 0 if len(groups) == 1 or (groups and len(groups[0]) > len(groups[1])) else None
    findings = []
    for index, args in enumerate(inputs):
        per_behaviour: dict[Hashable, list[str]] = {}
        shown: dict[Hashable, str] = {}
        for candidate in outcomes:
            key = keys[candidate][index]
            per_behaviour.setdefault(key, []).append(candidate)
            shown.setdefault(key, describe(outcomes[candidate][index]))
        if len(per_behaviour) > 1:
            findings.append(
                Finding(
                    input_index=index,
                    args=list(args),
                    call=format_call(entry_point, args),
                    groups=[
                        FindingGroup(members=members, behaviour=shown[key])
                        for key, members in per_behaviour.items()
                    ],
                )
            )
    return ClusterReport(
        clusters=clusters, dominant=dominant, findings=findings, inputs=len(inputs)
    )


REJECTED = ("raises", "an exception")  # the key of every candidate on an input all reject


def _raised(outcome: CallOutcome) -> bool:
    return not outcome.ok and outcome.cause is None


def behaviour_key(outcome: CallOutcome) -> Hashable:
    if outcome.cause is not None:
        return ("limit", str(outcome.cause))
    if not outcome.ok:
        return ("raises", error_type(outcome.error))
    if outcome.value_omitted:  # too large to send: its digest stands for it
        return ("returns", ("digest", outcome.behaviour))
    return ("returns", _normal(outcome.value))


def error_type(error: str) -> str:
    """``"ValueError: bad"`` -> ``"ValueError"``; exceptions compare by type only."""
    return error.split(":", 1)[0].strip() or "Exception"


def describe(outcome: CallOutcome, width: int = 80) -> str:
    if outcome.cause is not None:
        return str(outcome.cause)
    if not outcome.ok:
        return f"raises {error_type(outcome.error)}"
    if outcome.value_omitted:
        return f"returns {_short(outcome.repr, width)}"
    return f"returns {_short(repr(outcome.value), width)}"


def format_call(entry_point: str | None, args: Sequence[Any], width: int = 120) -> str:
    inner = ", ".join(repr(arg) for arg in args)
    return _short(f"{entry_point}({inner})" if entry_point else f"({inner})", width)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _normal(value: Any) -> Hashable:
    """A hashable form where equal behaviour gives equal keys (float noise, -0.0, nan)."""
    if isinstance(value, bool) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, float):
        if math.isnan(value):
            return ("float", "nan")
        return ("float", float(f"{value:.10g}") + 0.0)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_normal(item) for item in value))
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted((_normal(item) for item in value), key=repr)))
    if isinstance(value, dict):
        items = ((_normal(k), _normal(v)) for k, v in value.items())
        return ("dict", tuple(sorted(items, key=repr)))
    try:
        hash(value)
    except TypeError:
        return (type(value).__name__, repr(value))
    return (type(value).__name__, value)
