"""`codegen rank PROBLEM CANDIDATE.py...`: rank existing implementations, no generation."""

from __future__ import annotations

import asyncio

import click
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from codegen.errors import BadInput, CodegenError
from codegen.problems import Problem, load_problem
from codegen.rank_pipeline import (
    DEFAULT_ROUNDS,
    Event,
    RankingRun,
    judge_specs,
    rank_candidates,
)
from codegen.ranking import JudgeSpec
from codegen.ranking.explain import seconds
from codegen.untrusted import visible
from codegen.verify import read_candidates
from sandbox import ProblemError, Sandbox

SHOWN_FINDINGS = 5


@click.command()
@click.argument("problem")
@click.argument("candidates", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--jury", is_flag=True, help="Ask LLM judges too (they break ties and explain).")
@click.option(
    "--models",
    multiple=True,
    metavar="MODEL[,MODEL]",
    help="Judge models for --jury, litellm model strings; repeat or separate with commas.",
)
@click.option("--api-base", help="OpenAI-compatible base URL for the judges (else litellm's).")
@click.option("--judge-timeout", default=60.0, show_default=True, help="Seconds per judge.")
@click.option(
    "--rounds", default=DEFAULT_ROUNDS, show_default=True, help="Timing rounds (twice when unsure)."
)
@click.option("--workers", default=2, show_default=True, help="Containers run in parallel.")
def rank(
    problem: str,
    candidates: tuple[str, ...],
    as_json: bool,
    jury: bool,
    models: tuple[str, ...],
    api_base: str | None,
    judge_timeout: float,
    rounds: int,
    workers: int,
) -> None:
    """Rank CANDIDATES (Python files) for PROBLEM: the fastest genuinely correct one wins.

    Exit code 0 when a candidate wins, 1 when none passes."""
    if len(set(candidates)) != len(candidates):
        raise BadInput("a candidate file is given twice")
    if rounds < 3:
        raise BadInput("--rounds must be at least 3 for a confidence interval")
    names = [m.strip() for given in models for m in given.split(",") if m.strip()]
    if names and not jury:
        raise BadInput("--models names judges: add --jury")
    if jury and not names:
        raise BadInput("--jury needs judge models: add --models openai/gpt-4o-mini (for example)")
    loaded = load_problem(problem)
    sources = read_candidates(candidates)
    judges = judge_specs(names, api_base, judge_timeout) if jury else None
    progress = None if as_json else Console(stderr=True)
    report = asyncio.run(_rank(loaded, sources, judges, rounds, workers, progress, problem))
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        _print(report, sources)
    if report.winner is None:
        raise CodegenError("no candidate passes the tests")  # exit code 1


async def _rank(
    problem: Problem,
    sources: dict[str, str],
    judges: list[JudgeSpec] | None,
    rounds: int,
    workers: int,
    progress: Console | None,
    where: str,
) -> RankingRun:
    def show(event: Event) -> None:
        if progress is not None:
            who = f"{event.candidate}: " if event.candidate else ""
            line = Text.assemble((f"{event.stage:>9} ", "dim"), visible(who + event.message))
            progress.print(line, highlight=False)

    try:
        async with Sandbox(workers=workers) as sandbox:
            return await rank_candidates(
                problem, sources, sandbox, judges=judges, rounds=rounds, on_event=show
            )
    except ProblemError as error:  # the tests are broken for every candidate alike
        first = str(error).strip().splitlines()
        raise BadInput(f"{where}: {first[0] if first else 'the tests do not load'}") from None


def _print(report: RankingRun, sources: dict[str, str]) -> None:
    console = Console()
    table = Table(title=Text(visible(f"{report.problem}: {len(report.candidates)} candidate(s)")))
    for column in ("rank", "candidate", "verdict", "tests", "median CPU", "vs fastest", "peak MB"):
        if column == "candidate":
            table.add_column(column, overflow="fold")
        else:
            table.add_column(column, justify="right")
    if report.jury:
        table.add_column("jury", justify="right")
    for c in report.candidates:
        t = c.timing
        row = [
            f"{c.rank}{'=' if c.tied else ''}" if c.rank else "-",
            Text(visible(c.id)),
            str(c.verdict),
            f"{c.tests_passed}/{c.tests_total}",
            seconds(t.median_s) if t else "",
            f"{t.ratio:.3g}× ({t.ratio_low:.3g}–{t.ratio_high:.3g})" if t else "",
            f"{c.peak_memory_mb:.1f}" if c.peak_memory_mb else "",
        ]
        if report.jury:
            row.append(f"{c.jury.points:.1f}" if c.jury else "")
        table.add_row(*row)
    console.print(table)
    for c in report.candidates:
        console.print(Text.assemble((visible(c.id), "bold"), " ", visible(c.explanation)))
    if report.findings:
        console.print("\n[bold]Findings[/bold] (inputs on which passing candidates disagree):")
        for finding in report.findings[:SHOWN_FINDINGS]:
            groups = "; ".join(f"{', '.join(g.members)} {g.behaviour}" for g in finding.groups)
            console.print(visible(f"  {finding.call}: {groups}"), highlight=False, markup=False)
        if len(report.findings) > SHOWN_FINDINGS:
            console.print(f"  … and {len(report.findings) - SHOWN_FINDINGS} more (see --json)")
    _print_evidence(console, report)
    if report.winner is None:
        console.print("\n[bold red]No candidate passes the tests.[/bold red]")
        return
    others = [w for w in report.tied_winners if w != report.winner]
    tie = f" (tied with {', '.join(others)}; the shorter source wins a tie)" if others else ""
    console.print(Text.assemble("\n", ("Winner:", "bold green"), " ", visible(report.winner + tie)))
    console.print(Syntax(visible(sources[report.winner]), "python", line_numbers=False))


def _print_evidence(console: Console, report: RankingRun) -> None:
    used = report.differential_inputs
    behaviour = f"{used.count} inputs from {used.origin}" if used.count else f"none ({used.reason})"
    console.print(
        f"\nBehaviour: {behaviour}. Timing: {report.timing_workload}, {report.timing_rounds} "
        f"interleaved rounds, noise floor {report.noise_floor:.2f}×."
        + (" Weak tests: off-majority candidates are demoted." if report.weak_tests else ""),
        highlight=False,
    )
    if report.jury:
        agreement = ", ".join(
            f"{aspect} {w:.2f}" if w is not None else f"{aspect} n/a"
            for aspect, w in report.jury.agreement.items()
        )
        console.print(f"Jury agreement (Kendall's W): {agreement}", highlight=False)
        for failure in report.jury.failures:
            console.print(
                visible(
                    f"  judge {failure.judge} ({failure.aspect}) {failure.kind}: {failure.message}"
                ),
                highlight=False,
                markup=False,
            )
    for note in report.notes:
        console.print(visible(f"Note: {note}"), highlight=False, markup=False)
