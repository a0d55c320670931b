"""The live progress display of `codegen solve`: each model request, each candidate's sandbox run
and each judge, as rich tables redrawn in place.

It only ever draws on a terminal: `for_solve` picks stdout when the output is for a person, and
stderr (if that is a terminal) under `--json`, whose stdout belongs to the JSON alone. Anywhere
else it is silent, so pipes and CI logs get only the result.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from codegen.solve.events import (
    CandidateProgress,
    Decided,
    GenerationProgress,
    JudgeProgress,
    SolveEvent,
    StageProgress,
)
from codegen.solve.view import plain
from codegen.untrusted import visible

STYLES = {
    "passed": "green",
    "finished": "green",
    "done": "green",
    "failed": "red",
    "error": "red",
    "crashed": "red",
    "timeout": "red",
    "memory_limit": "red",
    "output_limit": "red",
    "cancelled": "dim",
    "retrying": "yellow",
    "started": "cyan",
    "testing": "cyan",
    "judging": "cyan",
}


@dataclass
class _Row:
    status: str
    detail: str = ""
    since: float = field(default_factory=time.monotonic)


class SolveProgress:
    """Context manager and event callback; `enabled=False` makes both no-ops."""

    def __init__(
        self, console: Console | None, *, refresh_per_second: float = 8, early: bool = False
    ) -> None:
        self.console = console
        self.early = early  # print the winner above the display as soon as it is decided
        self.shown_winner = False
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str, int], _Row] = {}
        self._candidates: dict[str, tuple[str, _Row]] = {}
        self._judges: dict[str, _Row] = {}
        self._stage = Text("starting…", style="dim")
        self._live = (
            Live(
                get_renderable=self._render,
                console=console,
                refresh_per_second=refresh_per_second,
                transient=True,
            )
            if console is not None
            else None
        )

    @property
    def enabled(self) -> bool:
        return self._live is not None

    def __enter__(self) -> SolveProgress:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()

    def __call__(self, event: SolveEvent) -> None:
        if self._live is None:
            return
        with self._lock:
            self._apply(event)
        if isinstance(event, Decided) and self.early and event.enriching:
            self._live.console.print(_decided(event))
            self.shown_winner = True
        self._live.refresh()  # every state is drawn at least once, however fast the run

    def _apply(self, event: SolveEvent) -> None:
        if isinstance(event, GenerationProgress):
            e = event.event
            key = (event.round, e.model, e.persona, e.sample)
            detail = f"attempt {e.attempt}" if e.attempt > 1 else ""
            if e.kind in ("finished", "failed"):
                detail = f"{e.latency_s:.1f}s" + (f" {e.error_class}" if e.error_class else "")
            elif e.kind == "retrying":
                detail = f"{e.error_class}, {e.message}"
            self._requests[key] = _Row(e.kind, detail)
        elif isinstance(event, CandidateProgress):
            self._candidates[event.candidate] = (event.author, _Row(event.status, event.detail))
        elif isinstance(event, JudgeProgress):
            self._judges[event.judge] = _Row(event.status, event.detail)
        elif isinstance(event, StageProgress):
            self._stage = plain(f"{event.stage}: {event.message}", style="bold")
        elif isinstance(event, Decided):
            more = "; measuring the rest for the report" if event.enriching else ""
            line = f"decided: {event.winner} after the {event.after} ({event.seconds:.1f}s){more}"
            self._stage = plain(line, style="bold")

    def _render(self) -> RenderableType:
        with self._lock:
            parts: list[RenderableType] = [self._stage]
            if self._requests:
                table = _table("models", "round", "model", "persona", "#", "status", "")
                for (round_, model, persona, sample), row in self._requests.items():
                    table.add_row(round_, plain(model), persona, str(sample), *_status(row))
                parts.append(table)
            if self._candidates:
                table = _table("sandbox", "candidate", "written by", "status", "")
                for cid, (author, row) in self._candidates.items():
                    table.add_row(cid, plain(author), *_status(row))
                parts.append(table)
            if self._judges:
                table = _table("jury", "judge", "status", "")
                for judge, row in self._judges.items():
                    table.add_row(plain(judge), *_status(row))
                parts.append(table)
            return Group(*parts)


def for_solve(
    as_json: bool, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> SolveProgress:
    """The display for one run: on stdout for a person (who sees the winner as soon as it is
    decided), on stderr under --json, else none."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    stream = stderr if as_json else stdout
    if not _is_terminal(stream):
        return SolveProgress(None)
    return SolveProgress(Console(file=stream), early=not as_json)


def _decided(event: Decided) -> Group:
    """The answer, printed above the display while the report is still being measured."""
    head = Text.assemble(
        ("Winner:", "bold green"),
        plain(f" {event.winner} by {event.author} — decided after the {event.after} "
              f"({event.reason}; {event.seconds:.1f}s); the ranking's details follow"),
    )  # fmt: skip
    return Group(head, Syntax(visible(event.code), "python", line_numbers=False))


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _table(title: str, *columns: str) -> Table:
    """Named columns keep their width; the last, unnamed detail column is the one that wraps
    when the terminal is narrow (else rich may squeeze a status column away)."""
    table = Table(title=title, title_justify="left", box=None, pad_edge=False, expand=False)
    for column in columns[:-1]:
        table.add_column(column, overflow="ellipsis", no_wrap=True, min_width=len(column))
    table.add_column(columns[-1], overflow="fold", no_wrap=False, max_width=80)
    return table


def _status(row: _Row) -> tuple[Text, Text]:
    status = row.status
    if status in ("started", "testing", "judging"):
        status = f"{status} {time.monotonic() - row.since:.0f}s"
    return Text(status, style=STYLES.get(row.status, "")), plain(row.detail)
