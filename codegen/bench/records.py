"""What a leaderboard run stores and reads back: plain pydantic data, shared by the store, the
executors (it crosses into Ray workers as JSON) and the pure metrics."""

from __future__ import annotations

import ast
import math
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from codegen.problems import Problem
from codegen.ranking.ballots import JudgeSpec
from codegen.ranking.consensus import GeneratedTest


class SampleStatus(StrEnum):
    OK = "ok"  # the model answered with code
    MODEL_ERROR = "model_error"  # it answered, but with nothing usable: a model failure
    INFRA_ERROR = "infra_error"  # no answer (timeout, connection, 5xx): retried on resume


class ProblemStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    INFRA_ERROR = "infra_error"  # Docker trouble or unfinished samples: retried on resume
    SUITE_ERROR = "suite_error"  # the problem's own tests do not load: not retried


class SampleKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str
    persona: str
    sample: int = Field(ge=0)


class SampleRecord(SampleKey):
    """One request of one model for one problem, and what it produced."""

    status: SampleStatus
    code: str | None = None
    code_hash: str | None = None
    error: str = ""
    latency_s: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class TesterRecord(BaseModel):
    """One tester request of one model for one problem: the test cases it wrote (as text), or
    the error that left it without an answer (retried when the problem is)."""

    __test__ = False  # not a pytest class
    model: str
    index: int = Field(0, ge=0)
    text: str = ""
    error: str = ""
    latency_s: float | None = None
    cost_usd: float = 0.0


class CandidateOutcome(BaseModel):
    """One distinct program of a problem, judged by the hidden tests and timed."""

    verdict: str
    passed: bool
    message: str = ""
    infra: bool = Field(False, description="the sandbox failed, not the candidate")
    cpu_seconds: float = 0.0
    time_median_s: float | None = None
    efficiency: float | None = Field(
        None, description="median CPU time / the canonical solution's, same container and run"
    )


class EvalRequest(BaseModel):
    """All sandbox work for one problem, sent to an executor."""

    problem: Problem
    candidates: dict[str, str] = Field(description="code hash -> source, distinct programs")
    rounds: int = Field(ge=1)
    judges: list[JudgeSpec] = Field([], description="the jury of the ensemble's ranking")
    generated_tests: list[GeneratedTest] = Field(
        [], description="the model-written test cases: soft evidence for the ranking"
    )
    votes: dict[str, int] = Field({}, description="code hash -> samples that wrote it")
    authors: dict[str, list[str]] = Field(
        {}, description="code hash -> the model of each sample that wrote it"
    )

    # JSON (what crosses to a Ray worker) keeps a test's values exactly: tuples, sets, bytes
    # and dicts with non-string keys would not survive JSON as such, so each test travels as
    # Python literal source, read back with ``ast.literal_eval``.
    @field_serializer("generated_tests", when_used="json")
    def _tests_as_source(self, tests: list[GeneratedTest]) -> list[dict[str, Any]]:
        return [
            {"source": literal_source([t.args, t.expected]), "authors": t.authors} for t in tests
        ]

    @field_validator("generated_tests", mode="before")
    @classmethod
    def _tests_from_source(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        decoded = []
        for item in value:
            if isinstance(item, dict) and "source" in item:
                args, expected = ast.literal_eval(item["source"])
                item = {"args": args, "expected": expected, "authors": item.get("authors", [])}
            decoded.append(item)
        return decoded


class Evaluation(BaseModel):
    """What an executor returns for one problem."""

    candidates: dict[str, CandidateOutcome]
    pick: str | None = Field(None, description="the ensemble's pick (code hash), visible tests")
    pick_reason: str = ""
    confidence: float | None = Field(None, description="how likely the pick is right, 0-1")
    evidence: str = Field("", description="what stands behind the pick, in words")
    canonical_s: float | None = None
    phases: dict[str, float] = Field({}, description="seconds: sandbox, ranking, timing")
    notes: list[str] = []
    executed_on: str = Field("", description="which executor and node did the work")


class ProblemRecord(BaseModel):
    """One problem of a run as stored: its status, samples and candidates."""

    problem: str
    position: int
    status: ProblemStatus
    message: str = ""
    attempts: int = 0
    pick: str | None = None
    pick_passed: bool | None = None
    confidence: float | None = None
    evidence: str = ""
    canonical_s: float | None = None
    phases: dict[str, float] = {}
    executed_on: str = ""
    samples: list[SampleRecord] = []
    tester: list[TesterRecord] = []
    candidates: dict[str, CandidateOutcome] = {}

    def sample_passed(self, sample: SampleRecord) -> bool:
        outcome = self.candidates.get(sample.code_hash or "")
        return sample.status is SampleStatus.OK and outcome is not None and outcome.passed


class RunData(BaseModel):
    """Everything about one run, as the report and the metrics read it."""

    name: str
    config_hash: str
    config: dict
    created_at: str
    problems: list[ProblemRecord]


def literal_source(value: Any) -> str:
    """Python source that ``ast.literal_eval`` reads back as ``value`` (builtin literals, as
    ``literal_eval`` makes them): ``repr``, except that infinite floats are written ``1e999``."""
    if isinstance(value, float) and math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    if isinstance(value, complex):
        sign = "-" if math.copysign(1.0, value.imag) < 0 else "+"
        return f"({literal_source(value.real)}{sign}{literal_source(abs(value.imag))}j)"
    if isinstance(value, list):
        return "[" + ", ".join(literal_source(v) for v in value) + "]"
    if isinstance(value, tuple):
        items = ", ".join(literal_source(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, set) and value:
        return "{" + ", ".join(literal_source(v) for v in value) + "}"
    if isinstance(value, dict):
        pairs = ", ".join(f"{literal_source(k)}: {literal_source(v)}" for k, v in value.items())
        return "{" + pairs + "}"
    return repr(value)
