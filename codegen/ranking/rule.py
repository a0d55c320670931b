"""The final ranking rule: deterministic, measurement first, opinion last.

1. **Correctness gate.** A candidate passes only when its sandbox verdict is ``passed`` (every
   test, adversarial ones included). Others get no rank, whatever else is known about them.
2. **Behaviour.** Passing candidates run on the same inputs (differential inputs and the
   model-written tests' inputs) are clustered (:mod:`~codegen.ranking.clusters`); inputs where
   they disagree are *findings*, always reported. Each cluster is a consensus set, scored by
   its votes and the model-written tests it passes (:mod:`~codegen.ranking.consensus`). Only
   when the tests are weak (docstring examples, or none) does the score order candidates here:
   a candidate outside the best-scoring set is *demoted* below it. Strong tests outrank a vote,
   so then the score only breaks ties after memory (step 4b) — unless the candidates disagree
   on an input the problem vouches for (``vouched``: drawn from its own ``strategies.py``, a
   docstring example, a model-written test's input), which only a wrong program gets wrong:
   then agreement comes first however strong the tests.
3. **Speed.** Within a behaviour group, candidates are ordered by speed tier
   (:mod:`~codegen.ranking.statistics`): members of one tier are tied within the noise. A
   candidate without timing samples ranks after the timed ones of its group. Speed is only
   compared between candidates that gave the same answers on the timed workload: when they
   differ, the strictly largest group keeps its timings and the others are ranked as untimed
   (with no strictly largest group, none is ranked on speed). Being fast at the wrong answer
   wins nothing, even when the tests are strong. The ranking weighs the largest workload: the
   timed one is the largest *drawn*, yet small, so a candidate overtaken by a rival that grows
   clearly slower (empirical exponent lower by more than 0.3, both fits good: R² ≥ 0.9,
   :mod:`~codegen.ranking.growth`) and took at most half the CPU at the largest size both were
   measured at ranks right after that rival's tier (:class:`~codegen.ranking.criteria.Speed`),
   unless the timed input is larger than that size and the rival was slower on it: a
   measured loss is never overruled by a prediction.
4. **Memory.** Within one speed tier, lower peak memory wins, but only beyond the memory noise
   (more than 25 % *and* 4 MB above the tier's leanest); smaller differences stay ties.
   4b. **Agreement** (strong tests only): a higher consensus score wins what is still tied.
5. **Jury.** Within what is still tied, more jury points (summed mean Borda, see
   :mod:`~codegen.ranking.votes`) rank higher. The jury cannot reach across steps 1–4.
6. **Ranks.** Equal positions share a rank (1, 1, 3) and are flagged ``tied``.
7. **Winner.** The rank-1 candidate. When several share rank 1, the one with the fewest
   non-blank source lines, then the first given, is named winner, and ``tied_winners`` lists
   them all: a documented preference for the simpler code, not a hidden coin flip.
8. **Disputed.** When the passing candidates behave differently on a vouched input and the
   best consensus score is shared by sets that behave differently there (no behaviour has more
   support, votes and model-written tests counted, than every other), there is no winner: the
   report is ``disputed`` and says where they disagree. Which side is right is a question for more
   evidence (``codegen solve`` gathers it), never for a tie-break.

Steps 2–5 are the criteria of :mod:`~codegen.ranking.criteria`, applied in that order; a new
criterion is one class there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from codegen.ranking.ballots import JuryResult
from codegen.ranking.clusters import ClusterReport, Finding, behaviour_key, cluster_outcomes
from codegen.ranking.confidence import Contender, Evidence, confidence, describe, gather
from codegen.ranking.consensus import Consensus, GeneratedTest, dual_agreement
from codegen.ranking.criteria import CRITERIA, Criterion, Facts, RankContext, sort_keys
from codegen.ranking.explain import explain_failing, explain_passing
from codegen.ranking.growth import Growth, faster_growth
from codegen.ranking.report import CandidateReport, JuryView, RankingReport, TimingSummary
from codegen.ranking.statistics import DEFAULT_NOISE_FLOOR, TimingStats, compare_timings
from sandbox.models import BenchmarkStats, CallOutcome, RunResult, TestStatus

RULE = (
    "passes every test > best consensus score: agreement and model-written tests passed (weak "
    "tests only) > speed tier (ties within noise; after any rival that grows clearly slower "
    "and is quicker at the largest size both were measured at) > memory beyond noise > "
    "consensus score (strong tests) > jury points; equal positions share a rank; among rank-1 "
    "ties the winner is the shortest source (see codegen.ranking.rule)"
)


class CandidateEvidence(BaseModel):
    """Everything measured about one candidate; only ``id`` and ``run`` are required."""

    id: str
    source: str = ""
    run: RunResult
    outputs: list[CallOutcome] | None = None  # on the differential inputs, in their order
    timing_samples: list[float] | None = None  # CPU seconds, one per interleaved round
    # Its answers on the timed inputs, when generated inputs are the workload (else the
    # answers on the benchmark tests are read from ``run``).
    timed_outputs: list[CallOutcome] | None = None
    peak_memory_mb: float | None = None  # default: run.peak_memory_mb
    votes: int = 1  # proposals that wrote this program: agreement evidence
    authors: list[str] = []  # the model of each of those proposals, when known
    growth: Growth | None = None  # CPU time against input size (codegen.ranking.growth)


def samples_from_benchmarks(benchmarks: Sequence[BenchmarkStats]) -> list[float]:
    """One CPU time per round: the sum over benchmark tests of that round's sample (e.g. a
    ``TimingResult.timings[candidate]``)."""
    if not benchmarks:
        return []
    rounds = min(len(b.samples) for b in benchmarks)
    return [sum(b.samples[i] for b in benchmarks) for i in range(rounds)]


def samples_of(evidence: CandidateEvidence) -> list[float]:
    """Explicit samples, else the per-round sum over the run's benchmark tests."""
    if evidence.timing_samples:
        return list(evidence.timing_samples)
    return samples_from_benchmarks(evidence.run.benchmarks)


