"""Turn library exceptions into one clear line on stderr and the documented exit code."""

from __future__ import annotations

import sys

import click

from codegen.cli.running import exit_interrupted
from codegen.errors import BadInput, CodegenError, EnvironmentProblem
from sandbox.errors import SandboxError, SandboxUnavailable


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, CodegenError):
        return error.exit_code
    if isinstance(error, SandboxUnavailable):
        return EnvironmentProblem.exit_code
    if isinstance(error, SandboxError):
        return BadInput.exit_code
    return 1


def run_cli(group: click.Group) -> None:
    try:
        # Without standalone mode click returns the code of `ctx.exit(n)` instead of raising.
        code = group.main(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as usage:
        usage.show()
        sys.exit(BadInput.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        exit_interrupted()  # exit 130 at once: the command's clean-up already ran
    except (CodegenError, SandboxError) as error:
        click.echo(f"codegen: {error}", err=True)
        sys.exit(exit_code_for(error))
