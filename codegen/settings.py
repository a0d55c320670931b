"""The settings of a run, in one place: flags override the project's config file, which
overrides the defaults. Pure data: nothing here starts a model or a container.

The file is `[tool.codegen]` in pyproject.toml, or the top level of codegen.toml (which wins):

    samples = 2                             # per worker (--samples overrides every worker)
    personas = ["simplest", "fastest"]      # for --models and the embedded default
    local_models = ["qwen2.5-coder-1.5b"]   # the embedded roster (default: both, when pulled)
    [[tool.codegen.workers]]                # one table per worker (model × persona)
    model = "openai/gpt-4o-mini"            # litellm model string; keys from the environment
    [tool.codegen.generation]               # fan-out policy (codegen.generation.FanoutLimits)
    [tool.codegen.limits]                   # sandbox.Limits, per candidate run
    [tool.codegen.sandbox]                  # workers = 2, timing_rounds = 10
    [tool.codegen.jury]                     # enabled = true, judges = [...], timeout_s = 60
    [tool.codegen.repair]                   # enabled = true, max_candidates = 4
    [tool.codegen.tester]                   # enabled = true, per_model = 1, cases = 10
    [tool.codegen.context]                  # max_tokens = 1500 (the module and package shown)
    [tool.codegen.project]                  # extras, groups, requirements, lock: the image's

Reading the file (:func:`load_config`) refuses any key the schema does not know, at any depth,
naming it, its table and the nearest known key (exit 2); :class:`CodegenConfig` keeps the
sections it does not type itself as extras, and :func:`load_settings` then types every section
and merges the flags. The file is the nearest one from the current directory, or `--config FILE`,
or `$CODEGEN_CONFIG`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo

from codegen.config_path import CONFIG_ENV, PYPROJECT, find_config
from codegen.errors import BadInput
from codegen.generation.personas import PERSONAS
from codegen.generation.roster import FanoutLimits, Roster, Worker
from codegen.local_models.assemble import default_models
from codegen.local_models.catalog import MODELS
from codegen.local_models.roster import DEFAULT_PERSONAS
from codegen.overrides import Overrides
from codegen.project import DEFAULT_CONTEXT_TOKENS
from codegen.project.dependencies import DependencySettings
from codegen.unknown_keys import find_unknown_key
from sandbox import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from sandbox import Project, SandboxBackend


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


def load_config(path: Path | None = None, *, start: Path | None = None) -> CodegenConfig:
    """Read and validate the config: `path` (from --config), else $CODEGEN_CONFIG, both of which
    must exist, else the nearest codegen.toml or pyproject.toml, which may be absent."""
    named = os.environ.get(CONFIG_ENV, "").strip()
    if path is None and named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise BadInput(f"{CONFIG_ENV}={named}: config file not found")
    if path is None:
        path = find_config(start)
        if path is None:
            return CodegenConfig()
    elif not path.is_file():
        raise BadInput(f"{path}: config file not found")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read config: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise BadInput(f"{path}: invalid TOML: {error}") from error
    section, prefix = _section(data, path)
    unknown = find_unknown_key(section, config_fields())
    if unknown is not None:
        raise BadInput(f"{path}: {unknown.describe(prefix, text)}")
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


def _section(data: dict[str, Any], path: Path) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The codegen table and the tables above it: `[tool.codegen]` in a pyproject.toml (or any
    file with a `[tool]` table), else the file's top level."""
    if path.name == PYPROJECT or "tool" in data:
        tool = data.get("tool", {})
        section = tool.get("codegen", {}) if isinstance(tool, dict) else None
        where = "[tool.codegen]"
        prefix: tuple[str, ...] = ("tool", "codegen")
    else:
        section, where, prefix = data, "top level", ()
    if not isinstance(section, dict):
        raise BadInput(f"{path}: {where} must be a table")
    return section, prefix


def config_fields() -> dict[str, FieldInfo]:
    """Every key the config file may hold at its top level, with its type: the roster's
    (workers, generation) and the run's (samples, limits, sandbox, jury, …)."""
    fields = {**CodegenConfig.model_fields, **FileSettings.model_fields}
    return {name: field for name, field in fields.items() if not field.exclude}


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


