"""`codegen rank PROBLEM CANDIDATE.py...`: rank existing implementations, no generation."""

from __future__ import annotations

from typing import Literal

import click
from rich.console import Console
from rich.text import Text

from codegen.cli import running
from codegen.errors import BadInput, CodegenError, Disputed
from codegen.evaluation import DEFAULT_ROUNDS, Event, RankingRun
from codegen.evaluation.view import print_ranking
from codegen.problems import Problem, load_problem
from codegen.project import is_function_spec
from codegen.ranking import JudgeSpec
from codegen.settings import Overrides, SandboxSettings, load_settings
from codegen.untrusted import visible
from sandbox import Limits


@click.command()
@click.argument("problem")
@click.argument("candidates", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option(
    "--judges",
    multiple=True,
    metavar="MODEL[,MODEL]",
    help="LLM judges that break ties and explain (litellm model strings); repeat or separate "
    "with commas.  [default: none, no jury]",
)
@click.option("--jury", is_flag=True, help="Seat the jury; implied by --judges.")
@click.option("--models", "legacy_models", multiple=True, hidden=True)  # deprecated: --judges
@click.option(
    "--api-base",
    help="OpenAI-compatible base URL for the judges.  [default: litellm's, per provider]",
)
@click.option("--judge-timeout", default=60.0, show_default=True, help="Seconds per judge.")
@click.option(
    "--rounds", default=DEFAULT_ROUNDS, show_default=True, help="Timing rounds (twice when unsure)."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    show_default="[tool.codegen.sandbox] workers, else 2",
    help="Containers run in parallel.",
)
@click.option(
    "--isolation",
    type=click.Choice(["warm", "strict"]),
    show_default="[tool.codegen.sandbox] isolation, else warm",
    help="strict: a fresh container per candidate and plain pytest beside the isolated run.",
)
def rank(
    problem: str,
    candidates: tuple[str, ...],
    as_json: bool,
    judges: tuple[str, ...],
    jury: bool,
    legacy_models: tuple[str, ...],
    api_base: str | None,
    judge_timeout: float,
    rounds: int,
    workers: int | None,
    isolation: Literal["warm", "strict"] | None,
) -> None:
    """Rank CANDIDATES (Python files) for PROBLEM: the fastest genuinely correct one wins.

    No model is asked unless --judges names some. Exit codes: 0 a candidate wins, 1 none
    passes, 2 bad input (a missing file, broken tests), 3 Docker unreachable, 4 disputed (the
    passing candidates disagree and none has more support: no winner), 130 interrupted.
    """
    if len(set(candidates)) != len(candidates):
        raise BadInput("a candidate file is given twice")
    if rounds < 3:
        raise BadInput("--rounds must be at least 3 for a confidence interval")
    if legacy_models:
        click.echo(
            "codegen: warning: `rank --models` is deprecated: it named judges here, while "
            "everywhere else --models names the models that write code; use --judges",
            err=True,
        )
    names = [m.strip() for given in (*judges, *legacy_models) for m in given.split(",")]
    names = [name for name in names if name]
    jury = jury or bool(names)
    if jury and not names:
        raise BadInput("--jury needs judge models: add --judges openai/gpt-4o-mini (for example)")
    from codegen.evaluation import read_candidates
    from codegen.ranking.jury import judges_for

    if is_function_spec(problem):
        from codegen.project.target import function_problem

        loaded = function_problem(problem)
    else:
        loaded = load_problem(problem)
    sources = read_candidates(candidates)
    seated = judges_for(names, api_base, judge_timeout) if jury else None
    progress = None if as_json else Console(stderr=True)
    settings = load_settings(None, Overrides(isolation=isolation))
    sandbox = settings.sandbox
    if workers is not None:
        sandbox = sandbox.model_copy(update={"workers": workers})
    report = running.run(
        _rank(loaded, sources, seated, rounds, progress, problem, sandbox, settings.limits)
    )
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        print_ranking(report, sources)
    if report.disputed:
        raise Disputed(f"disputed, no winner: {report.dispute}")  # exit code 4
    if report.winner is None:
        raise CodegenError("no candidate passes the tests")  # exit code 1


async def _rank(
    problem: Problem,
    sources: dict[str, str],
    judges: list[JudgeSpec] | None,
    rounds: int,
    progress: Console | None,
    where: str,
    backend: SandboxSettings,
    limits: Limits,
) -> RankingRun:
    from codegen.evaluation import rank_candidates
    from codegen.project.environment import mounted
    from sandbox import ProblemError

    def show(event: Event) -> None:
        if progress is not None:
            who = f"{event.candidate}: " if event.candidate else ""
            line = Text.assemble((f"{event.stage:>9} ", "dim"), visible(who + event.message))
            progress.print(line, highlight=False)

    try:
        async with mounted(problem) as project, backend.open(limits, project) as sandbox:
            return await rank_candidates(
                problem, sources, sandbox, judges=judges, rounds=rounds, on_event=show
            )
    except ProblemError as error:  # the tests are broken for every candidate alike
        first = str(error).strip().splitlines()
        raise BadInput(f"{where}: {first[0] if first else 'the tests do not load'}") from None
