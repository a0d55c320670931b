"""The effective settings of `codegen solve`: flags override the config file, which overrides
the defaults. Pure data: nothing here starts a model or a container.

Keys of `[tool.codegen]` (or the top level of codegen.toml) read here; `workers` and
`generation` are `codegen.config`'s:

    samples = 2                             # per worker (--samples overrides every worker)
    personas = ["simplest", "fastest"]      # for --models and the embedded default
    local_models = ["qwen2.5-coder-0.5b"]   # the embedded default roster
    [tool.codegen.limits]                   # sandbox.Limits, per candidate run
    [tool.codegen.sandbox]                  # workers = 2, timing_rounds = 10
    [tool.codegen.jury]                     # enabled = true, judges = [...], timeout_s = 60
    [tool.codegen.repair]                   # enabled = true, max_candidates = 4
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from codegen.config import CodegenConfig, first_problem, load_config
from codegen.errors import BadInput
from codegen.generation.personas import PERSONAS
from codegen.generation.roster import FanoutLimits, Worker
from codegen.local_models.catalog import DEFAULT_MODEL, MODELS
from codegen.local_models.roster import DEFAULT_PERSONAS
from sandbox import DEFAULT_LIMITS, Limits

RosterKind = Literal["flags", "config", "embedded"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SandboxSettings(_Section):
    """How candidates run: containers in parallel and interleaved timing rounds."""

    workers: int = Field(default=2, ge=1, le=64, description="containers run in parallel")
    timing_rounds: int = Field(default=10, ge=3, le=100, description="interleaved timing rounds")


class JurySettings(_Section):
    """LLM judges that break ties between passing candidates; none named = the roster's models."""

    enabled: bool | None = Field(
        default=None,
        description="None: on for hosted models, off for the embedded one (too small to judge, "
        "and it would share the CPUs with the timing runs)",
    )
    judges: list[str] = Field(default_factory=list, description="litellm model strings")
    timeout_s: float = Field(default=120.0, gt=0.0, le=3600.0)


class RepairSettings(_Section):
    """The one repair round when nothing passes: failing code and its test output go back."""

    enabled: bool = True
    max_candidates: int = Field(default=4, ge=1, le=64, description="extra requests at most")
    failing_shown: int = Field(default=2, ge=1, le=16, description="closest failures sent back")
    feedback_chars: int = Field(default=2000, ge=200, le=20000, description="test output cap")


class FileSettings(_Section):
    """The solve keys of the config file (each optional there)."""

    samples: int | None = Field(default=None, ge=1, le=64)
    personas: list[str] = Field(default_factory=lambda: list(DEFAULT_PERSONAS), min_length=1)
    local_models: list[str] = Field(default_factory=lambda: [DEFAULT_MODEL], min_length=1)
    limits: Limits = DEFAULT_LIMITS
    sandbox: SandboxSettings = SandboxSettings()
    jury: JurySettings = JurySettings()
    repair: RepairSettings = RepairSettings()

    @field_validator("personas")
    @classmethod
    def _known_personas(cls, value: list[str]) -> list[str]:
        for persona in value:
            if persona not in PERSONAS:
                raise ValueError(f"unknown persona {persona!r} (known: {', '.join(PERSONAS)})")
        return value

    @field_validator("local_models")
    @classmethod
    def _known_local(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in MODELS:
                raise ValueError(f"unknown local model {name!r} (known: {', '.join(MODELS)})")
        return value

    @field_validator("limits", mode="before")
    @classmethod
    def _no_unknown_limit(cls, value: Any) -> Any:
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(Limits.model_fields))
            if unknown:
                raise ValueError(
                    f"unknown limit {unknown[0]!r} (known: {', '.join(Limits.model_fields)})"
                )
        return value


class Overrides(BaseModel):
    """What the command line says; None = not given."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: list[str] | None = None
    samples: int | None = Field(default=None, ge=1, le=64)
    jury: bool | None = None


class SolveSettings(BaseModel):
    """Everything a solve run needs to know, and where each top-level choice came from."""

    model_config = ConfigDict(frozen=True)

    roster_kind: RosterKind
    models: list[str] = Field(description="--models: litellm strings or local model names")
    workers: list[Worker] = Field(description="the configured workers ([[tool.codegen.workers]])")
    local_models: list[str]
    personas: list[str]
    samples: int | None = Field(description="overrides every worker's samples when set")
    generation: FanoutLimits
    limits: Limits
    sandbox: SandboxSettings
    jury: JurySettings
    repair: RepairSettings
    config_file: str | None
    origins: dict[str, str] = Field(description="setting -> 'flag', the file, or 'default'")


FILE_KEYS = ("samples", "personas", "local_models", "limits", "sandbox", "jury", "repair")


def resolve(config: CodegenConfig, overrides: Overrides | None = None) -> SolveSettings:
    """Merge flags over the file over the defaults; BadInput names a wrong key of the file."""
    overrides = overrides or Overrides()
    where = str(config.source) if config.source else None
    extra = config.model_extra or {}
    given = {key: extra[key] for key in FILE_KEYS if key in extra}
    try:
        file = FileSettings.model_validate(given)
    except ValidationError as error:
        raise BadInput(f"{where or 'config'}: {first_problem(error, None)}") from error

    origins = {key: (where or "file") if key in given else "default" for key in FILE_KEYS}
    origins["workers"] = (where or "file") if config.workers else "default"
    origins["generation"] = "default"
    if "generation" in config.model_fields_set:
        origins["generation"] = where or "file"
    if "workers" in config.model_fields_set and not config.workers:
        raise BadInput(
            f"{where}: workers is empty, so the roster is empty: add a [[tool.codegen.workers]] "
            "table, or remove the key to use the embedded default model"
        )
    jury = file.jury
    if overrides.jury is not None:
        jury = jury.model_copy(update={"enabled": overrides.jury})
        origins["jury"] = "flag"
    samples = file.samples
    if overrides.samples is not None:
        samples = overrides.samples
        origins["samples"] = "flag"
    models = [m for m in overrides.models or [] if m]
    origins["models"] = "default"
    if overrides.models is not None:
        if not models:
            raise BadInput(
                "--models is empty: name at least one model, e.g. --models openai/gpt-4o"
            )
        origins["models"] = "flag"
        kind: RosterKind = "flags"
    elif config.workers:
        kind = "config"
    else:
        kind = "embedded"
    return SolveSettings(
        roster_kind=kind,
        models=models,
        workers=list(config.workers),
        local_models=file.local_models,
        personas=file.personas,
        samples=samples,
        generation=config.generation,
        limits=file.limits,
        sandbox=file.sandbox,
        jury=jury,
        repair=file.repair,
        config_file=where,
        origins=origins,
    )


def load_settings(config_file: Path | None, overrides: Overrides | None = None) -> SolveSettings:
    """The config file (given, or the nearest one from the current directory) plus the flags."""
    return resolve(load_config(config_file), overrides)


def split_models(values: tuple[str, ...] | list[str]) -> list[str] | None:
    """`--models a,b --models c` -> [a, b, c]; None when the flag was not given."""
    if not values:
        return None
    return [name.strip() for value in values for name in value.split(",")]
