"""Differential-testing and timing inputs, drawn deterministically with hypothesis.

Where inputs come from, first match wins:

1. ``strategies.py`` in the problem folder. Convention: it defines ``inputs``, a hypothesis
   strategy of argument tuples (``st.tuples(st.lists(st.integers()), st.integers())``), and may
   define ``large_inputs`` the same way for timing. It is the problem author's code and runs on
   the host, like the stub's imports.
2. The entry point's type hints: one strategy per required positional parameter, built here with
   small size bounds (:data:`SMALL`) so every call stays fast; :data:`LARGE` bounds for timing.
   Types not covered below fall back to ``st.from_type``.
3. Where a parameter has no hint, the docstring's examples: values shaped like the example
   arguments (:func:`strategy_like`: same types and nesting, integers of the same sign, strings
   over the same characters), since an untyped stub's examples are its only description.

The docstring's examples also calibrate (2): generated integers stay within a few times the
largest one in an example (``fib(10)`` in a docstring means ``fib(100)`` is no fair question),
and the example arguments themselves come first, being valid inputs by definition.

Draws are seeded (``@seed``, no database, generate phase only), so the same problem and seed give
the same inputs in every process. Inputs are plain builtins (they cross into the sandbox as
JSON or pickle); a problem whose inputs are not, gets an empty :class:`InputSet` with a reason.
"""

from __future__ import annotations

import ast
import builtins
import collections.abc
import math
import types
import typing
from dataclasses import dataclass, replace
from typing import Any, Literal

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.strategies import SearchStrategy
from pydantic import BaseModel

from codegen.errors import BadInput
from codegen.paths import keep_hypothesis_in_the_cache
from codegen.problems import Problem
from codegen.problems.examples import PARSE_ERRORS
from codegen.problems.model import is_plain


@dataclass(frozen=True)
class Bounds:
    """Size bounds for generated values: container length, integer and float magnitude."""

    max_size: int
    min_size: int = 0
    max_int: int = 100
    max_float: float = 1e3
    min_int: int | None = None  # default: -max_int


SMALL = Bounds(max_size=10, max_int=100)
LARGE = Bounds(max_size=200, min_size=50, max_int=1000, max_float=1e6)


class InputSet(BaseModel):
    """Argument tuples for the entry point, or none and the reason why."""

    args: list[tuple[Any, ...]] = []
    origin: Literal["strategies.py", "type hints", "examples", "benchmark tests", "none"] = "none"
    reason: str = ""


class NoInputs(Exception):
    """Inputs cannot be generated for this problem; the message says why."""


def draw_inputs(problem: Problem, n: int = 30, seed_value: int = 0) -> InputSet:
    """Up to ``n`` distinct small inputs for differential testing."""
    return _draw(problem, n, seed_value, large=False)


def timing_inputs(problem: Problem, k: int = 3, seed_value: int = 0, pool: int = 30) -> InputSet:
    """The ``k`` largest of ``pool`` large-bounded inputs: the workload when a problem has no
    benchmark tests."""
    drawn = _draw(problem, pool, seed_value, large=True)
    return drawn.model_copy(update={"args": largest(drawn.args, k)})


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


def input_strategy(problem: Problem, large: bool = False) -> tuple[SearchStrategy, str]:
    """The strategy of argument tuples and where it came from; raises NoInputs."""
    if problem.strategy is not None:
        return _problem_strategy(problem, large), "strategies.py"
    if problem.parameters is None:
        raise NoInputs("the task has no stub, so no type hints to generate inputs from")
    examples = example_args(problem)
    namespace = _annotation_namespace(problem.stub or "")
    parts = []
    origins = set()
    for position, param in enumerate(problem.parameters):
        if param.has_default or param.kind in ("var_positional", "var_keyword"):
            continue
        if param.kind == "keyword_only":
            raise NoInputs(f"parameter {param.name} is keyword-only")
        seen = [args[position] for args in examples if len(args) > position]
        bounds = _calibrated(LARGE if large else SMALL, seen, large)
        if param.annotation is None:
            if not seen:
                raise NoInputs(f"parameter {param.name} has no type hint and no example")
            parts.append(strategy_like(seen, _same_sign(bounds, seen)))
            origins.add("examples")
            continue
        try:
            hint = eval(param.annotation, namespace)  # noqa: S307 - the stub's own annotation
        except Exception as error:
            raise NoInputs(f"cannot evaluate the type hint {param.annotation!r}: {error}") from None
        parts.append(strategy_for(hint, bounds))
        origins.add("type hints")
    return st.tuples(*parts), "examples" if "examples" in origins else "type hints"


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


