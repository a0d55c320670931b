"""Project configuration: `[tool.codegen]` in pyproject.toml, or the top level of codegen.toml.

    [[tool.codegen.workers]]          # one table per worker (model × persona)
    model = "openai/gpt-4o-mini"      # litellm model string; keys come from the environment
    persona = "fastest"
    samples = 2

    [tool.codegen.generation]         # fan-out policy, see codegen.generation.FanoutLimits
    per_provider = 4

Other sections (limits, jury, ranking) belong to other parts of the tool: `CodegenConfig` keeps
them as untyped extras until a typed sub-model is added for them here. With no `workers`, the
roster is the embedded local default (see `codegen.local_models`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codegen.errors import BadInput
from codegen.generation.roster import FanoutLimits, Roster, Worker

CONFIG_FILE = "codegen.toml"
PYPROJECT = "pyproject.toml"


class CodegenConfig(BaseModel):
    """Everything under `[tool.codegen]`; sections without a model yet are kept as extras."""

    model_config = ConfigDict(extra="allow")

    workers: list[Worker] = Field(default_factory=list)
    generation: FanoutLimits = FanoutLimits()
    source: Path | None = Field(default=None, exclude=True, description="file it came from")

    def roster(self) -> Roster | None:
        """The configured roster, or None when the embedded default should be used."""
        if not self.workers:
            return None
        return Roster(workers=tuple(self.workers), limits=self.generation)


def find_config(start: Path | None = None) -> Path | None:
    """The nearest codegen.toml or pyproject.toml from `start` upwards (codegen.toml wins)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in (CONFIG_FILE, PYPROJECT):
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def load_config(path: Path | None = None, *, start: Path | None = None) -> CodegenConfig:
    """Read and validate the config; an explicit `path` must exist, a found one may be absent."""
    if path is None:
        path = find_config(start)
        if path is None:
            return CodegenConfig()
    elif not path.is_file():
        raise BadInput(f"{path}: config file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read config: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise BadInput(f"{path}: invalid TOML: {error}") from error
    section = _section(data, path)
    try:
        config = CodegenConfig.model_validate(section)
    except ValidationError as error:
        raise BadInput(f"{path}: {first_problem(error, path)}") from error
    config.source = path
    return config


def roster_from_models(
    models: Sequence[str],
    *,
    personas: Sequence[str] = ("simplest",),
    samples: int = 1,
    limits: FanoutLimits | None = None,
    **worker_fields: Any,
) -> Roster:
    """A roster for models named on the command line: one worker per model × persona.

    The api_base and keys follow litellm's conventions, read from the environment at call time
    (e.g. OPENAI_API_BASE and OPENAI_API_KEY for any OpenAI-compatible server).
    """
    if not models:
        raise BadInput("no model given: name one with --model, or configure [tool.codegen]")
    try:
        workers = tuple(
            Worker(model=model, persona=persona, samples=samples, **worker_fields)
            for model in models
            for persona in personas
        )
        return Roster(workers=workers, limits=limits or FanoutLimits())
    except ValidationError as error:
        raise BadInput(f"command line: {first_problem(error, None)}") from error


def _section(data: dict[str, Any], path: Path) -> dict[str, Any]:
    if path.name == PYPROJECT or "tool" in data:
        section = data.get("tool", {}).get("codegen", {})
        where = "[tool.codegen]"
    else:
        section, where = data, "top level"
    if not isinstance(section, dict):
        raise BadInput(f"{path}: {where} must be a table")
    return section


def first_problem(error: ValidationError, path: Path | None) -> str:
    """One line naming the field, e.g. `workers[1].temperature: Input should be <= 2`."""
    problem = error.errors()[0]
    field = ""
    for part in problem["loc"]:
        field += f"[{part}]" if isinstance(part, int) else f".{part}" if field else str(part)
    message = problem["msg"].removeprefix("Value error, ")
    if problem["type"] == "extra_forbidden":
        message = "unknown field"
    elif problem["type"] == "missing":
        message = "required field is missing"
    elif problem["type"] == "too_short" and field.endswith("workers"):
        message = "the roster is empty"
    return f"{field or 'config'}: {message}"
