"""`codegen config show`: the effective configuration, flags over the file over the defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from codegen.cli.solve_cmd import solve_options
from codegen.settings import Overrides, SolveSettings, load_settings


@click.group()
def config() -> None:
    """The configuration: [tool.codegen] in pyproject.toml, or codegen.toml."""


@config.command()
@solve_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(overrides: Overrides, config_file: Path | None, as_json: bool) -> None:
    """Print the effective configuration and where each part came from (starts nothing):
    the roster and how many model requests a run sends, and how many at once.

    Exit codes: 0 shown, 2 bad input (an unknown key, a bad value, a missing file).
    """
    settings = load_settings(config_file, overrides)
    data = effective(settings)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    origins = data.pop("origins")
    click.echo(f"# config file: {settings.config_file or 'none (defaults)'}")
    click.echo("# origin of each setting: " + ", ".join(f"{k}={v}" for k, v in origins.items()))
    click.echo(to_toml(data).rstrip())


def effective(settings: SolveSettings) -> dict[str, Any]:
    """The settings as a config file would say them, plus the roster actually used."""
    from codegen.solve.session import jury_enabled, request_plan, roster_plan

    data = settings.model_dump(mode="json", exclude={"config_file"})
    data["roster"] = roster_plan(settings)
    plan = request_plan(settings)
    data["requests"] = plan.model_dump() | {"summary": plan.describe()}
    data["jury"]["enabled"] = jury_enabled(settings)
    return data


def to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer for this data: scalars and lists first, then tables and arrays of
    tables; None values are left out (TOML has no null)."""
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict) or (
            isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        ):
            tables.append((key, value))
        elif value is not None:
            lines.append(f"{key} = {_value(value)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for key, value in tables:
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += f"\n[{name}]\n" + to_toml(value, f"{name}.")
        else:
            for item in value:
                out += f"\n[[{name}]]\n" + to_toml(item, f"{name}.")
    return out


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value if v is not None) + "]"
    return json.dumps(str(value), ensure_ascii=False)
