"""One line per candidate that says why it sits where it does, plus the evidence behind it.

Example: ``rank 2: correct, 3.1× slower than #1 (CI 2.8–3.4), O(n²) per jury``; or, for the
fastest on the timed workload when a rival that grows clearly slower overtakes it, ``rank 2:
correct, fastest (1.6 ms median CPU), but grows faster than linear.py (≈ n^2.0 vs ≈ n^1.0),
which is quicker by n=4096: ranked after it``.
"""

from __future__ import annotations

from codegen.ranking import criteria
from codegen.ranking.criteria import RankContext, seconds
from codegen.ranking.growth import Growth
from codegen.ranking.report import CandidateReport
from sandbox.models import RunResult, TestStatus

__all__ = [
    "RankContext",
    "explain_failing",
    "explain_passing",
    "failure_line",
    "growth_line",
    "seconds",
]


def explain_passing(report: CandidateReport, ctx: RankContext) -> None:
    """One phrase per criterion, in the rule's order, after the rank."""
    parts = [text for c in ctx.criteria if (text := c.describe(report, ctx))]
    head = f"rank {report.rank}"
    if report.tied:
        head += f" (tied with {', '.join(report.tied_with)})"
    report.explanation = f"{head}: {', '.join(parts)}"
    report.reasons = _evidence(report, ctx.facts.growth)


def explain_failing(report: CandidateReport, run: RunResult) -> None:
    """The sandbox's own one-line reason, else the first failing test and its first line."""
    failed = [t for t in run.tests if t.status is not TestStatus.PASSED]
    detail = _first_line(run.message)
    if not detail and failed:
        detail = failure_line(run)
    report.message = report.message or detail
    report.explanation = f"not ranked: {run.verdict}" + (f" — {_short(detail)}" if detail else "")
    report.reasons = [f"verdict {run.verdict}"]
    if run.tests:
        report.reasons.append(f"tests: {report.tests_passed}/{report.tests_total} passed")
    report.reasons += [f"{t.status} {t.name}: {_short(t.message)}" for t in failed[:3]]


def _evidence(report: CandidateReport, growth: dict[str, Growth]) -> list[str]:
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
    if report.growth is not None:
        reasons.append(growth_line(report.growth))
    if report.growth is not None and report.grows_faster_than:
        rivals = criteria.versus(report.growth, report.grows_faster_than, growth)
        reasons.append(f"quicker at small sizes but grows faster than {rivals}")
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


def growth_line(growth: Growth) -> str:
    """``growth ≈ n^2.0 (CPU per call at n = 256–2048, R² 0.99)``."""
    if growth.exponent is None:
        return f"growth {growth.label}"
    sizes = f"n = {growth.used[0]}–{growth.used[-1]}" if growth.used else "no sizes"
    bound = ": no dearer than passing the input" if growth.at_most else ""
    return f"growth {growth.label}{bound} (CPU per call at {sizes}, R² {growth.quality:.2f})"


def failure_line(run: RunResult, width: int = 300) -> str:
    """The first failing test and the first line of what it says; for a doctest, ``Failed
    example: f(1) Expected: 2 Got: 3`` without its banner of stars and its ``File`` line."""
    failed = [t for t in run.tests if t.status is not TestStatus.PASSED]
    if not failed:
        return _short(_first_line(run.message) or str(run.verdict), width)
    lines = [
        line.strip()
        for line in failed[0].message.splitlines()
        if line.strip() and set(line.strip()) != {"*"} and not line.strip().startswith('File "')
    ]
    if "Failed example:" not in lines:
        lines = lines[:1]  # an assertion's first line says it; the rest is pytest's diff
    elif "Exception raised:" in lines:  # the traceback's last line names the exception
        lines = lines[: lines.index("Exception raised:") + 1] + lines[-1:]
    name = failed[0].name.rsplit("::", 1)[-1]
    return _short(f"{name}: {' '.join(lines)}" if lines else name, width)


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


def _short(text: str, width: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
