"""Perturbed copies of a benchmark's inputs: what candidates are timed on, so that none can know
the timed input in advance (a table of answers for the benchmark's own input, or a constant
returned only for it, gains nothing).

A copy keeps what usually makes an input valid, so that it times the same work: the same types
and nesting, the same lengths, values drawn from the range and alphabet the input already uses,
a sorted list still sorted, distinct items still distinct, a small integer (a count, a flag, an
index) untouched. A few items change, the rest stay. The caller screens every copy in the sandbox
before timing it (:func:`codegen.evaluation.behaviour.screen`): a copy no candidate can answer
breaks a precondition and is dropped. Pure and deterministic for a given ``random.Random``.
"""

from __future__ import annotations

import math
import random
from typing import Any

SMALL_INT = 16  # integers this small are counts, flags or indices: they stay as they are
SHARE = 0.05  # of a sequence's items, this share (at least one) changes
ATTEMPTS = 8


def perturbed_copies(
    args: tuple[Any, ...], copies: int, rng: random.Random
) -> list[tuple[Any, ...]]:
    """Up to ``copies`` distinct copies of the argument tuple ``args``, each unlike it."""
    found: list[tuple[Any, ...]] = []
    seen = {repr(args)}
    for _ in range(copies * ATTEMPTS):
        if len(found) == copies:
            break
        copy = tuple(perturb(arg, rng) for arg in args)
        if repr(copy) not in seen:
            seen.add(repr(copy))
            found.append(copy)
    return found


def perturb(value: Any, rng: random.Random) -> Any:
    """A copy of ``value`` with a few of its items changed (see the module docstring)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return _nudge_int(value, rng)
    if isinstance(value, float):
        return value * (1 + rng.uniform(-0.02, 0.02)) if math.isfinite(value) else value
    if isinstance(value, str):
        return _change_text(value, rng)
    if isinstance(value, bytes):
        return _change_text(value.decode("latin-1"), rng).encode("latin-1")
    if isinstance(value, list | tuple):
        changed = _change_items(list(value), rng)
        return changed if isinstance(value, list) else tuple(changed)
    if isinstance(value, dict):
        keys = list(value)
        chosen = set(rng.sample(keys, _how_many(len(keys), rng))) if keys else set()
        return {k: perturb(v, rng) if k in chosen else v for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return type(value)(_change_items(sorted(value, key=repr), rng, distinct=True))
    return value


def _nudge_int(value: int, rng: random.Random) -> int:
    if abs(value) <= SMALL_INT:
        return value
    step = max(1, abs(value) // 50)
    nudged = value + rng.randint(-step, step)
    return nudged if (nudged > 0) == (value > 0) else value


def _change_text(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    alphabet = sorted(set(text))
    if len(alphabet) < 2:
        return text
    chars = list(text)
    for position in rng.sample(range(len(chars)), _how_many(len(chars), rng)):
        chars[position] = rng.choice(alphabet)
    return "".join(chars)


def _change_items(items: list[Any], rng: random.Random, distinct: bool | None = None) -> list[Any]:
    """A few items replaced by values like the others; order and distinctness kept."""
    if not items:
        return items
    numbers = [x for x in items if isinstance(x, int | float) and not isinstance(x, bool)]
    ascending = _is_sorted(items)
    descending = not ascending and _is_sorted(items[::-1])
    unique = distinct if distinct is not None else _all_distinct(items)
    changed = list(items)
    positions = rng.sample(range(len(items)), _how_many(len(items), rng))
    present = set(map(repr, items))
    for position in positions:
        old = changed[position]
        if len(numbers) == len(items) and len(items) > 1:
            new = _like_numbers(numbers, type(old), rng)
        else:
            new = perturb(old, rng)
        if unique and repr(new) in present:
            continue
        present.add(repr(new))
        changed[position] = new
    if ascending or descending:
        try:
            changed.sort(reverse=descending)
        except TypeError:
            return items
    return changed


def _like_numbers(numbers: list[Any], kind: type, rng: random.Random) -> Any:
    low, high = min(numbers), max(numbers)
    if kind is int:
        return rng.randint(int(low), int(high))
    return rng.uniform(float(low), float(high))


def _how_many(size: int, rng: random.Random) -> int:
    return min(size, max(1, round(size * SHARE * rng.uniform(0.5, 1.5))))


def _is_sorted(items: list[Any]) -> bool:
    try:
        return len(items) > 2 and all(a <= b for a, b in zip(items, items[1:], strict=False))
    except TypeError:
        return False


def _all_distinct(items: list[Any]) -> bool:
    return len(set(map(repr, items))) == len(items)
