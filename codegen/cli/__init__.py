"""The `codegen` command: a thin layer that parses arguments, calls the library and maps errors
to exit codes (0 solved/ok, 1 no passing candidate, 2 bad input, 3 environment problem)."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import click  # noqa: E402

from codegen.cli.bench_cmd import bench  # noqa: E402
from codegen.cli.config_cmd import config  # noqa: E402
from codegen.cli.errors import run_cli  # noqa: E402
from codegen.cli.models_cmd import models  # noqa: E402
from codegen.cli.optimise_cmd import optimise  # noqa: E402
from codegen.cli.precommit_cmd import precommit  # noqa: E402
from codegen.cli.rank_cmd import rank  # noqa: E402
from codegen.cli.sandbox_cmd import sandbox  # noqa: E402
from codegen.cli.serve_cmd import serve  # noqa: E402
from codegen.cli.solve_cmd import solve  # noqa: E402


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="codegen")
def cli() -> None:
    """Several models write candidates in parallel; a Docker sandbox picks the best.

    Start with `codegen solve PROBLEM` (the embedded model needs `codegen models pull`
    once). Every command's --help lists its defaults and exit codes: 0 ok, 1 no passing
    candidate (or, for precommit, code to review), 2 bad input, 3 environment (Docker, a
    model server), 130 interrupted.
    """


cli.add_command(sandbox)
cli.add_command(solve)
cli.add_command(config)
cli.add_command(precommit)
cli.add_command(rank)
cli.add_command(bench)
cli.add_command(models)
cli.add_command(serve)
cli.add_command(optimise)


def main() -> None:
    run_cli(cli)
