"""Measuring growth: every candidate called on inputs of doubling size in the sandbox, its CPU
time per size fitted by :func:`codegen.ranking.growth.fit_growth`.

    template (a drawn input) ─▶ sizes 16, 32, 64, … (the same for every candidate)
        per size: REPEATS inputs of that size ─▶ every candidate still going, and a call that
        does nothing (the floor: the cost of passing the input, linear in n), at once
        ─▶ per candidate the least CPU over the repeats (and the floor's, to fit against)
    a candidate stops at the target time (some tens of ms: well above the floor), at its CPU
    budget, or where it raises, times out or answers unlike the others (a candidate that is
    cheap because it is wrong on large inputs gets no say)

Each size is a fresh process per candidate (a ``sandbox.call`` job), so nothing is cached from
the size before; within it, the repeats are distinct inputs of one size, and the least of
their times is the one least disturbed by a shared machine. (When only integers grow, n is the
input and the repeats are the same call: a candidate that memoises then costs nothing at every
size, its growth is unknown, and an unknown growth moves nothing in the ranking.)
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from codegen.evaluation.behaviour import calls_of_each
from codegen.problems import Problem
from codegen.ranking.clusters import behaviour_key
from codegen.ranking.growth import Growth, fit_growth, scalable, scaled_input, size_ladder
from codegen.ranking.inputs import largest
from sandbox import CallOutcome, SandboxBackend

REPEATS = 3  # inputs per size; the least CPU time counts
TARGET_SECONDS = 0.05  # a candidate's last size: a call of this much CPU
BUDGET_SECONDS = 3.0  # CPU per candidate in all, whatever sizes it reached
WALL_SECONDS = 30.0  # the whole measurement, however many candidates
CALL_SECONDS = 1.0  # one call; a candidate past it stops at that size
TEMPLATES = 3  # drawn inputs tried in turn, when every candidate fails on the first's sizes
BASELINE = "__growth_floor__"


def noop(entry_point: str) -> str:
    """The floor: an entry point that does nothing, called on the same inputs."""
    return f"def {entry_point}(*args, **kwargs):\n    return None\n"


def growth_templates(
    differential: Sequence[tuple[Any, ...]], workload: Sequence[tuple[Any, ...]] = ()
) -> list[tuple[Any, ...]]:
    """What to scale, largest first: the timing workload's inputs (the largest drawn, screened)
    when the problem has no benchmark tests, else the largest differential inputs."""
    pool = list(workload) or largest(list(differential), TEMPLATES)
    return [tuple(t) for t in pool if scalable(tuple(t))][:TEMPLATES]


@dataclass
class _Ladder:
    """One template's measurement in progress."""

    alive: dict[str, str]
    points: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    floor: list[tuple[int, float]] = field(default_factory=list)
    stopped: dict[str, str] = field(default_factory=dict)
    spent: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    answered: bool = False  # some candidate answered at some size

    def stop(self, cid: str, why: str) -> None:
        self.alive.pop(cid, None)
        if why:
            self.stopped[cid] = why


async def measure_growth(
    problem: Problem,
    sources: dict[str, str],
    templates: Sequence[tuple[Any, ...]],
    sandbox: SandboxBackend,
    *,
    seed: int = 0,
    target_seconds: float = TARGET_SECONDS,
    on_size: Callable[[int, int], None] | None = None,
) -> dict[str, Growth]:
    """Every candidate's growth (id -> Growth, unknown with the reason when it cannot be
    fitted). ``templates``: drawn inputs, largest first (:func:`growth_templates`); the next
    is tried only when every candidate fails at the first one's sizes. ``on_size(n, k)``: k
    candidates are being measured at size n."""
    usable = [tuple(t) for t in templates if scalable(tuple(t))][:TEMPLATES]
    if not usable:
        return {cid: fit_growth([], stopped="no input that grows with n") for cid in sources}
    ladder = _Ladder(dict(sources))
    for template in usable:
        ladder = await _measure(problem, sources, template, sandbox, seed, target_seconds,
                                on_size)  # fmt: skip
        if ladder.answered:
            break
    points, stopped = ladder.points, ladder.stopped
    return {
        cid: fit_growth(points.get(cid, []), ladder.floor, stopped=stopped.get(cid, ""))
        for cid in sources
    }


