"""The pre-commit hook: find marked stubs in the given files, solve them with the same engine
as `codegen solve` (cached solutions first), then print a diff (default) or write the files
(`--fix`). Like a formatter it exits 1 whenever it proposes or makes a change, so the commit
stops for a review; 0 when no file has a marked stub.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codegen.errors import BadInput, CodegenError
from codegen.precommit.cache import SolvedCache, SolvedEntry
from codegen.precommit.rewrite import apply, implementation_body, unified_diff
from codegen.problems import Problem
from codegen.project.associate import problem_for
from codegen.project.context import DEFAULT_CONTEXT_TOKENS
from codegen.project.find import MarkedStub, find_stubs
from codegen.settings import SolveSettings
from codegen.solve.progress import SolveProgress
from codegen.solve.report import SolveReport, unsolved_lines

Say = Callable[[str], None]


@dataclass
class _File:
    path: Path
    text: str
    solved: list[tuple[MarkedStub, str]] = field(default_factory=list)


@dataclass
class HookOutcome:
    exit_code: int
    diffs: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    llm_solved: int = 0
    cached: int = 0
    unsolved: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The last line the user reads: what happened and what to do next."""
        parts = []
        if self.diffs:
            parts.append(
                f"{len(self.diffs)} file(s) with proposed implementations (diff above); apply "
                "them with `codegen precommit --fix` (args: [--fix] in the hook)"
            )
        if self.written:
            parts.append(f"wrote {', '.join(self.written)}; review and stage them")
        if self.unsolved:
            parts.append(f"{len(self.unsolved)} stub(s) unsolved (why above)")
        if self.bad:
            parts.append(f"{len(self.bad)} marked stub(s) cannot be solved as written")
        return "; ".join(parts) or "nothing to do"


async def run_hook(
    files: Sequence[Path],
    *,
    fix: bool,
    settings: Callable[[], SolveSettings],
    cache: SolvedCache,
    root: Path,
    say: Say,
    progress: SolveProgress | None = None,
    remote: Callable[[Problem], SolveReport] | None = None,
    context_tokens: int = DEFAULT_CONTEXT_TOKENS,
) -> HookOutcome:
    """See the module docstring; `settings` is only called (and models only started) when a
    stub is not in the cache. `say` gets one line per event, for stderr. With `remote` (a
    configured `codegen serve`), stubs are solved there instead of in a local session."""
    outcome = HookOutcome(exit_code=0)
    work: list[tuple[_File, MarkedStub, Problem]] = []
    bad: list[str] = []
    for path in files:
        if path.suffix != ".py" or not path.is_file():
            continue
        text = _read(path)
        stubs, warnings = find_stubs(text, str(path))
        for warning in warnings:
            say(f"codegen: warning: {warning}")
        record = _File(path, text)
        for stub in stubs:
            try:
                work.append((record, stub, problem_for(stub, root, text, context_tokens)))
            except BadInput as error:
                bad.append(str(error))
    for message in bad:
        say(f"codegen: {message}")
    outcome.bad = bad

    misses = []
    for record, stub, problem in work:
        hit = cache.get(problem.fingerprint())
        if hit is not None:
            record.solved.append((stub, implementation_body(hit.code, stub.name)))
            outcome.cached += 1
            say(f"codegen: {problem.origin} {stub.name}: cached solution ({hit.model})")
        else:
            misses.append((record, stub, problem))
    reports = await _solve_all([problem for _, _, problem in misses], settings, progress, remote)
    for (record, stub, problem), report in zip(misses, reports, strict=True):
        if not _accept(report, stub, problem, record, cache, say):
            outcome.unsolved.append(problem.origin)
            continue
        outcome.llm_solved += 1

    for record in {id(r): r for r, _, _ in work}.values():
        if not record.solved:
            continue
        new_text = apply(record.text, record.solved)
        if fix:
            _write(record.path, new_text)
            outcome.written.append(str(record.path))
            say(f"codegen: wrote {len(record.solved)} implementation(s) into {record.path}; "
                "review and stage them")  # fmt: skip
        else:
            outcome.diffs.append(unified_diff(str(record.path), record.text, new_text))
    if work or bad:
        outcome.exit_code = BadInput.exit_code if bad else CodegenError.exit_code
    return outcome


async def _solve_all(
    problems: Sequence[Problem],
    settings: Callable[[], SolveSettings],
    progress: SolveProgress | None,
    remote: Callable[[Problem], SolveReport] | None,
) -> list[SolveReport]:
    """Each problem's report, on the service or in one local session for all of them (one per
    project: each mounts its own)."""
    if not problems:
        return []
    if remote is not None:
        return [await asyncio.to_thread(remote, problem) for problem in problems]
    from codegen.project.environment import plans_by_project
    from codegen.solve import SolveSession, solve  # the sandbox and the models: local only

    reports: dict[int, SolveReport] = {}
    for plan, indexes in plans_by_project(problems):
        async with SolveSession(settings(), project=plan) as session:
            for index in indexes:  # the hook writes the winner only: each run ends at the answer
                reports[index] = await solve(
                    problems[index], session, on_event=progress, enrich=False
                )
    return [reports[index] for index in range(len(problems))]


def _accept(
    report: SolveReport,
    stub: MarkedStub,
    problem: Problem,
    record: _File,
    cache: SolvedCache,
    say: Say,
) -> bool:
    if not report.solved or report.code is None or report.winner is None:
        lines = unsolved_lines(report)
        say(f"codegen: {problem.origin} {stub.name}: no passing candidate among "
            f"{len(report.candidates)}" + (":" if lines else ""))  # fmt: skip
        for line in lines:
            say(f"  {line}")
        return False
    winner = report.candidate(report.winner)
    try:
        body = implementation_body(report.code, stub.name)
    except (SyntaxError, ValueError) as error:
        say(f"codegen: {problem.origin} {stub.name}: cannot use the winner: {error}")
        return False
    cache.put(
        problem.fingerprint(),
        SolvedEntry(
            problem=problem.name, code=report.code, model=winner.model, persona=winner.persona
        ),
    )
    record.solved.append((stub, body))
    say(f"codegen: {problem.origin} {stub.name}: solved by {winner.model}[{winner.persona}]")
    return True


def _read(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", newline="") as handle:  # keep \r\n as it is
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read: {error}") from None


def _write(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text)