def strategy_like(values: list[Any], bounds: Bounds, depth: int = 0) -> SearchStrategy:
    """Values of the same shape as ``values``: their types and nesting; integers and floats of
    the same sign; strings over the same characters; containers up to ``bounds`` in size."""
    inner = replace(bounds, max_size=max(3, math.isqrt(bounds.max_size)), min_size=0)
    sizes = bounds if depth == 0 else inner
    groups: dict[type, list[Any]] = {}
    for value in values:
        groups.setdefault(type(value), []).append(value)
    parts = []
    for kind, group in groups.items():
        if kind is type(None):
            parts.append(st.none())
        elif kind is bool:
            parts.append(st.booleans())
        elif kind is int:
            low = -bounds.max_int if bounds.min_int is None else bounds.min_int
            parts.append(st.integers(low, bounds.max_int))
        elif kind is float:
            low = 0.0 if min(group) >= 0 else -bounds.max_float
            parts.append(st.floats(low, bounds.max_float, allow_nan=False))
        elif kind is str:
            alphabet = sorted(set("".join(group)))
            chars = st.sampled_from(alphabet) if len(alphabet) > 1 else _PRINTABLE
            parts.append(st.text(chars, min_size=sizes.min_size, max_size=sizes.max_size))
        elif kind is tuple and len({len(t) for t in group}) == 1 and 0 < len(group[0]) <= 5:
            # a fixed shape, like an interval (1, 3): the same shape, position by position
            positions = zip(*group, strict=True)
            parts.append(st.tuples(*(strategy_like(list(p), bounds, depth + 1) for p in positions)))
        elif kind in (list, tuple, set, frozenset):
            items = [item for container in group for item in container]
            element = strategy_like(items, bounds, depth + 1) if items else st.integers(0, 9)
            lists = st.lists(element, min_size=sizes.min_size, max_size=sizes.max_size)
            parts.append(lists if kind is list else lists.map(kind))
        elif kind is dict:
            keys = [k for d in group for k in d] or [""]
            items = [v for d in group for v in d.values()] or [0]
            parts.append(
                st.dictionaries(
                    strategy_like(keys, bounds, depth + 1),
                    strategy_like(items, bounds, depth + 1),
                    max_size=sizes.max_size,
                )
            )
        else:
            raise NoInputs(f"an example argument is a {kind.__name__}, not plain data")
    return st.one_of(parts) if len(parts) > 1 else parts[0]


def _calibrated(bounds: Bounds, seen: list[Any], large: bool) -> Bounds:
    """A parameter's integers no larger than a few times (ten times when timing) the largest in
    its examples."""
    integers = _integers(seen)
    if not integers:
        return bounds
    largest = max(abs(n) for n in integers)
    return replace(bounds, max_int=min(bounds.max_int, max(10, largest * (10 if large else 2))))


def _same_sign(bounds: Bounds, seen: list[Any]) -> Bounds:
    """For an untyped parameter: no negative integers when no example has one (nor zero when
    none is zero), as the prose around such examples usually says "a positive integer". A type
    hint says ``int``, negatives included, so typed parameters keep them."""
    integers = _integers(seen)
    if not integers or min(integers) < 0:
        return bounds
    return replace(bounds, min_int=min(min(integers), 1))


def _integers(value: Any) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, str | bytes) or value is None or isinstance(value, float):
        return []
    items = value.items() if isinstance(value, dict) else value
    return [n for item in items for n in _integers(item)]


