"""One line per candidate that says why it sits where it does, plus the evidence behind it.

Example: ``rank 2: correct, 3.1× slower than #1 (CI 2.8–3.4), O(n²) per jury``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codegen.ranking.report import CandidateReport
from codegen.ranking.statistics import TimingStats
from sandbox.models import RunResult, TestStatus


@dataclass
class RankContext:
    """What an explanation may compare a candidate against. ``keys`` are the rule's sort keys:
    (behaviour group, speed tier, memory tier, -jury points)."""

    reports: list[CandidateReport]
    keys: dict[str, tuple[int, int, int, float]]
    timings: dict[str, TimingStats]
    memory: dict[str, float | None]
    points: dict[str, float]
    fastest: str | None
    rank_of: dict[str, int | None] = field(init=False)

    def __post_init__(self) -> None:
        self.rank_of = {r.id: r.rank for r in self.reports}


def explain_passing(report: CandidateReport, ctx: RankContext) -> None:
    parts = [_behaviour(report)]
    parts.append(_speed(report, ctx))
    memory = _memory(report, ctx)
    if memory:
        parts.append(memory)
    if report.jury and report.jury.complexity:
        parts.append(f"{report.jury.complexity} per jury")
    verdict = _jury_tiebreak(report, ctx)
    if verdict:
        parts.append(verdict)
    head = f"rank {report.rank}"
    if report.tied:
        head += f" (tied with {', '.join(report.tied_with)})"
    report.explanation = f"{head}: {', '.join(parts)}"
    report.reasons = _evidence(report)


def explain_failing(report: CandidateReport, run: RunResult) -> None:
    """The sandbox's own one-line reason, else the first failing test and its first line."""
    failed = [t for t in run.tests if t.status is not TestStatus.PASSED]
    detail = _first_line(run.message)
    if not detail and failed:
        line = _first_line(failed[0].message)
        detail = f"{failed[0].name}: {line}" if line else failed[0].name
    report.message = report.message or detail
    report.explanation = f"not ranked: {run.verdict}" + (f" — {_short(detail)}" if detail else "")
    report.reasons = [f"verdict {run.verdict}"]
    if run.tests:
        report.reasons.append(f"tests: {report.tests_passed}/{report.tests_total} passed")
    report.reasons += [f"{t.status} {t.name}: {_short(t.message)}" for t in failed[:3]]


def _behaviour(report: CandidateReport) -> str:
    if not report.demoted:
        return "correct"
    finding = report.disagreement
    if finding is None:
        return "passes the tests but acts unlike the majority"
    mine = next(g.behaviour for g in finding.groups if report.id in g.members)
    others = [g for g in finding.groups if report.id not in g.members]
    majority = max(others, key=lambda g: len(g.members)).behaviour
    return f"passes the tests but on {finding.call} {mine}, the majority {majority}"


def _speed(report: CandidateReport, ctx: RankContext) -> str:
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
    interval = f"CI {_ratio(timing.ratio_low)}–{_ratio(timing.ratio_high)}"
    return f"{_ratio(timing.ratio)}× slower than {reference} ({interval})"


def _memory(report: CandidateReport, ctx: RankContext) -> str | None:
    key = ctx.keys[report.id]
    if key[2] == 1 or report.peak_memory_mb is None:
        return None
    peers = [
        ctx.memory[c] for c, k in ctx.keys.items() if k[:2] == key[:2] and ctx.memory[c] is not None
    ]
    leanest = min(m for m in peers if m is not None)
    return f"more memory ({report.peak_memory_mb:.1f} MB vs {leanest:.1f} MB)"


def _jury_tiebreak(report: CandidateReport, ctx: RankContext) -> str | None:
    """Say so when the jury alone separated this candidate from another one."""
    key = ctx.keys[report.id]
    rivals = [c for c, k in ctx.keys.items() if k[:3] == key[:3] and k[3] != key[3]]
    if not rivals:
        return None
    mine = ctx.points.get(report.id, 0.0)
    above = [c for c in rivals if ctx.points.get(c, 0.0) > mine]
    below = [c for c in rivals if ctx.points.get(c, 0.0) < mine]
    if below and not above:
        return f"jury prefers it to {', '.join(below)} (Borda {mine:.1f})"
    best = max(above, key=lambda c: ctx.points.get(c, 0.0))
    return f"jury prefers {best} (Borda {ctx.points.get(best, 0.0):.1f} vs {mine:.1f})"


def _evidence(report: CandidateReport) -> list[str]:
    reasons = []
    if report.tests_total:
        reasons.append(f"tests: {report.tests_passed}/{report.tests_total} passed")
    if report.cluster is not None:
        reasons.append(f"behaviour cluster {report.cluster}")
    if report.demoted:
        reasons.append("demoted: the tests are weak and it disagrees with the dominant cluster")
    if report.untimed_reason:
        reasons.append(report.untimed_reason)
    if report.timing:
        t = report.timing
        reasons.append(
            f"median {seconds(t.median_s)} CPU (IQR {seconds(t.iqr_s)}, {t.rounds} rounds); "
            f"{t.ratio:.2f}× the fastest, CI {t.ratio_low:.2f}–{t.ratio_high:.2f} "
            f"({t.confidence:.0%}, {t.method}); speed tier {t.tier}"
        )
    if report.peak_memory_mb is not None:
        reasons.append(f"peak memory {report.peak_memory_mb:.1f} MB")
    if report.jury:
        j = report.jury
        line = f"jury: {j.points:.2f} Borda points"
        if j.complexity:
            line += f", complexity {j.complexity}"
        if j.risky_inputs:
            line += f", risky inputs: {'; '.join(j.risky_inputs[:3])}"
        reasons.append(line)
    return reasons


def seconds(value: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def _ratio(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


def _short(text: str, width: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
