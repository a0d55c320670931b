"""`codegen solve PROBLEM`: generate, test, rank, print the winner (exit 1 when none passes)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from codegen.cli import running
from codegen.errors import BadInput, CodegenError, Disputed
from codegen.llm.routing import check_names
from codegen.local_models.catalog import MODELS
from codegen.overrides import Overrides, split_models
from codegen.project import DEFAULT_CONTEXT_TOKENS, is_function_spec

if TYPE_CHECKING:  # the rest loads once the flags are known good: a typo is refused at once
    from codegen.problems import Problem
    from codegen.settings import SolveSettings
    from codegen.solve.progress import SolveProgress
    from codegen.solve.report import SolveReport


def solve_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The flags `codegen solve` shares with `codegen precommit` and `codegen config show`;
    the command receives them as one ``overrides`` (and ``config_file``)."""
    options = [
        click.option(
            "--models",
            multiple=True,
            metavar="A,B,...",
            show_default="the configured roster, else the embedded model",
            help="litellm model strings (keys from the environment) or embedded model names; "
            "replaces the configured roster.",
        ),
        click.option(
            "--samples",
            type=click.IntRange(1, 64),
            show_default="the config's samples, else 1",
            help="Requests per model×persona.",
        ),
        click.option(
            "--jury/--no-jury",
            default=None,
            show_default="on for hosted models, off for the embedded ones",
            help="Let LLM judges break ties.",
        ),
        click.option(
            "--tester/--no-tester",
            default=None,
            show_default="the config's tester.enabled, else on",
            help="Have each model write test cases too: soft evidence for the ranking.",
        ),
        click.option(
            "--isolation",
            type=click.Choice(["warm", "strict"]),
            show_default="[tool.codegen.sandbox] isolation, else warm",
            help="strict: a fresh container per candidate and plain pytest beside the isolated "
            "run, the slow reference.",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(path_type=Path),
            show_default="$CODEGEN_CONFIG, else the nearest codegen.toml or pyproject.toml",
            help="The config file: codegen.toml or pyproject.toml's [tool.codegen].",
        ),
    ]

    @functools.wraps(command)
    def with_overrides(
        *args: Any,
        models: tuple[str, ...],
        samples: int | None,
        jury: bool | None,
        tester: bool | None,
        isolation: str | None,
        **kwargs: Any,
    ) -> Any:
        overrides = Overrides(
            models=split_models(models), samples=samples, jury=jury, tester=tester,
            isolation=isolation,
        )  # fmt: skip
        check_names(overrides.models or [], MODELS)  # before anything slow is imported
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
    show_default="the problem's own tests",
    help="A pytest file importing `from solution import NAME`; repeat for several.",
)
@solve_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              show_default="print it on stdout",
              help="Write the winner to this file.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print only a JSON report on stdout.")
@click.option("--entry", show_default="the stub's one unwritten function",
              help="The function's name (needed for a plain-text task on stdin).")  # fmt: skip
@click.option("--server", metavar="URL",
              show_default="$CODEGEN_SERVER, else a local one running with the same config",
              help="Run on a `codegen serve` service.")  # fmt: skip
@click.option("--optimise", "optimise_rounds", type=click.IntRange(0, 10), default=0,
              show_default=True,
              help="Then run N rounds of `codegen optimise` on the winner.")  # fmt: skip
@click.option("-v", "--verbose", is_flag=True,
              help="Also say where each model is served (embedded servers' ports).")  # fmt: skip
@click.option("--fast", is_flag=True,
              help="End once the winner is known: no growth, extra timing rounds, jury or "
              "hidden tests in the report.")  # fmt: skip
@click.option("--no-server", is_flag=True,
              help="Run here even when a local `codegen serve` is running.")  # fmt: skip
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
    verbose: bool,
    fast: bool,
    no_server: bool,
) -> None:
    """Write PROBLEM's function with several models at once and print the best passing one.

    PROBLEM is a problem folder, a .py stub, a HumanEval .json record, path.py::name (a
    function still to write, in its module: its helpers are there for the candidates), or -
    for a plain-text task on stdin (with --entry and --tests). A local `codegen serve` runs it
    when one is running with the same config (--no-server: here); --server names another
    service, with the same output. The winner is shown as soon as it is known; the ranking's
    details follow (--json holds them all, --fast skips them; printed code alone ends at the
    answer).

    Exit codes: 0 solved, 1 no passing candidate, 2 bad input (files, flags, config), 3
    environment (Docker, a model server, the service), 4 disputed, 130 interrupted (Ctrl-C).
    """
    from codegen.service.client import server_from_env
    from codegen.service.discovery import local_server, using_line

    tokens = DEFAULT_CONTEXT_TOKENS
    if is_function_spec(problem):  # the models see this much of its module and package
        tokens = _settings(config_file, overrides).context.max_tokens
    loaded = load_input(problem, entry, tests, tokens)
    if output is not None and not output.parent.is_dir():
        raise BadInput(f"{output}: its folder does not exist; create it or pick another -o path")
    terminal = sys.stdout.isatty()
    enrich = not fast and (as_json or terminal)  # code alone on a pipe: nothing shows the rest
    url, token = server_from_env(server), None
    if url is None and (found := local_server(config_file, overrides.isolation, no_server)):
        url, token = found.url, found.token
        click.echo(using_line(found), err=True)
    show = functools.partial(_show, loaded.name, output, as_json, terminal)
    if url is not None:
        _solve_on_service(url, token, loaded, overrides, optimise_rounds, enrich, as_json, show)
        running.exit_now()  # a client holds nothing to clean up: skip the interpreter's teardown
    else:
        from codegen.solve.progress import for_solve

        settings = _settings(config_file, overrides)
        progress = for_solve(as_json)
        running.run(
            _run(
                loaded,
                settings,
                progress,
                functools.partial(show, progress),
                optimise_rounds,
                enrich,
                verbose=verbose,
                output=output,
            )  # fmt: skip
        )