def rank(
    evidence: Sequence[CandidateEvidence],
    *,
    weak_tests: bool = False,
    inputs: Sequence[Sequence[Any]] | None = None,
    entry_point: str | None = None,
    jury: JuryResult | None = None,
    noise_floor: float = DEFAULT_NOISE_FLOOR,
    generated_tests: Sequence[GeneratedTest] = (),
    timed_size: int | None = None,
    vouched: Sequence[bool] | None = None,
    criteria: Sequence[Criterion] = CRITERIA,
) -> RankingReport:
    """Rank candidates by the rule in this module's docstring. ``generated_tests`` are
    model-written test cases whose arguments are among ``inputs``; ``timed_size``: elements
    of the largest timed input, when known (growth never overrules a loss measured there);
    ``vouched``: per input, whether the problem vouches for it (by default, none);
    ``criteria``: the rule's criteria in order (:mod:`~codegen.ranking.criteria`)."""
    return ordering(
        evidence, weak_tests=weak_tests, inputs=inputs, entry_point=entry_point, jury=jury,
        noise_floor=noise_floor, generated_tests=generated_tests, timed_size=timed_size,
        vouched=vouched, criteria=criteria,
    ).report  # fmt: skip


@dataclass(frozen=True)
class Ordering:
    """The report and what it was sorted by: each passing candidate's tiers, one per criterion
    (:func:`~codegen.ranking.criteria.sort_keys`), and the facts they came from. What
    :mod:`~codegen.ranking.decision` reads to say which evidence could still move the winner."""

    report: RankingReport
    keys: dict[str, tuple[float, ...]]
    facts: Facts
    criteria: tuple[Criterion, ...] = CRITERIA


