"""`codegen sandbox …`: build the image, run candidates, clean up containers."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from codegen.cli import running
from codegen.errors import BadInput, EnvironmentProblem
from codegen.problems import load_problem
from codegen.settings import load_settings
from codegen.untrusted import plain


@click.group()
def sandbox() -> None:
    """The Docker sandbox that runs candidates."""


@sandbox.command()
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    show_default="the sandbox image only",
    help="Also build this project's image: its dependencies on the sandbox image.",
)
@click.option(
    "--extra", "extras", multiple=True, metavar="NAME",
    show_default="[tool.codegen.project] extras, else the test extras",
    help="An extra of [project.optional-dependencies] to install too; repeatable.",
)  # fmt: skip
@click.option(
    "--group", "groups", multiple=True, metavar="NAME",
    show_default="[tool.codegen.project] groups, else the test groups",
    help="A [dependency-groups] group to install too (PEP 735); repeatable.",
)  # fmt: skip
@click.option(
    "--requirements",
    metavar="FILE",
    show_default="uv.lock, pyproject.toml or requirements.txt, the first found",
    help="A requirements file of the project (from its root).",
)
def build(
    project: Path | None, extras: tuple[str, ...], groups: tuple[str, ...], requirements: str | None
) -> None:
    """Build the sandbox image (cached by a hash of images/ and the harness), and with
    --project the project's image (cached by a hash of its requirements and the base).

    The project's dependencies come from [tool.codegen.project] in its pyproject.toml or
    codegen.toml (extras, groups, requirements, lock), else from its uv.lock,
    [project.dependencies] or requirements.txt, whichever it has.

    Exit codes: 0 built or already there, 2 bad input (no such project folder, an unknown
    extra or group), 3 environment (Docker unreachable, a build error, a dependency that
    cannot be installed).
    """
    console = Console(stderr=True)
    from sandbox import engine, image

    def say(line: str) -> None:
        console.print(line, markup=False, highlight=False)

    client = engine.connect()
    tag = image.ensure_image(client, progress=say)
    if project is None:
        click.echo(tag)
        return
    from codegen.project.dependencies import dependency_settings, read_dependencies
    from sandbox.project_image import DependencyError, ensure_project_image

    if not project.is_dir():
        raise BadInput(f"{project}: no such project folder")
    configured = dependency_settings(project)
    chosen = {"extras": list(extras), "groups": list(groups), "requirements": requirements}
    settings = configured.model_copy(update={k: v for k, v in chosen.items() if v})
    spec = read_dependencies(project, settings)
    if spec.empty:
        say(f"{project}: no dependencies to install; the sandbox image serves it")
        click.echo(tag)
        return
    say(f"{len(spec.requirements)} requirement(s) from {spec.source}"
        + (f" (left out, the sandbox has them: {', '.join(spec.left_out)})"
           if spec.left_out else ""))  # fmt: skip
    try:
        built = ensure_project_image(client, tag, spec.requirements, progress=say)
    except DependencyError as error:
        raise EnvironmentProblem(f"{project}: {error}") from None
    what = "built" if built.built else "already built"
    say(f"{built.tag}: {what} in {built.seconds:.1f} s, {built.size_mb:.0f} MB")
    click.echo(built.tag)


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
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    show_default="[tool.codegen.sandbox] workers, else 2",
    help="Containers run in parallel.",
)
def run(problem: str, candidates: tuple[str, ...], as_json: bool, workers: int | None) -> None:
    """Run CANDIDATES (Python files) against PROBLEM's tests and print their verdicts.

    Exit codes: 0 ran (whatever the verdicts), 2 bad input, 3 Docker unreachable, 130
    interrupted.
    """
    loaded = load_problem(problem)
    from codegen.evaluation import read_candidates

    sources = read_candidates(candidates)
    settings = load_settings(None)
    backend = settings.sandbox
    if workers is not None:
        backend = backend.model_copy(update={"workers": workers})
    results = running.run(_run(loaded, sources, backend.open(settings.limits)))
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


async def _run(problem, sources, backend):  # noqa: ANN001, ANN202 - thin glue
    from codegen.evaluation import verify

    async with backend as sandbox:
        return await verify(problem, sources, sandbox)
