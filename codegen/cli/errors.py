"""Turn library exceptions into one clear line on stderr and the documented exit code."""

from __future__ import annotations

import sys
from types import ModuleType

import click

from codegen.cli.running import exit_interrupted
from codegen.errors import BadInput, CodegenError, EnvironmentProblem


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, CodegenError):
        return error.exit_code
    sandbox_errors = _sandbox_errors()
    if sandbox_errors is not None and isinstance(error, sandbox_errors.SandboxUnavailable):
        return EnvironmentProblem.exit_code
    if sandbox_errors is not None and isinstance(error, sandbox_errors.SandboxError):
        return BadInput.exit_code
    return 1


def _sandbox_errors() -> ModuleType | None:
    """`sandbox.errors` when this run used the sandbox, the only way its errors are raised:
    importing it would cost a service client a fifth of a second for nothing."""
    return sys.modules.get("sandbox.errors")


def _reported(error: Exception) -> bool:
    """An error that is one line for the user, not a bug's traceback."""
    return exit_code_for(error) != 1 or isinstance(error, CodegenError)


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
    except Exception as error:
        if not _reported(error):
            raise
        click.echo(f"codegen: {error}", err=True)
        sys.exit(exit_code_for(error))
