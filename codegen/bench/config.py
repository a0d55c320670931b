"""A run's configuration and its hash: the key that decides whether stored results may be reused.

Everything that changes what a candidate is or how it is judged is in the key: the suite's
version, the models, personas and samples, the prompt wording, the sampling settings, the
sandbox image, the timing rounds and the judges. What only changes *where* work runs (executor, Ray
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
BENCH_FORMAT = 2


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
    bench_format: int = BENCH_FORMAT

    def key(self) -> str:
        """sha256 of the canonical JSON form."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def prompts_hash(used: tuple[str, ...]) -> str:
    """A hash of every piece of wording the models see for these personas."""
    parts = [
        personas.SYSTEM,
        personas.TASK,
        personas.VISIBLE_TESTS,
        personas.ENTRY_POINT,
        *(f"{name}={personas.PERSONAS[name]}" for name in used),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
