"""How a SolveReport reads on a terminal: the candidates table, the winner, or why none won."""

from __future__ import annotations

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from codegen.ranking.explain import seconds
from codegen.solve_report import CandidateSummary, SolveReport

FAILURES_SHOWN = 5


def print_summary(console: Console, report: SolveReport) -> None:
    """The candidates, ranked ones first, with who wrote them and what they cost."""
    table = Table(title=f"{report.problem}: {len(report.candidates)} candidate(s)")
    costs = any(c.cost_usd for c in report.candidates)
    columns = ["rank", "id", "written by", "verdict", "tests", "median CPU", "latency", "tokens"]
    for column in [*columns, *(["cost"] if costs else [])]:
        left = column in ("id", "written by", "verdict")
        table.add_column(column, justify="left" if left else "right", overflow="fold")
    for c in report.candidates:
        more = f" +{len(c.proposers) - 1}" if len(c.proposers) > 1 else ""
        row = [
            f"{c.rank}{'=' if c.tied else ''}" if c.rank else "-",
            c.id + (f" ← {c.repair_of}" if c.repair_of else ""),
            f"{c.model.removeprefix('openai/')}[{c.persona}]{more}",
            str(c.verdict),
            f"{c.tests_passed}/{c.tests_total}",
            seconds(c.timing.median_s) if c.timing else "",
            f"{c.latency_s:.1f}s",
            str(c.prompt_tokens + c.completion_tokens),
        ]
        table.add_row(*row, *([f"${c.cost_usd:.4f}"] if costs else []))
    console.print(table)
    totals = report.totals
    console.print(
        f"{totals.requests} request(s), {totals.candidates} distinct candidate(s), "
        f"{totals.passing} passing; {totals.prompt_tokens + totals.completion_tokens} tokens, "
        f"${totals.cost_usd:.4f}; {report.phases_s.get('total_s', 0):.1f}s"
        + ("; after one repair round" if report.repair_round else ""),
        highlight=False,
    )
    for note in [*report.warnings, *report.notes]:
        console.print(f"Note: {note}", highlight=False, markup=False)


def print_winner(console: Console, report: SolveReport) -> None:
    assert report.winner is not None and report.code is not None
    winner = report.candidate(report.winner)
    console.print(
        f"\n[bold green]Winner:[/bold green] {winner.id} by {winner.model}[{winner.persona}]"
        + (f" — {winner.explanation}" if winner.explanation else ""),
        highlight=False,
    )
    if report.hidden_tests is not None:
        console.print(f"Hidden tests: {report.hidden_tests}", highlight=False)
    console.print(Syntax(report.code, "python", line_numbers=False))


def print_no_winner(console: Console, report: SolveReport) -> None:
    """The closest candidates and how each failed, then what the models could not produce."""
    repair = " after one repair round" if report.repair_round else ""
    console.print(
        f"[bold red]No passing candidate[/bold red] among {len(report.candidates)}{repair}.",
        highlight=False,
    )
    for cid in report.closest:
        _print_failure(console, report.candidate(cid))
    failures = report.generation_failures
    if failures:
        console.print(f"{len(failures)} request(s) gave no candidate:", highlight=False)
        for failure in failures[:FAILURES_SHOWN]:
            console.print(
                f"  {failure.model}[{failure.persona}] #{failure.sample}: "
                f"{failure.error_class}: {failure.message}",
                highlight=False,
                markup=False,
            )


def _print_failure(console: Console, c: CandidateSummary) -> None:
    console.print(
        f"\n[bold]{c.id}[/bold] by {c.model}[{c.persona}]: {c.verdict}, "
        f"{c.tests_passed}/{c.tests_total} tests passed",
        highlight=False,
    )
    if c.message:
        console.print("  " + c.message.strip().replace("\n", "\n  "), highlight=False, markup=False)
