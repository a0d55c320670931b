"""The `codegen` command: a thin layer that parses arguments, calls the library and maps errors
to exit codes (0 solved/ok, 1 no passing candidate, 2 bad input, 3 environment problem).

Each subcommand's module is imported only when that subcommand runs (or help lists it): a
`codegen solve --server` client starts without loading the benchmark, the sandbox or the
service's server code."""

from __future__ import annotations

import importlib
import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import click  # noqa: E402

from codegen.cli.errors import run_cli  # noqa: E402

COMMANDS = {
    "sandbox": "sandbox_cmd", "solve": "solve_cmd", "config": "config_cmd",
    "precommit": "precommit_cmd", "rank": "rank_cmd", "bench": "bench_cmd",
    "models": "models_cmd", "serve": "serve_cmd", "optimise": "optimise_cmd",
}  # fmt: skip


class LazyGroup(click.Group):
    """Subcommands by name -> module of this package, imported when first needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command = getattr(importlib.import_module(f"{__name__}.{module}"), cmd_name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="codegen")
def cli() -> None:
    """Several models write candidates in parallel; a Docker sandbox picks the best."""


def main() -> None:
    run_cli(cli)
