"""The jury's prompts: one place for what each aspect asks and the JSON a judge must return."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class Aspect(StrEnum):
    CORRECTNESS_RISK = "correctness_risk"
    EFFICIENCY = "efficiency"
    READABILITY = "readability"


ASPECT_QUESTIONS = {
    Aspect.CORRECTNESS_RISK: (
        "Assess CORRECTNESS RISK. For each candidate, list the concrete inputs most likely to "
        "break it (edge cases, wrong types of input the spec allows, overflow, empty input) in "
        '"risky_inputs". Score 10 = no plausible input breaks it, 1 = clearly wrong.'
    ),
    Aspect.EFFICIENCY: (
        "Assess ALGORITHMIC EFFICIENCY. For each candidate give its time complexity in "
        'big-O notation in "complexity" (e.g. "O(n log n)") and a one-sentence justification '
        'in "note". Score 10 = best achievable complexity and constant factors, 1 = very slow.'
    ),
    Aspect.READABILITY: (
        "Assess READABILITY AND MAINTAINABILITY: clear names, simple structure, no dead code, "
        'idiomatic Python. Give a one-sentence reason in "note". Score 10 = a senior engineer '
        "would merge it as is, 1 = must be rewritten."
    ),
}

SYSTEM = (
    "You are a senior Python engineer on a code-review jury. You compare anonymous candidate "
    "implementations of one function. Judge only the code shown. Reply with one JSON object "
    "and nothing else."
)

ANSWER_SHAPE = (
    '{"candidates": [{"label": "A", "score": 7, "note": "one sentence", '
    '"complexity": "O(n)", "risky_inputs": ["[]"]}, ...]}'
)


def judge_messages(
    task: str, aspect: Aspect, labelled: Sequence[tuple[str, str]]
) -> list[dict[str, str]]:
    """Messages for one judge on one aspect; ``labelled`` is (label, code) in shown order."""
    blocks = "\n\n".join(
        f"### Candidate {label}\n```python\n{code.strip()}\n```" for label, code in labelled
    )
    labels = ", ".join(label for label, _ in labelled)
    user = (
        f"## Task\n{task.strip()}\n\n## Candidates\n{blocks}\n\n## Question\n"
        f"{ASPECT_QUESTIONS[aspect]}\n\n"
        f"Answer with exactly one entry per candidate ({labels}), integer scores 1-10, "
        f"in this JSON shape:\n{ANSWER_SHAPE}"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def retry_message(error: str) -> dict[str, str]:
    return {
        "role": "user",
        "content": (
            f"Your reply could not be used: {error}. Answer again with only the JSON object, "
            f"in this shape:\n{ANSWER_SHAPE}"
        ),
    }
