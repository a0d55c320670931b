"""The live display: where it draws (a terminal only), and what it shows for each event."""

from __future__ import annotations

import io

from rich.console import Console

from codegen.generation import GenerationEvent
from codegen.solve import CandidateProgress, GenerationProgress, JudgeProgress, StageProgress
from codegen.solve.progress import SolveProgress, for_solve


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_draws_only_on_a_terminal_and_never_on_stdout_under_json() -> None:
    tty, pipe = _Stream(True), _Stream(False)
    assert for_solve(False, stdout=tty, stderr=pipe).console.file is tty  # type: ignore[union-attr]
    assert not for_solve(False, stdout=pipe, stderr=tty).enabled  # piped output: silent
    assert for_solve(True, stdout=tty, stderr=tty).console.file is tty  # type: ignore[union-attr]
    json_progress = for_solve(True, stdout=tty, stderr=pipe)
    assert not json_progress.enabled  # --json: stdout is for the JSON alone
    json_progress(StageProgress("generate", "ignored"))  # a disabled display takes events


def test_renders_requests_candidates_and_judges_as_plain_text() -> None:
    console = Console(file=io.StringIO(), width=120, record=True)
    progress = SolveProgress(console)
    event = GenerationEvent(kind="finished", model="openai/coder", persona="fastest", sample=0,
                            latency_s=1.25)  # fmt: skip
    progress(GenerationProgress("initial", event))
    failed = event.model_copy(update={"kind": "failed", "sample": 1, "error_class": "Timeout"})
    progress(GenerationProgress("repair", failed))
    progress(CandidateProgress("c1", "testing", "openai/coder[fastest]"))
    progress(CandidateProgress("c1", "failed", "openai/coder[fastest]", "1/2 tests: [red]x[/red]"))
    progress(JudgeProgress("openai/judge", "done", "3 ballot(s)"))
    progress(StageProgress("timing", "2 candidate(s), 3 interleaved rounds"))
    console.print(progress._render())
    text = console.export_text()
    assert "timing: 2 candidate(s), 3 interleaved rounds" in text
    assert "initial  openai/coder  fastest" in text  # the model as the user named it
    assert "1.2s" in text and "Timeout" in text and "repair" in text
    assert "coder[fastest]" in text  # a persona in brackets is not taken for markup
    assert "failed" in text and "1/2 tests: [red]x[/red]" in text
    assert "openai/judge" in text and "3 ballot(s)" in text


def test_the_winner_is_printed_as_soon_as_it_is_decided() -> None:
    """On a terminal the code appears when decided, above the display, while the report is
    still being measured; with nothing more to come (--fast) it waits for the summary."""
    from codegen.solve import Decided

    stream = _Stream(True)
    progress = for_solve(False, stdout=stream, stderr=_Stream(False))
    code = "def two_sum(nums, target):\n    return [0, 1]  # [red]x[/red]\n"
    with progress:
        progress(Decided("c1", "openai/coder[fastest]", code, "tests", "the only passing "
                         "candidate", 3.2))  # fmt: skip
        assert progress.shown_winner
    text = stream.getvalue()
    assert "Winner:" in text and "decided after the tests" in text and "[red]x[/red]" in text
    quiet = for_solve(False, stdout=_Stream(True), stderr=_Stream(False))
    with quiet:
        quiet(Decided("c1", "coder", code, "tests", "only one", 1.0, enriching=False))
    assert not quiet.shown_winner
