"""Values cross from the candidate to the trusted harness as plain data only.

The candidate's process pickles its return value after converting it to builtins; the harness
unpickles with a loader that can build nothing but builtin containers and scalars. An object whose
``__eq__`` always returns True therefore cannot reach a test: either it is converted to the builtin
it subclasses, or the call fails with a clear "not plain data" error.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import pickle
from itertools import repeat
from typing import Any

SCALARS = (type(None), bool, int, float, complex, str, bytes)
# Calls a pickle may make. Not bytearray: ``bytearray(10**10)`` would allocate in the harness
# (protocol 5 carries bytearrays as data anyway).
_ALLOWED_GLOBALS = {
    ("builtins", "complex"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "slice"),
    ("builtins", "range"),
}
MAX_DEPTH = 200
# A value from a candidate, walked as a tree, may cost at most this many units (one per item,
# one per 64 characters or bytes, one per 512 bits of an int). Shared references let a few
# bytes of pickle describe a tree of billions of items; the harness must never expand one.
MAX_UNITS = 8_000_000
_FLAT_NUMBERS = {int, bool}
_FLAT_OTHERS = {float, type(None), complex}


class NotPlainData(TypeError):
    pass


def to_plain(value: Any, depth: int = 0) -> Any:
    """Convert `value` to exact builtin types, refusing anything else (runs in the candidate)."""
    if depth > MAX_DEPTH:
        raise NotPlainData("value is nested too deeply")
    kind = type(value)
    if kind in SCALARS:
        return value
    for base in (bool, int, float, complex, str, bytes):  # subclasses lose their methods
        if isinstance(value, base):
            return base.__new__(base, value) if base is not bool else bool(int(value))
    if isinstance(value, bytearray):
        return bytearray(value)
    if isinstance(value, tuple):
        return tuple(to_plain(item, depth + 1) for item in tuple.__iter__(value))
    if isinstance(value, list):
        return [to_plain(item, depth + 1) for item in list.__iter__(value)]
    if isinstance(value, dict):
        return {to_plain(k, depth + 1): to_plain(v, depth + 1) for k, v in dict.items(value)}
    if isinstance(value, frozenset):
        return frozenset(to_plain(item, depth + 1) for item in frozenset.__iter__(value))
    if isinstance(value, set):
        return {to_plain(item, depth + 1) for item in set.__iter__(value)}
    if isinstance(value, range):
        return range(value.start, value.stop, value.step)
    raise NotPlainData(f"returned a {kind.__module__}.{kind.__qualname__}, which is not plain data")


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def loads_plain(data: bytes) -> Any:
    """Unpickle bytes from an untrusted process into builtins only, no deeper than MAX_DEPTH
    and no larger than MAX_UNITS (runs in the harness)."""
    value = _PlainUnpickler(io.BytesIO(data)).load()
    check_size(value)
    return value


def check_size(value: Any) -> None:
    """Raise NotPlainData when ``value`` nests deeper than MAX_DEPTH or, walked as a tree (as
    ``==``, ``repr`` and hashing walk it), costs more than MAX_UNITS. Iterative, C-speed on
    flat lists of numbers."""
    budget = MAX_UNITS
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind in (str, bytes, bytearray):
            budget -= 1 + (len(item) >> 6)
        elif kind is int:
            budget -= 1 + (item.bit_length() >> 9)
        elif kind in (list, tuple, set, frozenset, dict):
            if depth >= MAX_DEPTH:
                raise NotPlainData("the value is nested too deeply")
            items = list(dict.items(item)) if kind is dict else item
            budget -= 1 + len(items)
            if budget < 0:
                break
            kinds = set(map(type, items))
            if kinds <= _FLAT_NUMBERS:
                budget -= sum(map(int.bit_length, items)) >> 9
            elif not kinds <= _FLAT_OTHERS:
                stack.extend(zip(items, repeat(depth + 1)))
        else:
            budget -= 1
        if budget < 0:
            break
    if budget < 0:
        raise NotPlainData(f"the value is too large (over {MAX_UNITS:,} items)")


def canonical(value: Any, depth: int = 0, loose: bool = False) -> Any:
    """A JSON-able form that compares equal exactly when the values are equal (``loose``:
    floats to 10 significant digits, so that candidates computing the same number in another
    order agree), for clustering and digests on the host. Only for values that passed
    :func:`check_size`; anything else is NotPlainData, never a silent stand-in."""
    if depth > MAX_DEPTH:
        raise NotPlainData("the value is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else {"int": format(value, "x")}
    if isinstance(value, float):
        if not math.isfinite(value):
            return {"float": repr(value)}
        return float(f"{value:.10g}") + 0.0 if loose else value
    if isinstance(value, (list, tuple)):
        items = [canonical(item, depth + 1, loose) for item in value]
        return items if isinstance(value, list) else {"tuple": items}
    if isinstance(value, dict):
        pairs = ([canonical(k, depth + 1, loose), canonical(v, depth + 1, loose)]
                 for k, v in value.items())  # fmt: skip
        return {"dict": sorted(pairs, key=repr)}
    if isinstance(value, (set, frozenset)):
        return {"set": sorted((canonical(item, depth + 1, loose) for item in value), key=repr)}
    if isinstance(value, (bytes, bytearray)):
        return {type(value).__name__: value.hex()}
    if isinstance(value, complex):
        parts = (value.real, value.imag)
        return {"complex": [canonical(part, depth, loose) for part in parts]}
    if isinstance(value, range):
        return {"range": [value.start, value.stop, value.step]}
    raise NotPlainData(f"a {type(value).__name__} is not plain data")


def digest(value: Any, loose: bool = False) -> str:
    """A short hash of a plain value: equal exactly when the values are equal (``loose``: as in
    :func:`canonical`). The same on every machine and in every container."""
    text = json.dumps(canonical(value, loose=loose), separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def combine(digests: list[str]) -> str:
    """One digest for a sequence of them, e.g. every call of a timing round in order."""
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()[:32]
