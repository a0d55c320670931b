"""Drawing inputs with hypothesis: the program that runs *inside the sandbox*, never on the host.

A problem's input strategy (``strategies.py``), its parameter annotations and its stub's import
statements are the problem author's code: evaluating them runs it. So the host builds a
plain-data *spec* of what to draw (:func:`codegen.ranking.inputs.draw_spec`), and this module,
sent as a candidate's source, draws in a candidate process of the sandbox
(:func:`codegen.ranking.inputs.draw`), with a candidate's user, limits and no network. It is
self-contained on purpose: the standard library and hypothesis, nothing of ``codegen``.

Where inputs come from, first match wins:

1. ``strategies.py``: it defines ``inputs``, a hypothesis strategy of argument tuples
   (``st.tuples(st.lists(st.integers()), st.integers())``), and may define ``large_inputs``
   the same way for timing.
2. The entry point's type hints: one strategy per required positional parameter, with small
   size bounds (:data:`SMALL`) so every call stays fast; :data:`LARGE` bounds for timing.
   Types not covered below fall back to ``st.from_type``.
3. Where a parameter has no hint, the docstring's examples: values shaped like the example
   arguments (:func:`strategy_like`: same types and nesting, integers of the same sign,
   strings over the same characters), since an untyped stub's examples are its only
   description.

The docstring's examples also calibrate (2): generated integers stay within a few times the
largest one in an example (``fib(10)`` in a docstring means ``fib(100)`` is no fair question),
and the example arguments themselves come first, being valid inputs by definition. Draws are
seeded (``@seed``, no database, generate phase only): the same spec gives the same inputs.
"""

from __future__ import annotations

import ast
import builtins
import collections.abc
import math
import types
import typing
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.strategies import SearchStrategy

ENTRY = "draw_from_spec"  # the function the host calls


class NoInputs(Exception):
    """Inputs cannot be generated; the message says why."""


class ProblemFault(Exception):
    """The problem's own code is broken (its strategies.py); the message names the fix."""


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


def strategy_like(values: list[Any], bounds: Bounds, depth: int = 0) -> SearchStrategy:
    """Values of the same shape as ``values``: their types and nesting; integers and floats of
    the same sign; strings over the same characters; containers up to ``bounds`` in size."""
    inner = replace(bounds, max_size=max(3, math.isqrt(bounds.max_size)), min_size=0)
    sizes = bounds if depth == 0 else inner
    groups: dict[type, list[Any]] = {}
    for value in values:
        groups.setdefault(type(value), []).append(value)
    parts: list[SearchStrategy[Any]] = []
    for kind, group in groups.items():
        if kind is type(None):
            parts.append(st.none())
        elif kind is bool:
            parts.append(st.booleans())
        elif kind is int:
            low = -bounds.max_int if bounds.min_int is None else bounds.min_int
            parts.append(st.integers(low, bounds.max_int))
        elif kind is float:
            floor = 0.0 if min(group) >= 0 else -bounds.max_float
            parts.append(st.floats(floor, bounds.max_float, allow_nan=False))
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


def draw_from_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """What the host asks for: ``{"args": [...], "origin": ..., "reason": ...}``, or
    ``{"error": ...}`` when the problem's strategies.py is broken."""
    try:
        args, origin, reason = _draw(spec)
    except ProblemFault as fault:
        return {"error": str(fault)}
    return {"args": args, "origin": origin, "reason": reason}


def _draw(spec: dict[str, Any]) -> tuple[list[tuple[Any, ...]], str, str]:
    n, large = int(spec["n"]), bool(spec["large"])
    known = [tuple(args) for args in spec["examples"]] if not spec.get("strategy") else []
    try:
        strategy, origin = _input_strategy(spec, large)
        drawn = _collect(strategy, n, int(spec["seed"]))
    except NoInputs as reason:
        if known:  # e.g. a parameter typed Any: the examples alone are still valid inputs
            return known[:n], "examples", str(reason)
        return [], "none", str(reason)
    for value in drawn:
        if not _is_plain(value):
            return [], "none", f"generated input {value!r} is not plain data"[:300]
    unique = {repr(args): args for args in [*known, *drawn]}
    return list(unique.values())[:n], origin, ""


