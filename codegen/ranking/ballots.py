"""The jury's data: who judges, what a judge must answer, and what the jury returns (pure; the
requests are :mod:`codegen.ranking.jury`'s). The ranking rule reads :class:`JuryResult` only."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping

from pydantic import BaseModel, Field, ValidationError

from codegen.llm.endpoint import Endpoint
from codegen.ranking.jury_prompts import Aspect


class JudgeSpec(Endpoint):
    """One judge: a model endpoint (deterministic by default) and how many of its requests may
    be in flight."""

    timeout_s: float = Field(
        60.0, gt=0, le=3600.0, description="hard deadline for the judge, retry included"
    )
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_parallel: int = Field(
        len(Aspect), ge=1, description="requests in flight at once; 1 for a one-slot local server"
    )


class Assessment(BaseModel):
    label: str
    score: int = Field(ge=1, le=10)
    note: str = ""
    complexity: str | None = None
    risky_inputs: list[str] = []


class JudgeAnswer(BaseModel):
    """What a judge must reply: one assessment per candidate label."""

    candidates: list[Assessment]


class Ballot(BaseModel):
    """One judge's validated answer on one aspect, mapped back to candidate ids."""

    judge: str
    aspect: Aspect
    shown_order: list[str]  # candidate ids in the order the judge saw them (A, B, …)
    scores: dict[str, int]
    notes: dict[str, str] = {}
    complexity: dict[str, str] = {}
    risky_inputs: dict[str, list[str]] = {}
    attempts: int = 1


class JudgeFailure(BaseModel):
    judge: str
    aspect: Aspect
    kind: str  # "timeout", "malformed", "error"
    message: str


class JuryResult(BaseModel):
    candidates: list[str]
    ballots: list[Ballot]
    failures: list[JudgeFailure]
    aspect_points: dict[Aspect, dict[str, float]]  # mean Borda points, in [0, n-1]
    points: dict[str, float]  # the sum over aspects: the tie-breaker
    agreement: dict[Aspect, float | None]  # Kendall's W per aspect

    def complexity(self, candidate: str) -> str | None:
        """The complexity most judges gave (first judge's on a tie)."""
        said = [b.complexity[candidate] for b in self.ballots if candidate in b.complexity]
        return Counter(said).most_common(1)[0][0] if said else None

    def risky_inputs(self, candidate: str) -> list[str]:
        found = [i for b in self.ballots for i in b.risky_inputs.get(candidate, [])]
        return list(dict.fromkeys(found))


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def parse_answer(reply: str, labels: Mapping[str, str]) -> JudgeAnswer:
    """The judge's JSON (bare, fenced or surrounded by prose), checked against the labels
    shown; raises ValueError with a short reason."""
    fenced = _FENCE.search(reply or "")
    text = fenced.group(1) if fenced else (reply or "")
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the reply")
    try:
        answer = JudgeAnswer.model_validate(json.loads(text[start : end + 1]))
    except json.JSONDecodeError as error:
        raise ValueError(f"invalid JSON ({error.msg})") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"JSON does not match the shape: {where}: {first['msg']}") from None
    given = [a.label.strip().upper() for a in answer.candidates]
    if sorted(given) != sorted(labels):
        raise ValueError(f"expected one entry for each of {', '.join(labels)}, got {given}")
    for assessment, label in zip(answer.candidates, given, strict=True):
        assessment.label = label
    return answer
