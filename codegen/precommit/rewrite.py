"""Put a solution into the user's file in place of a stub's body, and show it as a diff. Pure.

The splicing itself is :mod:`codegen.problems.splice` (a candidate in its module's context is
tested as exactly what it writes); this module adds the diff the hook prints.
"""

from __future__ import annotations

import difflib

from codegen.problems.splice import apply, implementation_body

__all__ = ["apply", "implementation_body", "unified_diff"]


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )
