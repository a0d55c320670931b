"""Run progress on the terminal: a rich progress bar on a TTY, else one line per problem (for
logs and for tests that watch a run)."""

from __future__ import annotations

import sys
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TimeElapsedColumn
from rich.progress import Progress as RichBar


class Progress(Protocol):
    def start(self, run: str, total: int, done: int) -> None: ...

    def advance(self, problem: str, status: str) -> None: ...

    def close(self) -> None: ...


class LineProgress:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = self.count = 0

    def start(self, run: str, total: int, done: int) -> None:
        self.total, self.count = total, done
        print(f"run {run}: {done}/{total} problems already done", file=self.stream, flush=True)

    def advance(self, problem: str, status: str) -> None:
        self.count += 1
        print(f"[{self.count}/{self.total}] {problem}: {status}", file=self.stream, flush=True)

    def close(self) -> None:
        pass


class BarProgress:
    def __init__(self) -> None:
        self.bar = RichBar(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task: TaskID | None = None

    def start(self, run: str, total: int, done: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task(run, total=total, completed=done)

    def advance(self, problem: str, status: str) -> None:
        if status != "done":
            self.bar.console.print(f"{problem}: {status}")
        assert self.task is not None  # start() comes first
        self.bar.advance(self.task)

    def close(self) -> None:
        self.bar.stop()


def terminal_progress() -> Progress:
    return BarProgress() if sys.stderr.isatty() else LineProgress()
