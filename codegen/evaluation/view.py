"""How a ranking reads on a terminal: the table, the reasons, the findings and the winner's
code. Every string from a candidate or a model is shown, never obeyed (codegen.untrusted)."""

from __future__ import annotations

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from codegen.evaluation.report import RankingRun
from codegen.ranking.explain import seconds
from codegen.ranking.growth import short_label
from codegen.untrusted import visible

SHOWN_FINDINGS = 5


def print_ranking(
    report: RankingRun, sources: dict[str, str], console: Console | None = None
) -> None:
    """The table, one explanation per candidate, the findings, the evidence and the winner."""
    console = console or Console()
    table = Table(title=Text(visible(f"{report.problem}: {len(report.candidates)} candidate(s)")))
    columns = ("rank", "candidate", "verdict", "tests", "median CPU", "vs fastest", "growth")
    for column in (*columns, "peak MB"):
        if column == "candidate":
            table.add_column(column, overflow="fold")
        else:
            table.add_column(column, justify="right")
    if report.jury:
        table.add_column("jury", justify="right")
    for c in report.candidates:
        t = c.timing
        row: list[str | Text] = [
            f"{c.rank}{'=' if c.tied else ''}" if c.rank else "-",
            Text(visible(c.id)),
            str(c.verdict),
            f"{c.tests_passed}/{c.tests_total}",
            seconds(t.median_s) if t else "",
            f"{t.ratio:.3g}× ({t.ratio_low:.3g}–{t.ratio_high:.3g})" if t else "",
            short_label(c.growth),
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
    if report.disputed:
        console.print("\n[bold red]Disputed:[/bold red] no winner. The passing candidates "
                      "disagree and none has more support:", highlight=False)  # fmt: skip
        console.print(visible(f"  {report.dispute}"), highlight=False, markup=False)
        return
    if report.winner is None:
        console.print("\n[bold red]No candidate passes the tests.[/bold red]")
        return
    others = [w for w in report.tied_winners if w != report.winner]
    tie = f" (tied with {', '.join(others)}; the shorter source wins a tie)" if others else ""
    console.print(Text.assemble("\n", ("Winner:", "bold green"), " ", visible(report.winner + tie)))
    if report.confidence is not None:
        evidence = f" ({report.evidence})" if report.evidence else ""
        console.print(visible(f"Confidence: {report.confidence:.0%}{evidence}"), markup=False)
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
    sizes = [n for c in report.candidates if c.growth for n, _ in c.growth.points]
    if sizes:
        console.print(
            f"Growth: CPU per call on inputs of doubling size, n = {min(sizes)}–{max(sizes)}, "
            "fitted as n^k (≲: no dearer than passing the input, so its own work grows no "
            "faster).",
            highlight=False,
        )
    for note in report.notes:
        console.print(visible(f"Note: {note}"), highlight=False, markup=False)
