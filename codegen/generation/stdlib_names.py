"""Which standard-library import binds a name: for star imports made explicit and for the
imports a model forgot (`defaultdict` without `from collections import defaultdict`).

Only standard-library modules are ever imported here, to read their public names; a few with
side effects at import (a browser, a poem, a window) are never touched.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import sys

# Modules whose import does something, or needs a display.
_NEVER = frozenset({"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo"})

# Where a forgotten bare name is looked up, in this order: collections before typing (whose
# `Counter` is only an alias), typing before anything else (`Iterable` and friends are
# annotations far more often than base classes).
FORGOTTEN_FROM = (
    "collections", "typing", "itertools", "functools", "math", "heapq", "bisect", "string",
    "dataclasses", "fractions", "decimal", "operator",
)  # fmt: skip

# Modules a model uses as `name.attr` and forgets to import.
FORGOTTEN_MODULES = frozenset({
    "array", "bisect", "collections", "copy", "datetime", "decimal", "fractions", "functools",
    "hashlib", "heapq", "itertools", "json", "math", "operator", "random", "re", "statistics",
    "string", "sys", "time", "typing", "unicodedata",
})  # fmt: skip


def is_stdlib(module: str) -> bool:
    top = module.split(".")[0]
    return top in sys.stdlib_module_names and top not in _NEVER


@functools.cache
def public_names(module: str) -> frozenset[str]:
    """What `from module import *` binds; empty for anything not in the standard library."""
    if not is_stdlib(module):
        return frozenset()
    try:
        loaded = importlib.import_module(module)
    except Exception:  # a module this platform lacks (winreg, …)
        return frozenset()
    exported = getattr(loaded, "__all__", None)
    if exported is None:
        exported = [n for n in vars(loaded) if not n.startswith("_")]
    return frozenset(n for n in exported if isinstance(n, str))


def forgotten_import(name: str) -> str | None:
    """The import statement that most likely binds `name`, or None: a standard module used
    by its own name, else the first module of :data:`FORGOTTEN_FROM` that exports it. Builtins
    and one-letter names are never guessed."""
    if len(name) < 2 or hasattr(builtins, name):
        return None
    if name in FORGOTTEN_MODULES:
        return f"import {name}"
    for module in FORGOTTEN_FROM:
        if name in public_names(module):
            return f"from {module} import {name}"
    return None
