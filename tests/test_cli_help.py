"""Every `--help` says its defaults and its exit codes: a newcomer should not have to read the
code to learn what a flag does when left out, or what exit 3 means."""

from __future__ import annotations

import click
import pytest

from codegen.cli import cli
from tests.cli_support import codegen


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):  # noqa: ANN202
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


COMMANDS = dict(_commands(cli))


def test_the_tree_is_walked() -> None:
    assert {("solve",), ("rank",), ("bench", "run"), ("config", "show"), ("serve",)} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_every_command_lists_its_exit_codes(path: tuple[str, ...]) -> None:
    text = " ".join((COMMANDS[path].help or "").split())
    assert "Exit codes:" in text, f"codegen {' '.join(path)} --help has no exit codes"
    if path not in {("models", "list"), ("config", "show"), ("bench", "report"),
                    ("bench", "compare"), ("sandbox", "build"), ("sandbox", "prune"),
                    ("models", "pull")}:  # fmt: skip
        assert "130 interrupted" in text, f"codegen {' '.join(path)}: Ctrl-C's exit code"


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_every_option_says_its_default(path: tuple[str, ...]) -> None:
    """An option that takes a value, or a flag pair whose default the config decides, shows
    `[default: …]`; a lone on/off flag is off unless given, which needs no saying."""
    missing = []
    for param in COMMANDS[path].params:
        if not isinstance(param, click.Option) or param.hidden or param.name == "help":
            continue
        lone_flag = param.is_flag and not param.secondary_opts
        if lone_flag or param.required:
            continue
        if not param.show_default and "[default" not in (param.help or ""):
            missing.append(param.opts[0])
    assert missing == [], f"codegen {' '.join(path)}: no default shown for {missing}"


def test_the_help_a_user_sees_shows_them() -> None:
    done = codegen("solve", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "Exit codes: 0 solved, 1 no passing candidate, 2 bad input" in text
    assert "130 interrupted (Ctrl-C)" in text
    assert "[default: (the configured roster, else the embedded model)]" in text
    top = codegen("--help")
    assert "130 interrupted" in " ".join(top.stdout.split())
