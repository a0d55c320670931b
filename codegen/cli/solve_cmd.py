"""`codegen solve PROBLEM`: generate, test, rank, print the winner (exit 1 when none passes)."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from codegen.errors import BadInput, CodegenError
from codegen.problems import Problem, load_problem, problem_from_text
from codegen.service.client import server_from_env, solve_remote
from codegen.settings import Overrides, SolveSettings, load_settings, split_models
from codegen.solve.progress import SolveProgress, for_solve
from codegen.solve.report import SolveReport
from codegen.solve.view import print_no_winner, print_summary, print_winner

if TYPE_CHECKING:
    from codegen.optimise import OptimiseReport
    from codegen.solve import SolveSession


def solve_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The flags `codegen solve` shares with `codegen precommit` and `codegen config show`;
    the command receives them as one ``overrides`` (and ``config_file``)."""
    options = [
        click.option(
            "--models",
            multiple=True,
            metavar="A,B,...",
            help="litellm model strings (keys from the environment) or embedded model names; "
            "replaces the configured roster.",
        ),
        click.option("--samples", type=click.IntRange(1, 64), help="Requests per model×persona."),
        click.option("--jury/--no-jury", default=None, help="Let LLM judges break ties."),
        click.option(
            "--tester/--no-tester",
            default=None,
            help="Have each model write test cases too: soft evidence for the ranking.",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(path_type=Path),
            help="codegen.toml or pyproject.toml (default: the nearest one).",
        ),
    ]

    @functools.wraps(command)
    def with_overrides(
        *args: Any,
        models: tuple[str, ...],
        samples: int | None,
        jury: bool | None,
        tester: bool | None,
        **kwargs: Any,
    ) -> Any:
        overrides = Overrides(
            models=split_models(models), samples=samples, jury=jury, tester=tester
        )
        return command(*args, overrides=overrides, **kwargs)

    for option in reversed(options):
        with_overrides = option(with_overrides)
    return with_overrides


@click.command()
@click.argument("problem")
@click.option(
    "--tests",
    "tests",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="A pytest file importing `from solution import NAME`; repeat for several.",
)
@solve_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the winner to this file.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print only a JSON report on stdout.")
@click.option("--entry", help="The function's name (needed for a plain-text task on stdin).")
@click.option("--server", metavar="URL",
              help="Run on a `codegen serve` service (default: $CODEGEN_SERVER).")  # fmt: skip
@click.option("--optimise", "optimise_rounds", type=click.IntRange(0, 10), default=0,
              help="Then run N rounds of `codegen optimise` on the winner.")  # fmt: skip
def solve(
    problem: str,
    tests: tuple[Path, ...],
    overrides: Overrides,
    config_file: Path | None,
    output: Path | None,
    as_json: bool,
    entry: str | None,
    server: str | None,
    optimise_rounds: int,
) -> None:
    """Write PROBLEM's function with several models at once and print the best passing one.

    PROBLEM is a problem folder, a .py stub, a HumanEval .json record, or - for a plain-text
    task on stdin (with --entry and --tests). With --server the run happens on a service, with
    the same output. Exit codes: 0 solved, 1 no passing candidate, 2 bad input, 3 environment
    problem (Docker, a model server, the service).
    """
    loaded = load_input(problem, entry, tests)
    if output is not None and not output.parent.is_dir():
        raise BadInput(f"{output}: its folder does not exist; create it or pick another -o path")
    url = server_from_env(server)
    if url is not None and optimise_rounds:
        raise BadInput("--optimise runs locally for now; drop --server (or CODEGEN_SERVER)")
    if url is not None:
        with (progress := for_solve(as_json)):
            report = solve_remote(url, loaded, overrides, on_event=progress)
    else:
        settings = load_settings(config_file, overrides)
        progress = for_solve(as_json)
        report = asyncio.run(_run(loaded, settings, progress, optimise_rounds, output))
    terminal = sys.stdout.isatty()
    if report.solved and output is not None:
        _write(output, report.code or "")
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    elif report.solved:
        console = Console()
        if terminal:
            print_summary(console, report)
            print_winner(console, report)
            if output is not None:
                console.print(f"wrote {output}: it imports on its own and passes the tests",
                              highlight=False)  # fmt: skip
        elif output is None:
            click.echo(report.code, nl=False)
    if not report.solved:
        if not as_json:
            print_no_winner(Console(stderr=True), report)
        closest = f" (closest: {', '.join(report.closest) or 'none'})" if as_json else ""
        raise CodegenError(
            f"no passing candidate for {loaded.name} among {len(report.candidates)}{closest}"
        )


def load_input(problem: str, entry: str | None, tests: tuple[Path, ...]) -> Problem:
    """A folder, a .py stub, a HumanEval record, or `-`: a plain-text task on stdin."""
    if problem == "-":
        return problem_from_text(sys.stdin.read(), entry=entry or "", tests=tests)
    if tests and problem.endswith((".json", ".jsonl", ".jsonl.gz")):
        raise BadInput(f"{problem}: a HumanEval record brings its own tests; drop --tests")
    return load_problem(problem, entry=entry, tests=tests)


async def _run(
    problem: Problem,
    settings: SolveSettings,
    progress: SolveProgress,
    optimise_rounds: int = 0,
    output: Path | None = None,
) -> SolveReport:
    from codegen.solve import SolveSession  # the sandbox and the models: for local runs only
    from codegen.solve import solve as solve_problem

    filename = output.name if output else None
    with progress:
        async with SolveSession(settings) as session:
            report = await solve_problem(problem, session, on_event=progress, output=filename)
            if optimise_rounds and report.solved and report.code is not None:
                from codegen.optimise import Target, optimise
                from codegen.solve.events import StageProgress

                def say(stage: str, message: str) -> None:
                    progress(StageProgress(stage, message))

                target = Target(problem=problem, code=report.code)
                optimised = await optimise(target, session, rounds=optimise_rounds, on_event=say)
                report = await _with_optimised(report, optimised, problem, session, filename)
            return report


async def _with_optimised(
    report: SolveReport,
    optimised: OptimiseReport,
    problem: Problem,
    session: SolveSession,
    filename: str | None,
) -> SolveReport:
    """The optimised version becomes the code returned when it, too, passes as a module of its
    own; else the winner stays, with a note."""
    from codegen.solve.snippet_check import check_snippet, module_name

    update: dict[str, Any] = {"optimisation": optimised}
    if optimised.improved:
        module = module_name(filename, problem.entry_point)
        found = await check_snippet(problem, optimised.code, module, await session.sandbox(), None)
        if found:
            update["notes"] = [*report.notes, f"the optimised version is not returned: {found[0]}"]
        else:
            update["code"] = optimised.code
    return report.model_copy(update=update)


def _write(path: Path, code: str) -> None:
    try:
        path.write_text(code if code.endswith("\n") else code + "\n", encoding="utf-8")
    except OSError as error:
        raise BadInput(f"{path}: cannot write the winner: {error.strerror}") from None
