"""The `codegen` command: a thin layer that parses arguments, calls the library and maps errors
to exit codes (0 solved/ok, 1 no passing candidate, 2 bad input, 3 environment problem).

Each subcommand's module is imported only when that subcommand runs (or help lists it): a
`codegen solve --server` client starts without loading the benchmark, the sandbox or the
service's server code."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import importlib  # noqa: E402

import click  # noqa: E402

from codegen.cli.errors import run_cli  # noqa: E402

# name -> "module:attribute"; a command's module is imported only when that command runs (or
# for `codegen --help`), so that `codegen solve` does not pay for `bench` or `serve`, and a
# typo in --models is refused within a second.
COMMANDS = {
    "bench": "codegen.cli.bench_cmd:bench",
    "config": "codegen.cli.config_cmd:config",
    "models": "codegen.cli.models_cmd:models",
    "optimise": "codegen.cli.optimise_cmd:optimise",
    "precommit": "codegen.cli.precommit_cmd:precommit",
    "rank": "codegen.cli.rank_cmd:rank",
    "sandbox": "codegen.cli.sandbox_cmd:sandbox",
    "serve": "codegen.cli.serve_cmd:serve",
    "solve": "codegen.cli.solve_cmd:solve",
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use (click's documented pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module, _, attribute = COMMANDS[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="codegen")
def cli() -> None:
    """Several models write candidates in parallel; a Docker sandbox picks the best.

    Start with `codegen solve PROBLEM` (the embedded model needs `codegen models pull`
    once). Every command's --help lists its defaults and exit codes: 0 ok, 1 no passing
    candidate (or, for precommit, code to review), 2 bad input, 3 environment (Docker, a
    model server), 130 interrupted.
    """


def main() -> None:
    run_cli(cli)
