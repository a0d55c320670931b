"""Differential-testing and timing inputs: what to draw (here, on the host) and the drawing
itself (in the sandbox).

The problem's own code decides what its inputs look like: its ``strategies.py``, the type
hints of its stub (evaluated with the stub's imports) and its docstring's examples. Running
any of it on the host would let a problem (from a pull request, or another tenant of the
service) run code outside the sandbox. So the host only reads them as text and plain data
(:func:`draw_spec`: ``ast`` and ``ast.literal_eval``, nothing called), and
:mod:`codegen.ranking.drawing`, a self-contained program, draws in a candidate process of the
sandbox (:func:`draw`), where a strategy that writes files, loops or reads the network meets
the same walls as a candidate. See that module for where inputs come from.

:func:`draw_here` does the same drawing in this process: for problems the caller trusts (the
tests' own), never on a user's problem.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Sequence
from importlib import resources
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel

from codegen.errors import BadInput
from codegen.problems import Problem
from codegen.problems.examples import PARSE_ERRORS
from codegen.problems.model import is_plain
from sandbox import CallJob, CallOutcome, SandboxBackend, Verdict
from sandbox.harness.plaindata import NotPlainData, from_canonical

DRAW_SECONDS = 30.0  # importing hypothesis and drawing: well under a second, usually
DRAW_VALUE_BYTES = 4 * 1024 * 1024
ENTRY = "draw_from_spec"  # codegen.ranking.drawing's entry point


class InputSet(BaseModel):
    """Argument tuples for the entry point, or none and the reason why."""

    args: list[tuple[Any, ...]] = []
    origin: Literal["strategies.py", "type hints", "examples", "benchmark tests", "none"] = "none"
    reason: str = ""


def draw_spec(problem: Problem, n: int, seed_value: int, large: bool) -> dict[str, Any]:
    """What to draw, as plain data: the problem's texts and parameters, read, never run."""
    parameters = None
    if problem.parameters is not None:
        parameters = [
            {"name": p.name, "annotation": p.annotation, "kind": p.kind,
             "has_default": p.has_default}
            for p in problem.parameters
        ]  # fmt: skip
    return {
        "n": n,
        "seed": seed_value,
        "large": large,
        "strategy": problem.strategy,
        "strategy_path": problem.strategy_path or "strategies.py",
        "stub": problem.stub or "",
        "parameters": parameters,
        "examples": [list(args) for args in example_args(problem)],
    }


def drawing_program() -> str:
    """The drawing module's source, sent to the sandbox as a candidate's."""
    return resources.files("codegen.ranking").joinpath("drawing.py").read_text(encoding="utf-8")


class Ask(NamedTuple):
    """One drawing: up to ``n`` inputs from ``seed``, small ones or (``large``) for timing."""

    n: int = 30
    seed: int = 0
    large: bool = False


async def draw(
    problem: Problem,
    sandbox: SandboxBackend,
    n: int = 30,
    seed_value: int = 0,
    large: bool = False,
) -> InputSet:
    """Up to ``n`` distinct inputs drawn in the sandbox (small ones for differential testing;
    with ``large``, the timing pool). A broken ``strategies.py`` is bad input (one line)."""
    (drawn,) = await draw_each(problem, sandbox, [Ask(n, seed_value, large)])
    return drawn


async def draw_each(
    problem: Problem, sandbox: SandboxBackend, asks: Sequence[Ask]
) -> list[InputSet]:
    """:func:`draw` for each of ``asks``, in one sandbox process: hypothesis is imported once
    (most of a drawing's cost). Each drawing is seeded on its own, so each gives what it gives
    alone; each has the time limit of one."""
    specs = [draw_spec(problem, a.n, a.seed, a.large) for a in asks]
    limits = sandbox.limits.model_copy(
        update={
            "test_seconds": DRAW_SECONDS,
            "cpu_seconds": int(DRAW_SECONDS * len(asks)),
            "wall_seconds": DRAW_SECONDS * len(asks) + 15,
        }
    )
    job = CallJob(
        candidate=drawing_program(), entry_point=ENTRY, inputs=[((spec,), {}) for spec in specs],
        limits=limits, max_timeouts=len(asks), value_bytes=DRAW_VALUE_BYTES, hypothesis=True,
    )  # fmt: skip
    outcomes = await sandbox.call(job)
    if len(asks) > 1 and any(o.value_omitted for o in outcomes):
        # together over the answer's size limit, where each alone may fit: one at a time
        return [(await draw_each(problem, sandbox, [ask]))[0] for ask in asks]
    return [_drawn(problem, outcome) for outcome in outcomes]


