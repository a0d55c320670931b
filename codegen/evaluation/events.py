"""Progress of an evaluation, for a live display (plain data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """``stage`` is verify, behaviour, timing, growth, jury or rank."""

    stage: str
    message: str
    candidate: str | None = None