def _input_strategy(spec: dict[str, Any], large: bool) -> tuple[SearchStrategy[Any], str]:
    if spec.get("strategy"):
        return _problem_strategy(spec, large), "strategies.py"
    parameters = spec.get("parameters")
    if parameters is None:
        raise NoInputs("the task has no stub, so no type hints to generate inputs from")
    examples = [tuple(args) for args in spec["examples"]]
    namespace = _annotation_namespace(spec.get("stub") or "")
    parts = []
    origins = set()
    for position, param in enumerate(parameters):
        if param["has_default"] or param["kind"] in ("var_positional", "var_keyword"):
            continue
        if param["kind"] == "keyword_only":
            raise NoInputs(f"parameter {param['name']} is keyword-only")
        seen = [args[position] for args in examples if len(args) > position]
        bounds = _calibrated(LARGE if large else SMALL, seen, large)
        if param["annotation"] is None:
            if not seen:
                raise NoInputs(f"parameter {param['name']} has no type hint and no example")
            parts.append(strategy_like(seen, _same_sign(bounds, seen)))
            origins.add("examples")
            continue
        try:
            hint = eval(param["annotation"], namespace)  # noqa: S307 - in the sandbox
        except Exception as error:
            raise NoInputs(
                f"cannot evaluate the type hint {param['annotation']!r}: {error}"
            ) from None
        parts.append(strategy_for(hint, bounds))
        origins.add("type hints")
    return st.tuples(*parts), "examples" if "examples" in origins else "type hints"


def _problem_strategy(spec: dict[str, Any], large: bool) -> SearchStrategy[Any]:
    where = spec.get("strategy_path") or "strategies.py"
    namespace: dict[str, Any] = {"__name__": "strategies", "__file__": where}
    try:
        exec(compile(spec["strategy"], where, "exec"), namespace)  # noqa: S102 - in the sandbox
    except Exception as error:
        raise ProblemFault(f"{where}: failed to run: {type(error).__name__}: {error}") from None
    strategy = namespace.get("large_inputs") if large else None
    if strategy is None:
        strategy = namespace.get("inputs")
    if not isinstance(strategy, SearchStrategy):
        raise ProblemFault(
            f"{where}: must define `inputs`, a hypothesis strategy of argument tuples, "
            "e.g. inputs = st.tuples(st.lists(st.integers()))"
        )
    return strategy


def _annotation_namespace(stub: str) -> dict[str, Any]:
    """Builtins, typing and collections.abc, plus what the stub's own imports bring in: only
    its import statements run, never its other code."""
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
            except Exception:  # an import the sandbox lacks: its names stay unknown
                continue
    return namespace


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return True
    if isinstance(value, list | tuple | set | frozenset):
        return all(_is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_is_plain(k) and _is_plain(v) for k, v in value.items())
    return False


class _Enough(Exception):
    """Ends a drawing once it holds ``n`` distinct values: the rest of the run adds none."""


def _collect(strategy: SearchStrategy, n: int, seed_value: int) -> list[tuple[Any, ...]]:
    """Run a seeded, generate-only hypothesis loop and keep the first ``n`` distinct draws;
    it stops as soon as it has them (the draws up to there are the same as without stopping:
    the same seed, settings and sequence)."""
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
        report_multiple_bugs=False,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        if len(drawn) >= n:  # hypothesis replays the example that stopped it
            raise _Enough
        key = repr(value)
        if key not in seen:
            seen.add(key)
            drawn.append(value)
        if len(drawn) >= n:
            raise _Enough

    try:
        collect()
    except _Enough:
        pass
    except HypothesisException as error:
        raise NoInputs(f"hypothesis could not draw inputs: {error}") from None
    for value in drawn:
        if not isinstance(value, tuple | list):
            raise NoInputs(f"the strategy drew {value!r}, not an argument tuple")
    return [tuple(value) for value in drawn]