def _drawn(problem: Problem, outcome: CallOutcome) -> InputSet:
    where = problem.strategy_path or "strategies.py"
    if not outcome.ok or outcome.value_omitted:
        why = outcome.message or outcome.error or "no answer"
        if outcome.cause is Verdict.TIMEOUT:
            why = f"drawing inputs took over {DRAW_SECONDS:.0f} s of CPU or wall time"
        if problem.strategy:
            raise BadInput(f"{where}: {why}")
        return InputSet(reason=f"inputs could not be drawn: {why}"[:300])
    try:
        result = from_canonical(outcome.value)
    except NotPlainData:
        return InputSet(reason="the drawn inputs did not come back as plain data")
    return _input_set(result, where)


async def timing_pool(
    problem: Problem, sandbox: SandboxBackend, k: int = 3, seed_value: int = 0, pool: int = 30
) -> InputSet:
    """The ``k`` largest of ``pool`` large-bounded inputs, drawn in the sandbox: the workload
    when a problem has no benchmark tests."""
    return pool_of(await draw(problem, sandbox, pool, seed_value, large=True), k)


def pool_of(drawn: InputSet, k: int) -> InputSet:
    """The ``k`` largest of a large-bounded drawing (:func:`largest`)."""
    return drawn.model_copy(update={"args": largest(drawn.args, k)})


def draw_here(problem: Problem, n: int = 30, seed_value: int = 0, large: bool = False) -> InputSet:
    """:func:`draw`, in this process: it runs the problem's code here. For trusted problems
    (the tests' own) only."""
    from codegen.paths import keep_hypothesis_in_the_cache
    from codegen.ranking.drawing import draw_from_spec

    keep_hypothesis_in_the_cache()
    result = draw_from_spec(draw_spec(problem, n, seed_value, large))
    return _input_set(result, problem.strategy_path or "strategies.py")


def timing_here(problem: Problem, k: int = 3, seed_value: int = 0, pool: int = 30) -> InputSet:
    """:func:`timing_pool`, in this process (trusted problems only)."""
    return pool_of(draw_here(problem, pool, seed_value, large=True), k)


def _input_set(result: Any, where: str) -> InputSet:
    """The drawing program's answer, checked: it came from the sandbox."""
    if not isinstance(result, dict):
        raise BadInput(f"{where}: the drawing of inputs answered {type(result).__name__}")
    if "error" in result:
        raise BadInput(str(result["error"])[:500])
    args = result.get("args")
    if not isinstance(args, list) or not all(isinstance(a, tuple | list) for a in args):
        return InputSet(reason="the drawn inputs are not argument tuples")
    if not all(is_plain(a) for a in args):
        return InputSet(reason="a drawn input is not plain data")
    origin = result.get("origin", "none")
    if origin not in ("strategies.py", "type hints", "examples", "none"):
        origin = "none"
    return InputSet(
        args=[tuple(a) for a in args], origin=origin, reason=str(result.get("reason", ""))[:300]
    )


def largest(inputs: list[tuple[Any, ...]], k: int) -> list[tuple[Any, ...]]:
    """The ``k`` largest inputs by :func:`input_size`, preferring distinct element counts
    (hypothesis often draws near-copies of one large example)."""
    order = sorted(range(len(inputs)), key=lambda i: (input_size(inputs[i]), -i), reverse=True)
    distinct: list[int] = []
    counts: set[int] = set()
    for i in order:
        count = input_size(inputs[i])[0]
        if count not in counts:
            counts.add(count)
            distinct.append(i)
    chosen = (distinct + [i for i in order if i not in distinct])[:k]
    return [inputs[i] for i in chosen]


def input_size(value: Any) -> tuple[int, float]:
    """(number of elements, total magnitude): element count first, so longer lists win."""
    if isinstance(value, str | bytes):
        return len(value), float(len(value))
    if isinstance(value, bool) or value is None:
        return 1, 0.0
    if isinstance(value, int | float):
        return 1, abs(float(value)) if math.isfinite(value) else 0.0
    items = value.items() if isinstance(value, dict) else value
    count, magnitude = 0, 0.0
    for item in items:
        c, m = input_size(item)
        count, magnitude = count + c, magnitude + m
    return count, magnitude


def example_args(problem: Problem) -> list[tuple[Any, ...]]:
    """The argument tuples of the docstring's examples (see :mod:`codegen.problems.examples`)."""
    found = []
    for text in problem.example_args:
        try:
            value = ast.literal_eval(text)
        except PARSE_ERRORS:
            continue
        if isinstance(value, tuple) and is_plain(value):
            found.append(value)
    return found