RosterKind = Literal["flags", "config", "embedded"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SandboxSettings(_Section):
    """How candidates run: which backend, containers in parallel, interleaved timing rounds."""

    backend: str = Field(
        default="docker",
        description="a backend in sandbox.registry (or a package's entry point); "
        "unsafe-local is for tests only",
    )
    runtime: str | None = Field(
        default=None, description="a Docker runtime for the containers, e.g. runsc (gVisor)"
    )
    workers: int = Field(default=2, ge=1, le=64, description="containers run in parallel")
    timing_rounds: int = Field(default=10, ge=3, le=100, description="interleaved timing rounds")
    isolation: Literal["warm", "strict"] = Field(
        default="warm",
        description="warm: the pool of warm containers; strict: fresh containers per candidate "
        "and plain pytest beside the isolated run, the slow reference (docker backend only)",
    )
    options: dict[str, str | int | float | bool] = Field(
        default={},
        description="more options of the backend, passed as they are (ray: address = HOST:PORT)",
    )

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from sandbox.registry import backend_names  # names only: no backend is imported

        if value not in (known := backend_names()):
            raise ValueError(f"unknown backend {value!r} (known: {', '.join(known)})")
        return value

    def open(self, limits: Limits, project: Project | None = None) -> SandboxBackend:
        """The configured backend, not yet entered; with ``project`` mounted in every
        container (the docker backend, warm or strict: the others mount none)."""
        from sandbox import open_backend

        options: dict[str, Any] = dict(self.options)
        if self.runtime:
            options["runtime"] = self.runtime
        if project is not None:
            if self.backend != "docker":
                raise BadInput(
                    f"a function of a project runs in the docker backend only (its source is "
                    f"mounted in the containers), not {self.backend!r}: set [sandbox] backend"
                )
            options["project"] = project
        name = "strict" if self.isolation == "strict" and self.backend == "docker" else self.backend
        return open_backend(name, workers=self.workers, limits=limits, **options)


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


class TesterSettings(_Section):
    """Model-written tests (CodeT): each model of the roster, under the tester prompt, writes
    test cases while the candidates are generated; soft evidence for the ranking."""

    enabled: bool = True
    per_model: int = Field(default=1, ge=1, le=8, description="tester requests per model")
    cases: int = Field(default=10, ge=1, le=30, description="test cases asked per request")


class ContextSettings(_Section):
    """What the models see of a function's module and package (``path.py::name`` and the
    pre-commit hook): the module's outline and the signatures it imports, at most this many
    tokens (0: the stub alone)."""

    max_tokens: int = Field(default=DEFAULT_CONTEXT_TOKENS, ge=0, le=20000)


class FileSettings(_Section):
    """The solve keys of the config file (each optional there)."""

    samples: int | None = Field(default=None, ge=1, le=64)
    personas: list[str] = Field(default_factory=lambda: list(DEFAULT_PERSONAS), min_length=1)
    local_models: list[str] = Field(default_factory=default_models, min_length=1)
    limits: Limits = DEFAULT_LIMITS
    sandbox: SandboxSettings = SandboxSettings()
    jury: JurySettings = JurySettings()
    repair: RepairSettings = RepairSettings()
    tester: TesterSettings = TesterSettings()
    context: ContextSettings = ContextSettings()
    project: DependencySettings = DependencySettings()  # read by the project's image

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
    tester: TesterSettings = TesterSettings()
    context: ContextSettings = ContextSettings()
    config_file: str | None
    origins: dict[str, str] = Field(description="setting -> 'flag', the file, or 'default'")


FILE_KEYS = (
    "samples", "personas", "local_models", "limits", "sandbox", "jury", "repair", "tester",
    "context", "project",
)  # fmt: skip


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
    tester = file.tester
    if overrides.tester is not None:
        tester = tester.model_copy(update={"enabled": overrides.tester})
        origins["tester"] = "flag"
    sandbox = file.sandbox
    if overrides.isolation is not None:
        sandbox = sandbox.model_copy(update={"isolation": overrides.isolation})
        origins["isolation"] = "flag"
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
        sandbox=sandbox,
        jury=jury,
        repair=file.repair,
        tester=tester,
        context=file.context,
        config_file=where,
        origins=origins,
    )


def load_settings(config_file: Path | None, overrides: Overrides | None = None) -> SolveSettings:
    """The config file (given, else $CODEGEN_CONFIG, else the nearest one from the current
    directory) plus the flags."""
    return resolve(load_config(config_file), overrides)
