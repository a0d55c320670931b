"""`codegen bench run|report|compare`: leaderboard runs over a suite; thin glue over
:mod:`codegen.bench`."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from codegen.cli import running
from codegen.errors import BadInput, EnvironmentProblem
from codegen.paths import user_dir

DB_ENV = "CODEGEN_BENCH_DB"


def _default_db() -> Path:
    return user_dir() / "bench.sqlite"


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """`--models a,b --models c` -> (a, b, c), in order, without repeats."""
    items = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return tuple(dict.fromkeys(items))


db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=DB_ENV,
    default=None,
    show_default=f"${DB_ENV}, else ~/.config/codegen/bench.sqlite",
    help="The SQLite store of runs.",
)


def _store(db: Path | None):  # noqa: ANN202 - a codegen.bench.store.Store
    from codegen.bench.store import Store

    return Store(db or _default_db())


@click.group()
def bench() -> None:
    """Leaderboard runs: every model on every problem of a suite, resumable."""


@bench.command()
@click.option("--suite", default="humaneval", show_default=True,
              help="`humaneval` or a folder of problem folders.")  # fmt: skip
@click.option("--models", multiple=True, metavar="A,B,...",
              show_default="the models of the configured roster",
              help="litellm strings or embedded models, comma-separated or repeated.")  # fmt: skip
@click.option("--personas", multiple=True, metavar="A,B,...", show_default="simplest",
              help="Prompt personas.")  # fmt: skip
@click.option("--judges", multiple=True, metavar="A,B,...", show_default="none, no jury",
              help="Jury models for the pick.")  # fmt: skip
@click.option("--samples", default=1, show_default=True, help="Samples per model and persona.")
@click.option("--limit", type=int, default=None, show_default="every problem",
              help="Only the first K problems.")  # fmt: skip
@click.option("--run-name", default=None, show_default="the suite and a hash of the config",
              help="Name of the run.")  # fmt: skip
@click.option("--executor", default="local", show_default=True, help="local or ray.")
@click.option("--ray-address", default=None, metavar="HOST:PORT",
              show_default="$RAY_ADDRESS, else a local cluster",
              help="Ray cluster address.")  # fmt: skip
@click.option("--ray-generation", is_flag=True,
              help="With --executor ray: the model calls run as Ray tasks too.")  # fmt: skip
@click.option("--rounds", default=5, show_default=True, help="Interleaved timing rounds.")
@click.option("--tester/--no-tester", default=True, show_default=True,
              help="Each model writes test cases: soft evidence for the pick.")  # fmt: skip
@click.option("--api-base", default=None, show_default="$OPENAI_API_BASE, else litellm's",
              help="API base URL for every model.")  # fmt: skip
@click.option("--timeout", type=float, default=None, show_default="120; embedded models: 900",
              help="Seconds per model request.")  # fmt: skip
@click.option("--workers", default=2, show_default=True, help="Local sandbox containers.")
@db_option
def run(
    suite: str,
    models: tuple[str, ...],
    personas: tuple[str, ...],
    judges: tuple[str, ...],
    samples: int,
    limit: int | None,
    run_name: str | None,
    executor: str,
    ray_address: str | None,
    ray_generation: bool,
    rounds: int,
    tester: bool,
    api_base: str | None,
    timeout: float | None,
    workers: int,
    db: Path | None,
) -> None:
    """Run (or resume) a leaderboard run: the same command continues where it stopped.

    Exit codes: 0 done, 2 bad input (flags, suite, an unknown model), 3 environment (Docker,
    a model server; problems that hit it are retried by the same command), 130 interrupted
    (what was stored is kept).
    """
    from codegen.bench.embedded import serve_embedded
    from codegen.bench.executors import make_executor
    from codegen.bench.progress import terminal_progress
    from codegen.bench.runner import BenchSpec, check_models, run_bench
    from codegen.bench.suites import load_suite

    if samples < 1 or samples > 64:
        raise BadInput(f"--samples {samples}: give 1 to 64 samples per model")
    if limit is not None and limit < 1:
        raise BadInput(f"--limit {limit}: give at least 1 problem")
    if rounds < 1:
        raise BadInput(f"--rounds {rounds}: give at least 1 timing round")
    if workers < 1:
        raise BadInput(f"--workers {workers}: give at least 1 container")
    chosen = _split(models) or _configured_models()
    spec = BenchSpec(
        suite=load_suite(suite),
        models=chosen,
        personas=_split(personas) or ("simplest",),
        samples=samples,
        limit=limit,
        run_name=run_name,
        rounds=rounds,
        api_base=api_base,
        timeout_s=120.0 if timeout is None else timeout,
        judges=_split(judges),
        tester=tester,
    )
    pool = make_executor(executor, ray_address, workers=workers, ray_generation=ray_generation)
    check_models(spec)
    with serve_embedded(spec, pool, timeout_s=timeout) as served, _store(db) as store:
        if served.routes:
            click.echo(f"serving {', '.join(served.routes)} here, one server each", err=True)
        outcome = running.run(run_bench(served, store, pool, terminal_progress()))
    click.echo(
        f"run {outcome.name}: {outcome.done}/{outcome.total} problems done "
        f"({outcome.evaluated_now} evaluated, {outcome.generated_now} samples and "
        f"{outcome.tester_now} tester replies generated now) "
        f"in {outcome.wall_s:.1f}s; report: {report_command(outcome.name, db)}"
    )
    if nodes := getattr(pool, "generated_on", None):
        click.echo(f"generation ran as Ray tasks on {len(nodes)} node(s)")
    if outcome.infra_errors:
        raise EnvironmentProblem(
            f"{outcome.infra_errors} problem(s) hit infrastructure errors (model timeouts, "
            "Docker or Ray trouble); re-run the same command to retry them"
        )


def report_command(run_name: str, db: Path | None) -> str:
    """The report command for this run, carrying the store the user named with --db (one
    named by $CODEGEN_BENCH_DB is found again by the same environment)."""
    parts = ["codegen", "bench", "report", run_name]
    context = click.get_current_context(silent=True)
    given = context is not None and (
        context.get_parameter_source("db") is click.core.ParameterSource.COMMANDLINE
    )
    if db is not None and given:
        parts += ["--db", str(db)]
    return shlex.join(parts)


def _configured_models() -> tuple[str, ...]:
    from codegen.settings import load_config

    roster = load_config().roster()
    if roster is None:
        raise BadInput("no model given: name them with --models a,b or configure [tool.codegen]")
    return tuple(dict.fromkeys(w.model for w in roster.workers))


@bench.command()
@click.argument("run_name", metavar="RUN")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              show_default="markdown on stdout only",
              help="Write leaderboard.md, index.html and summary.json here.")  # fmt: skip
@db_option
def report(run_name: str, output: Path | None, db: Path | None) -> None:
    """Print RUN's markdown leaderboard; with -o, also write the HTML page with plots.

    Exit codes: 0 printed, 2 bad input (no such run, an unwritable folder).
    """
    from codegen.bench.metrics import summarize
    from codegen.bench.report import html_page, markdown

    with _store(db) as store:
        data = store.load(run_name)
    board = summarize(data)
    text = markdown(board)
    click.echo(text, nl=False)
    if output is not None:
        try:
            output.mkdir(parents=True, exist_ok=True)
            (output / "leaderboard.md").write_text(text, encoding="utf-8")
            (output / "index.html").write_text(html_page(board, data), encoding="utf-8")
            (output / "summary.json").write_text(board.model_dump_json(indent=2), "utf-8")
        except OSError as error:
            raise BadInput(f"{output}: cannot write the report: {error.strerror}") from None
        click.echo(f"wrote {output / 'index.html'}", err=True)


@bench.command()
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@db_option
def compare(run_a: str, run_b: str, db: Path | None) -> None:
    """Per-problem differences between two runs.

    Exit codes: 0 compared, 2 bad input (no such run).
    """
    from codegen.bench.compare import compare as diff
    from codegen.bench.compare import format_comparison

    with _store(db) as store:
        a, b = store.load(run_a), store.load(run_b)
    click.echo(format_comparison(diff(a, b)), nl=False)


__all__ = ["bench"]
