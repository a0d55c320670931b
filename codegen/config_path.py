"""Which config file a run reads: the nearest codegen.toml or pyproject.toml (codegen.toml
wins), or the one `--config` or `$CODEGEN_CONFIG` names. Apart from the settings, so that finding
a local service's match costs no schema."""

from __future__ import annotations

from pathlib import Path

CONFIG_FILE = "codegen.toml"
PYPROJECT = "pyproject.toml"
CONFIG_ENV = "CODEGEN_CONFIG"  # a config file to use instead of the nearest one


def find_config(start: Path | None = None) -> Path | None:
    """The nearest codegen.toml or pyproject.toml from `start` upwards (codegen.toml wins)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in (CONFIG_FILE, PYPROJECT):
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None