def strategy_for(hint: Any, bounds: Bounds, depth: int = 0) -> SearchStrategy:
    """A bounded strategy of plain data for one type hint."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    inner = replace(bounds, max_size=max(3, math.isqrt(bounds.max_size)), min_size=0)
    sizes = bounds if depth == 0 else inner

    def sub(arg: Any) -> SearchStrategy:
        return strategy_for(arg, inner, depth + 1)

    if hint is Any or hint is typing.Any:
        raise NoInputs("a parameter is typed Any")
    if hint is None or hint is type(None):
        return st.none()
    if hint is bool:
        return st.booleans()
    if hint is int:
        low = -bounds.max_int if bounds.min_int is None else bounds.min_int
        return st.integers(low, bounds.max_int)
    if hint is float:
        return st.floats(-bounds.max_float, bounds.max_float, allow_nan=False)
    if hint is str:
        return st.text(_PRINTABLE, min_size=sizes.min_size, max_size=sizes.max_size)
    if origin is typing.Union or origin is types.UnionType:
        return st.one_of([sub(arg) for arg in args])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in (list, collections.abc.Sequence, collections.abc.Iterable) or hint is list:
        element = sub(args[0]) if args else st.integers(-bounds.max_int, bounds.max_int)
        return st.lists(element, min_size=sizes.min_size, max_size=sizes.max_size)
    if origin in (set, frozenset, collections.abc.Set):
        kind = st.frozensets if origin is frozenset else st.sets
        return kind(sub(args[0]), max_size=sizes.max_size)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            lists = st.lists(sub(args[0]), min_size=sizes.min_size, max_size=sizes.max_size)
            return lists.map(tuple)
        return st.tuples(*[sub(arg) for arg in args])
    if origin in (dict, collections.abc.Mapping):
        return st.dictionaries(sub(args[0]), sub(args[1]), max_size=sizes.max_size)
    return st.from_type(hint)


_PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126)


def _draw(problem: Problem, n: int, seed_value: int, large: bool) -> InputSet:
    keep_hypothesis_in_the_cache()
    known = example_args(problem) if problem.strategy is None else []
    try:
        strategy, origin = input_strategy(problem, large)
        args = _collect(strategy, n, seed_value)
    except NoInputs as reason:
        if known:  # e.g. a parameter typed Any: the examples alone are still valid inputs
            return InputSet(args=known[:n], origin="examples", reason=str(reason))
        return InputSet(reason=str(reason))
    for value in args:
        if not is_plain(value):
            return InputSet(reason=f"generated input {value!r} is not plain data")
    unique = {repr(args): args for args in [*known, *args]}
    return InputSet(args=list(unique.values())[:n], origin=origin)


def _collect(strategy: SearchStrategy, n: int, seed_value: int) -> list[tuple[Any, ...]]:
    """Run a seeded, generate-only hypothesis loop and keep the first ``n`` distinct draws."""
    drawn: list[tuple[Any, ...]] = []
    seen: set[str] = set()

    @seed(seed_value)
    @settings(
        max_examples=2 * n,
        database=None,
        derandomize=False,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        key = repr(value)
        if len(drawn) < n and key not in seen:
            seen.add(key)
            drawn.append(value)

    try:
        collect()
    except HypothesisException as error:
        raise NoInputs(f"hypothesis could not draw inputs: {error}") from None
    for value in drawn:
        if not isinstance(value, tuple | list):
            raise NoInputs(f"the strategy drew {value!r}, not an argument tuple")
    return [tuple(value) for value in drawn]


def _problem_strategy(problem: Problem, large: bool) -> SearchStrategy:
    where = problem.strategy_path or "strategies.py"
    namespace: dict[str, Any] = {"__name__": "strategies", "__file__": where}
    try:
        exec(compile(problem.strategy or "", where, "exec"), namespace)  # noqa: S102
    except Exception as error:
        raise BadInput(f"{where}: failed to run: {type(error).__name__}: {error}") from None
    strategy = namespace.get("large_inputs") if large else None
    if strategy is None:
        strategy = namespace.get("inputs")
    if not isinstance(strategy, SearchStrategy):
        raise BadInput(
            f"{where}: must define `inputs`, a hypothesis strategy of argument tuples, "
            "e.g. inputs = st.tuples(st.lists(st.integers()))"
        )
    return strategy


def _annotation_namespace(stub: str) -> dict[str, Any]:
    """Builtins, typing and collections.abc, plus what the stub's own imports bring in.

    Only the stub's import statements run, never its other code.
    """
    namespace: dict[str, Any] = {"__builtins__": builtins}
    namespace.update({name: getattr(typing, name) for name in typing.__all__})
    namespace.update({name: getattr(collections.abc, name) for name in collections.abc.__all__})
    try:
        tree = ast.parse(stub)
    except SyntaxError:
        return namespace
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            module = ast.Module(body=[node], type_ignores=[])
            try:
                exec(compile(module, "<stub imports>", "exec"), namespace)  # noqa: S102
            except Exception:  # an import the host lacks: its names stay unknown
                continue
    return namespace
