"""Values cross from the candidate to the trusted harness as plain data only.

The candidate's process pickles its return value after converting it to builtins; the harness
unpickles with a loader that can build nothing but builtin containers and scalars. An object whose
``__eq__`` always returns True therefore cannot reach a test: either it is converted to the builtin
it subclasses, or the call fails with a clear "not plain data" error.
"""

from __future__ import annotations

import io
import math
import pickle
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
    """Unpickle bytes from an untrusted process into builtins only (runs in the harness)."""
    return _PlainUnpickler(io.BytesIO(data)).load()


def canonical(value: Any, depth: int = 0) -> Any:
    """A JSON-able form that compares equal exactly when the values behave the same, for
    clustering candidates by their outputs on the host."""
    if depth > MAX_DEPTH:
        return "<deep>"
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else {"int": str(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, (list, tuple)):
        items = [canonical(item, depth + 1) for item in value]
        return items if isinstance(value, list) else {"tuple": items}
    if isinstance(value, dict):
        pairs = sorted(
            ([canonical(k, depth + 1), canonical(v, depth + 1)] for k, v in value.items()), key=repr
        )
        return {"dict": pairs}
    if isinstance(value, (set, frozenset)):
        return {"set": sorted((canonical(item, depth + 1) for item in value), key=repr)}
    return {type(value).__name__: repr(value)}
