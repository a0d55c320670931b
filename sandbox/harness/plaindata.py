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
# one per 16 characters or bytes, one per 512 bits of an int): about 64 MB of JSON at most.
# Shared references let a few bytes of pickle describe a tree of billions of items; the
# harness must never expand one.
MAX_UNITS = 4_000_000
_FLAT_NUMBERS = {int, bool}
_FLAT_OTHERS = {float, type(None), complex, bool, range}
_CONTAINERS = {list, tuple, set, frozenset, dict}


class NotPlainData(TypeError):
    pass


def to_plain(value: Any, depth: int = 0) -> Any:
    """Convert `value` to exact builtin types, refusing anything else (runs in the candidate)."""
    if depth > MAX_DEPTH:
        raise NotPlainData("value is nested too deeply")
    kind = type(value)
    if kind in SCALARS:
        return value
    scalars: tuple[type[Any], ...] = (bool, int, float, complex, str, bytes)
    for base in scalars:  # subclasses lose their methods
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


_EXACT = {
    kind.__name__: kind
    for kind in (
        bool,
        int,
        float,
        complex,
        str,
        bytes,
        bytearray,
        list,
        tuple,
        dict,
        set,
        frozenset,
    )
}


def plain(kind: str, value: Any) -> Any:
    """``value`` itself when it is exactly of the builtin type named ``kind``: what a subclass
    of a builtin (a ``Counter``, a named tuple) becomes on its way out of the candidate, which
    pickles it as ``plain("dict", dict(counter))`` (see :mod:`wire`). Refuses anything else, so
    that naming this function in a pickle can build nothing new."""
    if _EXACT.get(kind) is not type(value):
        raise pickle.UnpicklingError(f"plain({kind!r}, …) of a {type(value).__name__}")
    return value


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        if module == __name__ and name == "plain":
            return plain
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def loads_plain(data: bytes) -> Any:
    """Unpickle bytes from an untrusted process into builtins only, no deeper than MAX_DEPTH
    and no larger than MAX_UNITS (runs in the harness)."""
    value = _PlainUnpickler(io.BytesIO(data)).load()
    check_size(value)
    return value


def check_size(value: Any) -> None:
    """Raise NotPlainData when ``value`` nests deeper than MAX_DEPTH, holds itself, or, walked
    as a tree (as ``==``, ``repr`` and the digests walk it), costs more than MAX_UNITS.

    Each distinct container is visited once, its tree size worked out from its children's
    (so a bomb of shared references is measured, not expanded), and flat containers of
    scalars are summed at C speed."""
    sizes: dict[int, tuple[int, int]] = {}  # id -> (units as a tree, height)
    open_ids: set[int] = set()
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, done = stack.pop()
        key = id(item)
        if type(item) not in _CONTAINERS or (key in sizes and not done):
            continue
        children = list(dict.items(item)) if type(item) is dict else item
        if type(item) is dict:
            children = [part for pair in children for part in pair]
        if not done:
            if key in open_ids:
                raise NotPlainData("the value contains itself")
            open_ids.add(key)
            stack.append((item, True))
            stack.extend((child, False) for child in children if type(child) in _CONTAINERS)
            continue
        open_ids.discard(key)
        units, height = 1 + len(children) + _scalar_units(children), 1
        for child in children:
            if type(child) in _CONTAINERS:
                child_units, child_height = sizes[id(child)]
                units += child_units
                height = max(height, child_height + 1)
        if height > MAX_DEPTH:
            raise NotPlainData("the value is nested too deeply")
        if units > MAX_UNITS:
            raise NotPlainData(f"the value is too large (over {MAX_UNITS:,} items as a tree)")
        sizes[key] = (units, height)
    if type(value) not in _CONTAINERS and _scalar_units([value]) > MAX_UNITS:
        raise NotPlainData(f"the value is too large (over {MAX_UNITS:,} items as a tree)")


def _scalar_units(items: Any) -> int:
    """What the scalars among ``items`` cost beyond one unit each: long text, huge ints."""
    kinds = set(map(type, items))
    if kinds <= _FLAT_OTHERS or not kinds:
        return 0
    if kinds == {str}:
        return sum(map(len, items)) >> 4
    if kinds <= _FLAT_NUMBERS:
        return sum(map(int.bit_length, items)) >> 9
    units = 0
    for item in items:
        if type(item) in (str, bytes, bytearray):
            units += len(item) >> 4
        elif type(item) is int:
            units += item.bit_length() >> 9
    return units


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
        if not loose:
            return value
        rounded = float(f"{value:.10g}") + 0.0
        return rounded if math.isfinite(rounded) else value  # 1.7976931348623157e308 rounds up
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


def from_canonical(value: Any) -> Any:
    """The plain value a :func:`canonical` form (``loose=False``) stands for: the way back
    from what a call job sends the host. A frozenset comes back as a set."""
    if isinstance(value, list):
        return [from_canonical(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise NotPlainData("not a canonical form")
    ((kind, inner),) = value.items()
    if kind == "int":
        return int(inner, 16)
    if kind == "float":
        return float(inner)
    if kind == "tuple":
        return tuple(from_canonical(item) for item in inner)
    if kind == "dict":
        return {from_canonical(k): from_canonical(v) for k, v in inner}
    if kind == "set":
        return {from_canonical(item) for item in inner}
    if kind in ("bytes", "bytearray"):
        return (bytes if kind == "bytes" else bytearray).fromhex(inner)
    if kind == "complex":
        return complex(*(from_canonical(part) for part in inner))
    if kind == "range":
        return range(*inner)
    raise NotPlainData(f"unknown canonical form {kind!r}")


def digest(value: Any, loose: bool = False) -> str:
    """A short hash of a plain value: equal exactly when the values are equal (``loose``: as in
    :func:`canonical`). The same on every machine and in every container."""
    text = json.dumps(canonical(value, loose=loose), separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def combine(digests: list[str]) -> str:
    """One digest for a sequence of them, e.g. every call of a timing round in order."""
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()[:32]
