"""The optimisation in the terminal: the chain of versions, what was turned away, the code."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from codegen.solve.optimisation import OptimiseReport
from codegen.untrusted import visible


def print_report(console: Console, report: OptimiseReport, wrote: Path | None = None) -> None:
    table = Table(title=visible(f"{report.target}: {report.entry_point}"))
    for column in ("round", "version", "written by", "speedup", "95% CI", "growth", "checked on"):
        table.add_column(column, overflow="fold")
    for step in report.chain:
        interval = (
            f"{step.speedup_low:.2f}–{step.speedup_high:.2f}"
            if step.speedup_low is not None and step.speedup_high is not None
            else ""
        )
        table.add_row(
            str(step.round),
            step.id,
            visible(step.author),
            f"{step.speedup:.2f}×" if step.speedup else "",
            interval,
            step.growth,
            f"{len(step.checked_on)} inputs" if step.round else "",
        )
    console.print(table)
    for rejection in report.rejected:
        detail = f": {rejection.detail}" if rejection.detail else ""
        console.print(
            visible(f"turned away {rejection.id} ({rejection.author}): {rejection.reason}{detail}"),
            markup=False,
            highlight=False,
        )
    for note in report.notes:
        console.print(visible(f"Note: {note}"), markup=False, highlight=False)
    if not report.improved:
        unchecked = report.stopped.startswith("not optimised")
        text = report.stopped if unchecked else f"No faster equivalent found ({report.stopped})."
        console.print(text, highlight=False, markup=False)
        return
    console.print(
        f"{report.speedup:.2f}× faster overall; growth {report.growth_before} → "
        f"{report.growth_after}" + (f"; wrote {wrote}" if wrote else ""),
        highlight=False,
        markup=False,
    )
    console.print(Syntax(visible(report.code), "python", line_numbers=False))