def _settings(config_file: Path | None, overrides: Overrides) -> SolveSettings:
    """Loaded only when needed: a client of a service sends the flags, not the settings."""
    from codegen.settings import load_settings

    return load_settings(config_file, overrides)


def _solve_on_service(
    url: str,
    token: str | None,
    problem: Problem,
    overrides: Overrides,
    optimise_rounds: int,
    enrich: bool,
    as_json: bool,
    show: Callable[[SolveProgress, SolveReport], None],
) -> None:
    """Submit first, then load the display: its imports overlap the models' latency."""
    from codegen.service.client import ServiceClient

    with ServiceClient(url, token) as client:
        job_id = client.submit_solve(problem, overrides, optimise_rounds, fast=not enrich)
        with client.cancelled_on_error(job_id):
            from codegen.solve.progress import for_solve

            progress = for_solve(as_json)
        with progress:
            report = client.follow_solve(job_id, progress)
    show(progress, report)


def _show(
    name: str,
    output: Path | None,
    as_json: bool,
    terminal: bool,
    progress: SolveProgress,
    report: SolveReport,
) -> None:
    """Write and print the result; exit 1 (no passing candidate) or 4 (disputed) by raising."""
    from rich.console import Console

    from codegen.solve.view import print_no_winner, print_summary, print_winner

    if report.solved and output is not None:
        _write(output, report.code or "")
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    elif report.solved:
        console = Console()
        if terminal:
            print_summary(console, report)
            print_winner(console, report, code=not progress.shown_winner)
            if output is not None:
                console.print(f"wrote {output}: it imports on its own and passes the tests",
                              highlight=False)  # fmt: skip
        elif output is None:
            click.echo(report.code, nl=False)
        else:  # a log or a script: the code went to the file; say where, on stderr
            click.echo(f"wrote {output}: {report.winner} of {len(report.candidates)} "
                       "candidates", err=True)  # fmt: skip
    sys.stdout.flush()  # a pipe gets the answer now, not when the pool has been cleaned up
    if report.disputed:
        raise Disputed(f"disputed, no winner for {name}: {report.dispute}")
    if not report.solved:
        if not as_json:
            print_no_winner(Console(stderr=True), report)
        closest = f" (closest: {', '.join(report.closest) or 'none'})" if as_json else ""
        raise CodegenError(
            f"no passing candidate for {name} among {len(report.candidates)}{closest}"
        )


def load_input(
    problem: str,
    entry: str | None,
    tests: tuple[Path, ...],
    context_tokens: int = DEFAULT_CONTEXT_TOKENS,
) -> Problem:
    """A folder, a .py stub, a HumanEval record, ``path.py::name`` (a function in its module),
    or `-`: a plain-text task on stdin."""
    from codegen.problems import load_problem, problem_from_text

    if is_function_spec(problem):
        from codegen.project.target import function_problem

        if tests or entry:
            raise BadInput(f"{problem}: a function in its module brings its own tests; drop "
                           "--tests and --entry")  # fmt: skip
        return function_problem(problem, context_tokens)
    if problem == "-":
        return problem_from_text(sys.stdin.read(), entry=entry or "", tests=tests)
    if tests and problem.endswith((".json", ".jsonl", ".jsonl.gz")):
        raise BadInput(f"{problem}: a HumanEval record brings its own tests; drop --tests")
    return load_problem(problem, entry=entry, tests=tests)


async def _run(
    problem: Problem,
    settings: SolveSettings,
    progress: SolveProgress,
    show: Callable[[SolveReport], None],
    optimise_rounds: int = 0,
    enrich: bool = True,
    *,
    verbose: bool = False,
    output: Path | None = None,
) -> None:
    """The run, then ``show`` its report before the sandbox pool and the models are stopped
    (the answer need not wait for their clean-up)."""
    from rich.console import Console

    from codegen.project.environment import project_plan
    from codegen.solve import SolveSession, describe_rosters  # for local runs only
    from codegen.solve import solve as solve_problem

    filename = output.name if output else None  # the module name the winner is checked under
    async with SolveSession(settings, project=project_plan(problem)) as session:
        with progress:
            if verbose:
                err = Console(stderr=True)
                for line in describe_rosters(session.rosters, endpoints=True):
                    err.print(f"roster: {line}", markup=False, highlight=False)
            report = await solve_problem(
                problem, session, on_event=progress, enrich=enrich, output=filename
            )
            if optimise_rounds:
                from codegen.optimise.winner import optimise_winner

                report = await optimise_winner(
                    problem, report, session, optimise_rounds, progress, filename
                )
        show(report)


def _write(path: Path, code: str) -> None:
    try:
        path.write_text(code if code.endswith("\n") else code + "\n", encoding="utf-8")
    except OSError as error:
        raise BadInput(f"{path}: cannot write the winner: {error.strerror}") from None
