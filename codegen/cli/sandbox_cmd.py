"""`codegen sandbox …`: build the image, run candidates, clean up containers."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from codegen.cli import running
from codegen.problems import load_problem
from codegen.untrusted import plain


@click.group()
def sandbox() -> None:
    """The Docker sandbox that runs candidates."""


@sandbox.command()
def build() -> None:
    """Build the sandbox image (cached by a hash of images/ and the harness).

    Exit codes: 0 built or already there, 3 environment (Docker unreachable, a build error).
    """
    console = Console(stderr=True)
    from sandbox import engine, image

    client = engine.connect()
    tag = image.ensure_image(
        client, progress=lambda line: console.print(line, markup=False, highlight=False)
    )
    click.echo(tag)


@sandbox.command()
@click.option("--all", "everything", is_flag=True, help="Also remove containers of live runs.")
def prune(everything: bool) -> None:
    """Remove sandbox containers left behind by killed runs.

    Exit codes: 0 done, 3 Docker unreachable.
    """
    from sandbox import engine
    from sandbox.prune import prune as prune_containers

    removed = prune_containers(engine.connect(), everything=everything)
    click.echo(f"removed {removed} sandbox container(s)")


@sandbox.command()
@click.argument("problem")
@click.argument("candidates", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--workers", default=2, show_default=True, help="Containers run in parallel.")
def run(problem: str, candidates: tuple[str, ...], as_json: bool, workers: int) -> None:
    """Run CANDIDATES (Python files) against PROBLEM's tests and print their verdicts.

    Exit codes: 0 ran (whatever the verdicts), 2 bad input, 3 Docker unreachable, 130
    interrupted.
    """
    loaded = load_problem(problem)
    from codegen.evaluation import read_candidates

    sources = read_candidates(candidates)
    results = running.run(_run(loaded, sources, workers))
    if as_json:
        click.echo(
            json.dumps(
                {cid: r.model_dump(mode="json", exclude={"phases"}) for cid, r in results.items()},
                indent=2,
            )
        )
        return
    table = Table(title=plain(f"{loaded.name}: {len(results)} candidate(s)"))
    table.add_column("candidate", overflow="fold")
    for column in ("verdict", "tests", "CPU ms", "peak MB"):
        table.add_column(column, no_wrap=True)
    table.add_column("why", overflow="fold")
    for cid, result in results.items():
        passed = sum(t.status == "passed" for t in result.tests)
        table.add_row(
            plain(cid),
            result.verdict.value,
            f"{passed}/{len(result.tests)}",
            f"{result.cpu_seconds * 1000:.0f}",
            f"{result.peak_memory_mb:.0f}",
            plain(result.message.splitlines()[0][:100] if result.message else ""),
        )
    Console().print(table)


async def _run(problem, sources, workers):  # noqa: ANN001, ANN202 - thin glue
    from codegen.evaluation import verify
    from sandbox import Sandbox

    async with Sandbox(workers=workers) as pool:
        return await verify(problem, sources, pool)
