"""A run's configuration and its hash: the key that decides whether stored results may be reused.

Everything that changes what a candidate is or how it is judged is in the key: the suite's
version, the models, personas and samples, the prompt wording (the tester's too, when it is on),
the sampling settings, the sandbox image, the timing rounds, the judges and whether the models
write test cases (the tester). What only changes *where* work runs (executor, Ray
address, concurrency) and which slice of the suite is run (``--limit``) is not, so a run can be
extended with a larger ``--limit`` or resumed on Ray.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict, Field

from codegen.generation import personas

# Bump when the evaluation's meaning changes: old runs are then not reused.
# 2: visible tests include examples written in prose; runs may have judges.
# 3: the pick weighs each program's votes (how many samples wrote it) and, with the tester, the
#    model-written tests (dual execution agreement), so the same samples may pick differently;
#    the pick's confidence is stored.
BENCH_FORMAT = 3
TESTER_PER_MODEL = 1  # tester requests per model and problem
TESTER_CASES = 10  # test cases asked of each


class RunConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    suite: str
    suite_version: str
    models: tuple[str, ...] = Field(min_length=1)
    personas: tuple[str, ...] = Field(min_length=1)
    samples: int = Field(ge=1, le=64)
    temperature: float = 0.7
    max_tokens: int = 1024
    prompts: str = Field(description="hash of the prompt wording of the personas used")
    image: str = Field(description="the sandbox image tag, which hashes its recipe")
    rounds: int = Field(ge=1)
    judges: tuple[str, ...] = Field((), description="the jury's models; none: no jury")
    tester: bool = Field(True, description="each model writes test cases for the ranking")
    bench_format: int = BENCH_FORMAT

    def key(self) -> str:
        """sha256 of the canonical JSON form."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def prompts_hash(used: tuple[str, ...], tester: bool = False) -> str:
    """A hash of every piece of wording the models see for these personas, and the tester's
    (with how many requests and cases it asks for) when it is on."""
    parts = [
        personas.SYSTEM,
        personas.TASK,
        personas.VISIBLE_TESTS,
        personas.ENTRY_POINT,
        *(f"{name}={personas.PERSONAS[name]}" for name in used),
    ]
    if tester:
        parts += [
            personas.TESTER_SYSTEM,
            personas.TESTER_TASK,
            f"tester={TESTER_PER_MODEL}x{TESTER_CASES}",
        ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