def ordering(
    evidence: Sequence[CandidateEvidence],
    *,
    weak_tests: bool = False,
    inputs: Sequence[Sequence[Any]] | None = None,
    entry_point: str | None = None,
    jury: JuryResult | None = None,
    noise_floor: float = DEFAULT_NOISE_FLOOR,
    generated_tests: Sequence[GeneratedTest] = (),
    timed_size: int | None = None,
    vouched: Sequence[bool] | None = None,
    criteria: Sequence[Criterion] = CRITERIA,
) -> Ordering:
    """:func:`rank`, with the keys it sorted by."""
    ids = [e.id for e in evidence]
    if len(set(ids)) != len(ids):
        raise ValueError("candidate ids must be unique")
    passing = [e for e in evidence if e.run.passed]
    clusters = _cluster(passing, inputs, entry_point)
    agreement = _agreement(passing, clusters, inputs, generated_tests)
    any_tiers = {e.id: agreement.tier(e.id) for e in passing} if agreement else {}
    tiers = {cid: tier for cid, tier in any_tiers.items() if tier is not None}
    trusted = list(vouched or ())
    agreement_first = weak_tests or _split_on(clusters, trusted)
    demoted = _demoted(agreement, clusters, tiers) if agreement_first and agreement else {}
    timed = {e.id: samples_of(e) for e in passing if samples_of(e)}
    withheld = withheld_speed(passing, set(timed))
    timings = {
        t.id: t
        for t in compare_timings(
            {cid: s for cid, s in timed.items() if cid not in withheld}, noise_floor=noise_floor
        )
    }
    memory = {e.id: _memory(e) for e in evidence}
    growth = {e.id: e.growth for e in passing if e.growth is not None}
    facts = Facts(demoted, timings, memory, jury.points if jury else {}, tiers, agreement_first,
                  growth, timed_size, {e.id: e for e in evidence})  # fmt: skip
    rule = tuple(criteria)
    keys = sort_keys([e.id for e in passing], facts, rule)
    order = sorted(passing, key=lambda e: (keys[e.id], _simplicity(e), ids.index(e.id)))
    ranks = _competition_ranks([keys[e.id] for e in order])
    reports: list[CandidateReport] = []
    for position, e in enumerate(order):
        same = [o.id for o, r in zip(order, ranks, strict=True) if r == ranks[position]]
        report = _passing_report(e, ranks[position], same, clusters, demoted, timings, memory, jury)
        report.untimed_reason = withheld.get(e.id, "")
        report.agreement = agreement.evidence(e.id) if agreement else ""
        report.growth = e.growth
        report.grows_faster_than = _grows_faster_than(e, growth, timings)
        reports.append(report)
    fastest = next(iter(timings), None)  # compare_timings lists the fastest first
    context = RankContext(reports, keys, facts, fastest, rule)
    for report in reports:
        explain_passing(report, context)
    for e in evidence:
        if not e.run.passed:
            report = _failing_report(e, memory[e.id])
            explain_failing(report, e.run)
            reports.append(report)
    top = [r.id for r in reports if r.rank == 1]
    dispute = disputed(agreement, clusters, trusted)
    winner = top[0] if top and not dispute else None
    counted = None
    if winner is not None:
        winner_run = next(e.run for e in evidence if e.id == winner)
        contenders = [
            Contender(id=e.id, passed=e.run.passed, votes=e.votes, authors=e.authors)
            for e in evidence
        ]
        counted = gather(winner, contenders, agreement, len(winner_run.tests), not weak_tests)
    ranking = RankingReport(
        winner=winner,
        tied_winners=top if len(top) > 1 and not dispute else [],
        disputed=bool(dispute),
        dispute=dispute,
        candidates=reports,
        weak_tests=weak_tests,
        clusters=clusters if clusters and _clustered(clusters) > 1 else None,
        findings=clusters.findings if clusters else [],
        consensus=agreement,
        confidence=confidence(counted) if counted else None,
        evidence=_evidence(agreement, winner, counted),
        counted=counted,
        jury=jury,
        noise_floor=noise_floor,
        rule=RULE,
    )
    return Ordering(ranking, keys, facts, rule)


