"""What the command line says about a run (the flags that override the config file), apart
from the settings themselves: a service client sends them without loading the settings' schema
(the sandbox's limits, the rosters, the embedded models), which it never needs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Overrides(BaseModel):
    """What the command line says; None = not given."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: list[str] | None = None
    samples: int | None = Field(default=None, ge=1, le=64)
    jury: bool | None = None
    tester: bool | None = None
    isolation: Literal["warm", "strict"] | None = None


def split_models(values: tuple[str, ...] | list[str]) -> list[str] | None:
    """`--models a,b --models c` -> [a, b, c]; None when the flag was not given."""
    if not values:
        return None
    return [name.strip() for value in values for name in value.split(",")]
