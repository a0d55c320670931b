"""The ranking criteria, in order: each splits what the earlier ones left tied, and says in a
few words why a candidate sits where it does. Adding a criterion means writing one class here
and placing it in :data:`CRITERIA` (or passing another tuple to
:func:`~codegen.ranking.rule.rank`); the rule (:mod:`codegen.ranking.rule`), the explanations
(:mod:`codegen.ranking.explain`) and the early decision follow from the tuple. A criterion that
needs new evidence reads it from ``facts.evidence``: one field on
:class:`~codegen.ranking.rule.CandidateEvidence` carries it (``tests/test_ranking_rule.py``).

A criterion gives every candidate of a group (candidates tied on every earlier criterion) a
tier: lower ranks higher, equal tiers stay tied. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from codegen.ranking.clusters import Finding
from codegen.ranking.growth import Growth, crossing, overtaken
from codegen.ranking.report import CandidateReport, TimingSummary
from codegen.ranking.statistics import TimingStats

if TYPE_CHECKING:
    from codegen.ranking.rule import CandidateEvidence

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
    growth: dict[str, Growth] = field(default_factory=dict)  # CPU time against input size
    timed_size: int | None = None  # elements of the largest timed input, when known
    evidence: dict[str, CandidateEvidence] = field(default_factory=dict)  # all of it, by id


@dataclass
class RankContext:
    """What an explanation may compare a candidate against: the reports, every candidate's
    tiers (``keys``, one per criterion in order) and the facts."""

    reports: list[CandidateReport]
    keys: dict[str, tuple[float, ...]]
    facts: Facts
    fastest: str | None
    criteria: tuple[Criterion, ...]
    rank_of: dict[str, int | None] = field(init=False)

    def __post_init__(self) -> None:
        self.rank_of = {r.id: r.rank for r in self.reports}

    def peers(self, cid: str, criterion: str) -> list[str]:
        """Candidates tied with ``cid`` on every criterion before ``criterion``."""
        cut = position(criterion, self.criteria)
        return [c for c, key in self.keys.items() if key[:cut] == self.keys[cid][:cut]]

    def tier(self, cid: str, criterion: str) -> float:
        return self.keys[cid][position(criterion, self.criteria)]


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
    """Speed tiers (:mod:`codegen.ranking.statistics`): ties within the noise; untimed last.

    The ranking weighs the largest workload. The timed workload is the largest drawn, yet
    small, so a candidate quicker on it may lose at scale. A timed candidate *overtaken* by a
    timed rival of its group, i.e. the rival grows clearly slower (empirical exponent lower by
    more than 0.3, a good fit) and took at most half the CPU at the largest size both were
    measured at (:func:`~codegen.ranking.growth.overtaken`), ranks after that rival: it moves
    to the tier of the slowest rival overtaking it, after that tier's members, and before the
    tiers behind it. Candidates moved after one tier keep their timed order among themselves;
    a rival moved in turn takes them along (the relation is acyclic: exponents strictly
    decrease along it).
    Unknown growth, or a bound (``≲``) on the faster-growing side, moves nothing."""

    name = "speed"

    def tiers(self, group: Sequence[str], facts: Facts) -> dict[str, float]:
        timings = facts.timings
        base = {cid: timings[cid].tier if cid in timings else UNTIMED_TIER for cid in group}
        ahead = {cid: overtaking(cid, group, facts) for cid in group}
        keys: dict[str, tuple[int, int, int]] = {}

        def key(cid: str) -> tuple[int, int, int]:  # (tier, rivals to follow in it, timed tier)
            if cid not in keys:
                rivals = [key(r) for r in ahead[cid]]
                tier = max([base[cid], *(k[0] for k in rivals)])
                after = max((k[1] + 1 for k in rivals if k[0] == tier), default=0)
                keys[cid] = (tier, after, base[cid])
            return keys[cid]

        order = sorted({key(cid) for cid in group})
        return {cid: order.index(keys[cid]) + 1 for cid in group}

    def describe(self, report: CandidateReport, ctx: RankContext) -> str | None:
        timing = report.timing
        if report.untimed_reason:
            return report.untimed_reason
        if timing is None:
            return "not timed"
        if report.id == ctx.fastest:
            text = f"fastest ({seconds(timing.median_s)} median CPU)"
        else:
            text = self._slower(timing, ctx)
        return text + _growth_phrase(report, ctx, self.name)

    @staticmethod
    def _slower(timing: TimingSummary, ctx: RankContext) -> str:
        first = ctx.fastest is not None and ctx.rank_of.get(ctx.fastest) == 1
        reference = "#1" if first else f"the fastest ({ctx.fastest})"
        if timing.tied_with_fastest:
            interval = f"CI {timing.ratio_low:.2f}–{timing.ratio_high:.2f}"
            return f"as fast as {reference} within noise ({timing.ratio:.2f}×, {interval})"
        interval = f"CI {ratio(timing.ratio_low)}–{ratio(timing.ratio_high)}"
        return f"{ratio(timing.ratio)}× slower than {reference} ({interval})"


def overtaking(cid: str, group: Sequence[str], facts: Facts) -> list[str]:
    """Timed rivals in ``group`` that overtake ``cid`` (:func:`.growth.overtaken`), unless the
    timed input is larger than where growth compared them and the rival lost there: growth
    predicts, a measurement at a larger size decides."""
    growth, timed = facts.growth, facts.timings
    if cid not in growth or cid not in timed:
        return []

    def lost_beyond(rival: str) -> bool:
        at = crossing(growth[cid], growth[rival])
        larger = facts.timed_size is not None and at is not None and facts.timed_size > at
        return larger and timed[rival].tier > timed[cid].tier

    return [
        r
        for r in group
        if r != cid
        and r in growth
        and r in timed
        and overtaken(growth[cid], growth[r])
        and not lost_beyond(r)
    ]


def _growth_phrase(report: CandidateReport, ctx: RankContext, criterion: str) -> str:
    """What growth did to this candidate's place, or the flag when it did nothing."""
    growth, timings = ctx.facts.growth, ctx.facts.timings
    mine = growth.get(report.id)
    if mine is None:
        return ""
    peers = ctx.peers(report.id, criterion)

    def moved(cid: str, rival: str) -> bool:  # growth put cid after a rival it beat on time
        return timings[rival].tier >= timings[cid].tier

    behind = [r for r in overtaking(report.id, peers, ctx.facts) if moved(report.id, r)]
    if behind:
        at = max(crossing(mine, growth[r]) or 0 for r in behind)
        return (
            f", but grows faster than {versus(mine, behind, growth)}, which "
            f"{'is' if len(behind) == 1 else 'are'} quicker by n={at}: ranked after "
            f"{'it' if len(behind) == 1 else 'them'}"
        )
    ahead = [
        p for p in peers if report.id in overtaking(p, peers, ctx.facts) and moved(p, report.id)
    ]
    if ahead:
        at = max(crossing(mine, growth[p]) or 0 for p in ahead)
        return f", but grows slower than {versus(mine, ahead, growth)} and is quicker by n={at}"
    if report.grows_faster_than:
        rivals = versus(mine, report.grows_faster_than, growth)
        return f"; quicker at small sizes but grows faster than {rivals}"
    return ""