def disputed(
    agreement: Consensus | None, clusters: ClusterReport | None, vouched: Sequence[bool]
) -> str:
    """Where the best-supported behaviours disagree on a vouched input, when more than one has
    the best consensus score (empty when one has more support than every other, or when they
    differ only on inputs nobody vouches for)."""
    if agreement is None or clusters is None or len(agreement.sets) < 2:
        return ""
    best, second = agreement.sets[0], agreement.sets[1]
    if second.score < best.score:
        return ""
    one, other = best.members[0], second.members[0]
    for finding in clusters.findings:
        if not _vouched(vouched, finding.input_index):
            continue
        sides = [g for g in finding.groups if one in g.members or other in g.members]
        if len(sides) == 2:
            said = "; ".join(f"{', '.join(g.members)} {g.behaviour}" for g in finding.groups)
            return f"on {finding.call}: {said}"
    return ""


def _split_on(clusters: ClusterReport | None, vouched: Sequence[bool]) -> bool:
    """Whether the passing candidates disagree on some vouched input."""
    return clusters is not None and any(_vouched(vouched, f.input_index) for f in clusters.findings)


def _vouched(vouched: Sequence[bool], index: int) -> bool:
    return index < len(vouched) and vouched[index]


def _evidence(agreement: Consensus | None, winner: str | None, counted: Evidence | None) -> str:
    """What stands behind the winner, in words: its agreement and how far it is confirmed."""
    parts = [agreement.evidence(winner) if agreement and winner else ""]
    parts.append(describe(counted) if counted else "")
    return "; ".join(part for part in parts if part)


def _grows_faster_than(
    e: CandidateEvidence, growth: dict[str, Growth], timings: dict[str, TimingStats]
) -> list[str]:
    """The flag: rivals it is quicker than at small sizes (a faster speed tier on the timed
    workload, when both were ranked on it: a median quicker within the noise is no claim)
    but grows clearly faster than."""
    if e.growth is None:
        return []

    def quicker(rival: str) -> bool | None:
        if e.id in timings and rival in timings:
            return timings[e.id].tier < timings[rival].tier
        return None

    return [r for r, g in growth.items() if r != e.id and faster_growth(e.growth, g, quicker(r))]


def _clustered(clusters: ClusterReport) -> int:
    return sum(len(c.members) for c in clusters.clusters)


def _agreement(
    passing: Sequence[CandidateEvidence],
    clusters: ClusterReport | None,
    inputs: Sequence[Sequence[Any]] | None,
    tests: Sequence[GeneratedTest],
) -> Consensus | None:
    if clusters is None or not inputs:
        return None
    outcomes = {e.id: e.outputs for e in passing if e.outputs is not None}
    votes = {e.id: e.votes for e in passing}
    authors = {e.id: e.authors for e in passing}
    return dual_agreement(clusters, outcomes, inputs, tests, votes, authors)


def _cluster(
    passing: Sequence[CandidateEvidence],
    inputs: Sequence[Sequence[Any]] | None,
    entry_point: str | None,
) -> ClusterReport | None:
    with_outputs = {e.id: e.outputs for e in passing if e.outputs is not None}
    if not inputs or not with_outputs:
        return None
    return cluster_outcomes(with_outputs, inputs, entry_point)


def timed_answers(evidence: CandidateEvidence) -> str | None:
    """What a candidate answered on the timed workload, as a key equal for candidates that
    agree (floats to 10 digits): its outcomes on the timed inputs, else the behaviour digests
    of its benchmark tests. None when unknown."""
    if evidence.timed_outputs is not None:
        return repr(tuple(behaviour_key(o) for o in evidence.timed_outputs))
    digests = sorted(f"{b.test}={b.behaviour}" for b in evidence.run.benchmarks if b.behaviour)
    return "|".join(digests) or None


