"""`codegen precommit [FILES]... [--fix]`: the pre-commit hook (see .pre-commit-hooks.yaml)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from codegen.cli import running
from codegen.cli.solve_cmd import solve_options
from codegen.errors import BadInput, CodegenError
from codegen.precommit import SolvedCache, cache_dir, repo_root, run_hook
from codegen.service.client import server_from_env, solve_remote
from codegen.service.discovery import local_server, using_line
from codegen.settings import Overrides, load_settings
from codegen.solve.progress import for_solve


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--fix", is_flag=True, help="Write the implementations in place (else: a diff).")
@click.option("--server", metavar="URL",
              show_default="$CODEGEN_SERVER, else a local one running with the same config",
              help="Solve on a `codegen serve` service.")  # fmt: skip
@click.option("--no-server", is_flag=True,
              help="Solve here even when a local `codegen serve` is running.")  # fmt: skip
@solve_options
def precommit(
    files: tuple[Path, ...],
    fix: bool,
    server: str | None,
    no_server: bool,
    overrides: Overrides,
    config_file: Path | None,
) -> None:
    """Write the functions marked `# codegen: solve` in FILES (the staged Python files).

    A marked function has a body of `...` or `raise NotImplementedError`, and doctests or a
    test file (test_<module>.py next to it or in a tests/ folder).

    Exit codes: 0 nothing to do, 1 it proposed or wrote code (review and stage it, as after a
    formatter) or found no passing candidate, 2 a stub it cannot solve as written, 3
    environment (Docker, a model server), 130 interrupted.
    """
    root = repo_root(Path.cwd())
    progress = for_solve(as_json=False, stdout=sys.stderr)
    url, token = server_from_env(server), None
    if url is None and (found := local_server(config_file, overrides.isolation, no_server)):
        url, token = found.url, found.token
        click.echo(using_line(found), err=True)
    remote = None
    if url is not None:  # the hook needs the winner only: the report ends at the answer
        target = url
        remote = lambda problem: solve_remote(  # noqa: E731
            target, problem, overrides, progress, fast=True, token=token
        )
    settings = load_settings(config_file, overrides)  # reads a file; starts nothing
    outcome = running.run(
        run_hook(
            list(files),
            fix=fix,
            settings=lambda: settings,
            context_tokens=settings.context.max_tokens,
            cache=SolvedCache(cache_dir(root)),
            root=root,
            say=lambda line: click.echo(line, err=True),
            progress=progress,
            remote=remote,
        )
    )
    for diff in outcome.diffs:
        click.echo(diff, nl=False)
    if outcome.exit_code == BadInput.exit_code:
        raise BadInput(f"{outcome.summary()}; fix the stubs named above")
    if outcome.exit_code:
        raise CodegenError(outcome.summary())  # exit 1: the commit stops for a review