async def _measure(
    problem: Problem,
    sources: dict[str, str],
    template: tuple[Any, ...],
    sandbox: SandboxBackend,
    seed: int,
    target: float,
    on_size: Callable[[int, int], None] | None,
) -> _Ladder:
    ladder = _Ladder(dict(sources), {cid: [] for cid in sources})
    limits = sandbox.limits.model_copy(
        update={"test_seconds": min(sandbox.limits.test_seconds, CALL_SECONDS)}
    )
    started = time.monotonic()
    for n in size_ladder(template):
        if not ladder.alive:
            break
        if time.monotonic() - started > WALL_SECONDS:
            for cid in list(ladder.alive):
                ladder.stop(cid, f"time budget spent at n={n}")
            break
        if on_size is not None:
            on_size(n, len(ladder.alive))
        calls = await asyncio.to_thread(_inputs, template, n, seed)
        jobs = {**ladder.alive, BASELINE: noop(problem.entry_point)}
        outcomes = await calls_of_each(problem, jobs, calls, sandbox, limits=limits, max_timeouts=1)
        _record(ladder, n, outcomes, target)
    return ladder


def _inputs(
    template: tuple[Any, ...], n: int, seed: int
) -> list[tuple[tuple[Any, ...], dict[Any, Any]]]:
    """REPEATS distinct inputs of size n (the same when only integers grow: n is the input),
    the same for every candidate and every run."""
    return [
        (scaled_input(template, n, random.Random(seed * 1_000_003 + n * 7 + r)), {})
        for r in range(REPEATS)
    ]


def _record(ladder: _Ladder, n: int, outcomes: dict[str, list[CallOutcome]], target: float) -> None:
    floor = outcomes.pop(BASELINE)
    if not all(o.ok for o in floor):  # the input itself cannot be passed at this size
        for cid in list(ladder.alive):
            ladder.stop(cid, f"inputs of n={n} could not be passed ({_failure(floor)})")
        return
    least = min(o.cpu_seconds for o in floor)
    ladder.floor.append((n, least))
    differing = _differing(outcomes)
    for cid, got in outcomes.items():
        if not all(o.ok for o in got):
            ladder.stop(cid, f"{_failure(got)} at n={n}")
            continue
        ladder.answered = True
        if cid in differing:
            ladder.stop(cid, f"answers differ from the other candidates' at n={n}")
            continue
        seconds = min(o.cpu_seconds for o in got)
        ladder.points[cid].append((n, seconds))
        ladder.spent[cid] += sum(o.cpu_seconds for o in got)
        if seconds >= target:
            ladder.stop(cid, "")
        elif ladder.spent[cid] > BUDGET_SECONDS:
            ladder.stop(cid, f"CPU budget spent at n={n}")


def _differing(outcomes: dict[str, list[CallOutcome]]) -> set[str]:
    """Candidates whose answers differ from the strictly largest agreeing group (all of them
    when no group is strictly largest): growth measured on a wrong answer says nothing."""
    answers = {
        cid: tuple(behaviour_key(o) for o in got)
        for cid, got in outcomes.items()
        if all(o.ok for o in got)
    }
    groups = Counter(answers.values())
    if len(groups) < 2:
        return set()
    (top, size), (_, runner_up) = groups.most_common(2)
    return {cid for cid, a in answers.items() if a != top or size == runner_up}


def _failure(outcomes: list[CallOutcome]) -> str:
    bad = next(o for o in outcomes if not o.ok)
    if bad.cause is not None:
        return str(bad.cause)
    return f"raised {bad.error or 'an error'}"
