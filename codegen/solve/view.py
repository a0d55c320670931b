"""How a SolveReport reads on a terminal: the candidates table, the winner, or why none won.

Everything a model or a candidate wrote (code, names, test messages) is shown as plain text:
rich markup in it is printed, not obeyed, and control characters appear as \\xNN.
"""

from __future__ import annotations

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from codegen.ranking.explain import seconds
from codegen.ranking.growth import short_label
from codegen.solve.report import CandidateSummary, SolveReport, unsolved_lines
from codegen.untrusted import plain, visible

FAILURES_SHOWN = 5


def author(c: CandidateSummary) -> str:
    more = f" +{len(c.proposers) - 1}" if len(c.proposers) > 1 else ""
    return f"{c.model}[{c.persona}]{more}"


def print_summary(console: Console, report: SolveReport) -> None:
    """The candidates, ranked ones first, with who wrote them and what they cost."""
    table = Table(title=plain(f"{report.problem}: {len(report.candidates)} candidate(s)"))
    costs = any(c.cost_usd for c in report.candidates)
    columns = ["rank", "id", "written by", "verdict", "tests", "median CPU", "growth"]
    columns += ["latency", "tokens"]
    for column in [*columns, *(["cost"] if costs else [])]:
        left = column in ("id", "written by", "verdict")
        table.add_column(column, justify="left" if left else "right", overflow="fold")
    for c in report.candidates:
        row: list[str | Text] = [
            f"{c.rank}{'=' if c.tied else ''}" if c.rank else "-",
            c.id + (f" ← {c.repair_of}" if c.repair_of else ""),
            plain(author(c)),
            str(c.verdict),
            f"{c.tests_passed}/{c.tests_total}",
            seconds(c.timing.median_s) if c.timing else "",
            short_label(c.growth),
            f"{c.latency_s:.1f}s",
            str(c.prompt_tokens + c.completion_tokens),
        ]
        table.add_row(*row, *([f"${c.cost_usd:.4f}"] if costs else []))
    console.print(table)
    totals = report.totals
    console.print(
        f"{totals.requests} request(s)"
        + (f" and {totals.tester_requests} for tests" if totals.tester_requests else "")
        + f", {totals.candidates} distinct candidate(s), "
        f"{totals.passing} passing; {totals.prompt_tokens + totals.completion_tokens} tokens, "
        f"${totals.cost_usd:.4f}; {report.phases_s.get('total_s', 0):.1f}s"
        + ("; after one repair round" if report.repair_round else ""),
        highlight=False,
        markup=False,
    )
    for note in [*report.warnings, *report.notes]:
        console.print(plain(f"Note: {note}"))


def print_winner(console: Console, report: SolveReport, *, code: bool = True) -> None:
    """Who won and why; its code too unless it was shown when it was decided."""
    assert report.winner is not None and report.code is not None
    winner = report.candidate(report.winner)
    why = f" — {winner.explanation}" if winner.explanation else ""
    line = plain(f" {winner.id} by {author(winner)}{why}")
    console.print(Text.assemble("\n", ("Winner:", "bold green"), line))
    if report.confidence is not None:
        evidence = f" ({report.evidence})" if report.evidence else ""
        console.print(plain(f"Confidence: {report.confidence:.0%}{evidence}"))
    if report.hidden_tests is not None:
        console.print(f"Hidden tests: {report.hidden_tests}", highlight=False, markup=False)
    if (optimised := report.optimisation) is not None:
        if optimised.improved:
            steps = len(optimised.chain) - 1
            growth = f"{optimised.growth_before} → {optimised.growth_after}"
            summary = (
                f"Optimised: {optimised.speedup:.2f}× faster in {steps} step(s); growth {growth}"
            )
        else:
            summary = f"Optimisation: no faster equivalent found ({optimised.stopped})"
        console.print(plain(summary))
    if code or report.optimisation is not None:  # optimised: the code is another one now
        console.print(Syntax(visible(report.code), "python", line_numbers=False))


def print_no_winner(console: Console, report: SolveReport) -> None:
    """Each candidate's first failure, closest first, then what the models could not produce."""
    repair = " after one repair round" if report.repair_round else ""
    console.print(
        Text.assemble(
            ("No passing candidate", "bold red"), f" among {len(report.candidates)}{repair}."
        )
    )
    for line in unsolved_lines(report):
        console.print(plain(f"  {line}"), soft_wrap=True)
    failures = report.generation_failures
    if failures:
        console.print(f"{len(failures)} request(s) gave no candidate:", highlight=False)
        for failure in failures[:FAILURES_SHOWN]:
            line = (
                f"  {failure.model}[{failure.persona}] #{failure.sample}: "
                f"{failure.error_class}: {failure.message}"
            )
            console.print(plain(line))