def withheld_speed(passing: Sequence[CandidateEvidence], timed: set[str]) -> dict[str, str]:
    """Timed candidates whose answers on the timed workload differ from the strictly largest
    group of agreeing candidates (all of them, when no group is strictly largest), with why."""
    answers = {e.id: a for e in passing if e.id in timed and (a := timed_answers(e)) is not None}
    groups = Counter(answers.values())
    if len(groups) < 2:
        return {}
    (top, size), (_, runner_up) = groups.most_common(2)
    withheld = {}
    for cid, answer in answers.items():
        if answer != top or size == runner_up:
            others = sum(n for a, n in groups.items() if a != answer)
            withheld[cid] = (
                f"not ranked on speed: its answers on the timed workload differ from those of "
                f"{others} other candidate(s)"
            )
    return withheld


def _demoted(
    agreement: Consensus, clusters: ClusterReport | None, tiers: dict[str, int]
) -> dict[str, Finding | None]:
    """Candidates outside the best-scoring consensus set, each with the first input where it
    acts unlike that set."""
    best = next((s.members[0] for s in agreement.sets if agreement.tier(s.members[0]) == 0), None)
    return {
        cid: clusters.disagreement(cid, best) if clusters else None
        for cid, tier in tiers.items()
        if tier > 0
    }


def _memory(evidence: CandidateEvidence) -> float | None:
    value = evidence.peak_memory_mb
    if value is None:
        value = evidence.run.peak_memory_mb or None  # 0.0 means "not measured"
    return value


def _simplicity(evidence: CandidateEvidence) -> int:
    return sum(1 for line in evidence.source.splitlines() if line.strip())


def _competition_ranks(keys: list[tuple[float, ...]]) -> list[int]:
    ranks: list[int] = []
    for position, key in enumerate(keys):
        ranks.append(
            ranks[position - 1] if position and keys[position - 1] == key else position + 1
        )
    return ranks


def _passing_report(
    e: CandidateEvidence,
    rank_value: int,
    same_rank: list[str],
    clusters: ClusterReport | None,
    demoted: dict[str, Finding | None],
    timings: dict[str, TimingStats],
    memory: dict[str, float | None],
    jury: JuryResult | None,
) -> CandidateReport:
    stats = timings.get(e.id)
    timing = None
    if stats is not None:
        timing = TimingSummary(
            rounds=stats.rounds,
            median_s=stats.median,
            iqr_s=stats.iqr,
            ratio=stats.ratio,
            ratio_low=stats.ratio_low,
            ratio_high=stats.ratio_high,
            confidence=stats.confidence,
            method=stats.method,
            tier=stats.tier,
            tied_with_fastest=stats.tied_with_fastest,
        )
    in_clusters = clusters and any(e.id in c.members for c in clusters.clusters)
    return CandidateReport(
        id=e.id,
        votes=e.votes,
        passed=True,
        rank=rank_value,
        tied=len(same_rank) > 1,
        tied_with=[c for c in same_rank if c != e.id],
        verdict=e.run.verdict,
        tests_passed=_count(e.run, TestStatus.PASSED),
        tests_total=len(e.run.tests),
        cluster=clusters.cluster_of(e.id) if clusters and in_clusters else None,
        demoted=e.id in demoted,
        disagreement=demoted.get(e.id),
        timing=timing,
        peak_memory_mb=memory[e.id],
        jury=_jury_view(jury, e.id),
    )


def _failing_report(e: CandidateEvidence, memory: float | None) -> CandidateReport:
    return CandidateReport(
        id=e.id,
        votes=e.votes,
        passed=False,
        rank=None,
        verdict=e.run.verdict,
        message=e.run.message,
        tests_passed=_count(e.run, TestStatus.PASSED),
        tests_total=len(e.run.tests),
        peak_memory_mb=memory,
    )


def _count(run: RunResult, status: TestStatus) -> int:
    return sum(1 for t in run.tests if t.status is status)


def _jury_view(jury: JuryResult | None, cid: str) -> JuryView | None:
    if jury is None or cid not in jury.points:
        return None
    notes = [f"{b.judge} ({b.aspect}): {b.notes[cid]}" for b in jury.ballots if cid in b.notes]
    return JuryView(
        points=jury.points[cid],
        complexity=jury.complexity(cid),
        risky_inputs=jury.risky_inputs(cid),
        notes=notes,
    )