def versus(mine: Growth, rivals: Sequence[str], growth: dict[str, Growth]) -> str:
    """``X (≈ n^2.0 vs ≈ n^1.0)``, or ``X, Y (≈ n^2.0 vs ≈ n^1.0, ≲ n^1.0)``."""
    theirs = ", ".join(growth[r].label for r in rivals)
    return f"{', '.join(rivals)} ({mine.label} vs {theirs})"


class Memory:
    """Lower peak memory, but only beyond the noise: more than 25 % *and* 4 MB above the
    leanest of a leader-based tier; unmeasured memory ties with everything."""

    name = "memory"

    def tiers(self, group: Sequence[str], facts: Facts) -> dict[str, float]:
        memory = {c: mb for c in group if (mb := facts.memory[c]) is not None}
        measured = sorted(memory, key=memory.__getitem__)
        tiers: dict[str, float] = dict.fromkeys(group, 1)
        tier, leader = 1, None
        for cid in measured:
            if leader is None:
                leader = cid
            elif _more_memory(memory[cid], memory[leader]):
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


def position(name: str, criteria: Sequence[Criterion] = CRITERIA) -> int:
    return next(i for i, c in enumerate(criteria) if c.name == name)


def sort_keys(
    ids: Sequence[str], facts: Facts, criteria: Sequence[Criterion] = CRITERIA
) -> dict[str, tuple[float, ...]]:
    """Every candidate's tiers, criterion by criterion, each applied within the groups the
    earlier ones left tied: sorting by these keys is the ranking."""
    keys: dict[str, tuple[float, ...]] = {cid: () for cid in ids}
    for criterion in criteria:
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
