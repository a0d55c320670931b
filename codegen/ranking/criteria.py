"""The ranking criteria, in order: each splits what the earlier ones left tied, and says in a
few words why a candidate sits where it does. Adding a criterion means writing one class here
and placing it in :data:`CRITERIA`; the rule (:mod:`codegen.ranking.rule`) and the explanations
(:mod:`codegen.ranking.explain`) follow from the tuple.

A criterion gives every candidate of a group (candidates tied on every earlier criterion) a
tier: lower ranks higher, equal tiers stay tied. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from codegen.ranking.clusters import Finding
from codegen.ranking.report import CandidateReport
from codegen.ranking.statistics import TimingStats

MEMORY_TOLERANCE_RATIO = 1.25
MEMORY_TOLERANCE_MB = 4.0
UNTIMED_TIER = 10**6


@dataclass(frozen=True)
class Facts:
    """What the criteria decide on, worked out once for all passing candidates."""

    demoted: dict[str, Finding | None]  # weak tests and off the best consensus set
    timings: dict[str, TimingStats]  # speed ranked (timed, and agreeing on the timed answers)
    memory: dict[str, float | None]
    points: dict[str, float]  # the jury's
    agreement: dict[str, int] = field(default_factory=dict)  # consensus tier, 0 = best
    weak: bool = False  # the visible tests are weak: agreement comes before speed


@dataclass
class RankContext:
    """What an explanation may compare a candidate against: the reports, every candidate's
    tiers (``keys``, one per criterion in order) and the facts."""

    reports: list[CandidateReport]
    keys: dict[str, tuple[float, ...]]
    facts: Facts
    fastest: str | None
    rank_of: dict[str, int | None] = field(init=False)

    def __post_init__(self) -> None:
        self.rank_of = {r.id: r.rank for r in self.reports}

    def peers(self, cid: str, criterion: str) -> list[str]:
        """Candidates tied with ``cid`` on every criterion before ``criterion``."""
        cut = position(criterion)
        return [c for c, key in self.keys.items() if key[:cut] == self.keys[cid][:cut]]

    def tier(self, cid: str, criterion: str) -> float:
        return self.keys[cid][position(criterion)]


class Criterion(Protocol):
    name: str

    def tiers(self, group: Sequence[str], facts: Facts) -> dict[str, float]: ...

    def describe(self, report: CandidateReport, ctx: RankContext) -> str | None: ...


class Behaviour:
    """With weak tests, a candidate outside the best-scoring consensus set (agreement and
    model-written tests passed, :mod:`~codegen.ranking.consensus`) ranks below it."""

    name = "behaviour"

    def tiers(self, group: Sequence[str], facts: Facts) -> dict[str, float]:
        return {cid: facts.agreement.get(cid, 0) if facts.weak else 0 for cid in group}

    def describe(self, report: CandidateReport, ctx: RankContext) -> str | None:
        if not report.demoted:
            return "correct"
        finding = report.disagreement
        if finding is None:
            return f"passes the tests but fewer agree with it ({report.agreement})"
        mine = next(g.behaviour for g in finding.groups if report.id in g.members)
        others = [g for g in finding.groups if report.id not in g.members]
        majority = max(others, key=lambda g: len(g.members)).behaviour
        return f"passes the tests but on {finding.call} {mine}, the best-supported {majority}"


class Agreement:
    """With strong tests, a higher consensus score breaks what speed and memory left tied."""

    name = "agreement"

    def tiers(self, group: Sequence[str], facts: Facts) -> dict[str, float]:
        return {cid: 0 if facts.weak else facts.agreement.get(cid, 0) for cid in group}

    def describe(self, report: CandidateReport, ctx: RankContext) -> str | None:
        mine = ctx.tier(report.id, self.name)
        peers = [ctx.tier(c, self.name) for c in ctx.peers(report.id, self.name)]
        if mine > min(peers):
            return f"less agreement ({report.agreement})"
        return None


class Speed:
    """Speed tiers (:mod:`codegen.ranking.statistics`): ties within the noise; untimed last."""

    name = "speed"

    def tiers(self, group: Sequence[str], facts: Facts) -> dict[str, float]:
        timings = facts.timings
        return {cid: timings[cid].tier if cid in timings else UNTIMED_TIER for cid in group}

    def describe(self, report: CandidateReport, ctx: RankContext) -> str | None:
        timing = report.timing
        if report.untimed_reason:
            return report.untimed_reason
        if timing is None:
            return "not timed"
        if report.id == ctx.fastest:
            return f"fastest ({seconds(timing.median_s)} median CPU)"
        reference = "#1" if ctx.rank_of.get(ctx.fastest) == 1 else f"the fastest ({ctx.fastest})"
        if timing.tied_with_fastest:
            interval = f"CI {timing.ratio_low:.2f}–{timing.ratio_high:.2f}"
            return f"as fast as {reference} within noise ({timing.ratio:.2f}×, {interval})"
        interval = f"CI {ratio(timing.ratio_low)}–{ratio(timing.ratio_high)}"
        return f"{ratio(timing.ratio)}× slower than {reference} ({interval})"


class Memory:
    """Lower peak memory, but only beyond the noise: more than 25 % *and* 4 MB above the
    leanest of a leader-based tier; unmeasured memory ties with everything."""

    name = "memory"

    def tiers(self, group: Sequence[str], facts: Facts) -> dict[str, float]:
        memory = facts.memory
        measured = sorted((c for c in group if memory[c] is not None), key=lambda c: memory[c])
        tiers = dict.fromkeys(group, 1)
        tier, leader = 1, None
        for cid in measured:
            if leader is None:
                leader = cid
            elif _more_memory(memory[cid], memory[leader]):  # type: ignore[arg-type]
                tier, leader = tier + 1, cid
            tiers[cid] = tier
        return tiers

    def describe(self, report: CandidateReport, ctx: RankContext) -> str | None:
        if ctx.tier(report.id, self.name) == 1 or report.peak_memory_mb is None:
            return None
        peers = [ctx.facts.memory[c] for c in ctx.peers(report.id, self.name)]
        leanest = min(m for m in peers if m is not None)
        return f"more memory ({report.peak_memory_mb:.1f} MB vs {leanest:.1f} MB)"


class Jury:
    """More jury points (summed mean Borda) rank higher, within what is still tied and only
    when every candidate of the tie was judged: the jury cannot reach across a measurement."""

    name = "jury"

    def tiers(self, group: Sequence[str], facts: Facts) -> dict[str, float]:
        judged = all(cid in facts.points for cid in group)
        return {cid: -round(facts.points[cid], 6) if judged else 0.0 for cid in group}

    def describe(self, report: CandidateReport, ctx: RankContext) -> str | None:
        mine = ctx.tier(report.id, self.name)
        rivals = [c for c in ctx.peers(report.id, self.name) if ctx.tier(c, self.name) != mine]
        complexity = (
            f"{report.jury.complexity} per jury" if report.jury and report.jury.complexity else None
        )
        if not rivals:
            return complexity
        points = ctx.facts.points
        own = points.get(report.id, 0.0)
        above = [c for c in rivals if points.get(c, 0.0) > own]
        below = [c for c in rivals if points.get(c, 0.0) < own]
        if below and not above:
            verdict = f"jury prefers it to {', '.join(below)} (Borda {own:.1f})"
        else:
            best = max(above, key=lambda c: points.get(c, 0.0))
            verdict = f"jury prefers {best} (Borda {points.get(best, 0.0):.1f} vs {own:.1f})"
        return ", ".join(filter(None, [complexity, verdict]))


CRITERIA: tuple[Criterion, ...] = (Behaviour(), Speed(), Memory(), Agreement(), Jury())


def position(name: str) -> int:
    return next(i for i, c in enumerate(CRITERIA) if c.name == name)


def sort_keys(ids: Sequence[str], facts: Facts) -> dict[str, tuple[float, ...]]:
    """Every candidate's tiers, criterion by criterion, each applied within the groups the
    earlier ones left tied: sorting by these keys is the ranking."""
    keys: dict[str, tuple[float, ...]] = {cid: () for cid in ids}
    for criterion in CRITERIA:
        groups: dict[tuple[float, ...], list[str]] = {}
        for cid in ids:
            groups.setdefault(keys[cid], []).append(cid)
        for group in groups.values():
            tiers = criterion.tiers(group, facts)
            for cid in group:
                keys[cid] = (*keys[cid], tiers[cid])
    return keys


def _more_memory(value: float, base: float) -> bool:
    return value > base * MEMORY_TOLERANCE_RATIO and value - base > MEMORY_TOLERANCE_MB


def seconds(value: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def ratio(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"
