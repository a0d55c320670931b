"""`codegen optimise TARGET`: make a working function faster, proven equivalent and measured."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from codegen.cli import running
from codegen.cli.solve_cmd import solve_options
from codegen.errors import BadInput
from codegen.settings import Overrides, SolveSettings, load_settings

if TYPE_CHECKING:
    from codegen.optimise import OptimiseReport, Target


@click.command()
@click.argument("target")
@click.argument("candidate", required=False, type=click.Path(path_type=Path))
@click.option(
    "--rounds",
    type=click.IntRange(1, 10),
    default=2,
    show_default=True,
    help="Rounds of rewrites at most; a round that gains nothing ends the run.",
)
@solve_options
@click.option("--json", "as_json", is_flag=True, help="Print only a JSON report on stdout.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              show_default="print it on stdout",
              help="Write the final version to this file.")  # fmt: skip
@click.option("--fix", is_flag=True, help="Rewrite the function in place (TARGET path.py::name).")
def optimise(
    target: str,
    candidate: Path | None,
    rounds: int,
    overrides: Overrides,
    config_file: Path | None,
    as_json: bool,
    output: Path | None,
    fix: bool,
) -> None:
    """Make a working function faster without changing its behaviour.

    TARGET is path.py::name, or a problem (folder, stub or HumanEval record) followed by a
    CANDIDATE file. Each round profiles the current version, asks every model for a faster
    equivalent at once, and accepts one only when it passes the tests, behaves the same on
    every input tried (large ones included) and is faster beyond the noise.

    Exit codes: 0 done (also when no faster equivalent is found), 2 bad input (a target that
    fails its own tests), 3 environment (Docker, a model server), 130 interrupted.
    """
    from codegen.optimise import load_target, rewritten

    settings = load_settings(config_file, overrides)
    loaded = load_target(target, candidate, settings.context.max_tokens)
    if fix and loaded.path is None:
        raise BadInput("--fix needs TARGET as path.py::name")
    if output is not None and not output.parent.is_dir():
        raise BadInput(f"{output}: its folder does not exist; create it or pick another -o path")
    err = Console(stderr=True)

    def say(stage: str, message: str) -> None:
        if not as_json:
            err.print(f"[dim]{stage:>9}[/dim] {message}", highlight=False)

    report = running.run(_run(loaded, settings, rounds, say))
    if output is not None:
        output.write_text(report.code, encoding="utf-8")
    if fix and report.improved:
        assert loaded.path is not None
        loaded.path.write_text(rewritten(loaded, report.code), encoding="utf-8")
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    from codegen.optimise.view import print_report

    print_report(Console(), report, wrote=loaded.path if fix and report.improved else output)


async def _run(
    loaded: Target, settings: SolveSettings, rounds: int, say: Callable[[str, str], None]
) -> OptimiseReport:
    from codegen.optimise import optimise as run_rounds
    from codegen.project.environment import project_plan
    from codegen.solve import SolveSession

    async with SolveSession(settings, project=project_plan(loaded.problem)) as session:
        return await run_rounds(loaded, session, rounds=rounds, on_event=say)
