"""Finding a key the config file's schema does not know, and saying it the way the user wrote it.

Pure: a TOML table (already parsed) is walked beside the pydantic models that will read it, so
that `sampels = 2`, a table `[tool.codegen.jurry]` or a stray key inside `[[tool.codegen.workers]]`
is refused with its place and the nearest known key, instead of being silently ignored.

    found = find_unknown_key(section, fields)          # None when every key is known
    found.describe(prefix=("tool", "codegen"), text=file_text)
    # "unknown key 'sampels' in [tool.codegen] (line 4); did you mean 'samples'?"
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

Place = tuple[str | int, ...]  # table names, and an index into an array of tables
TOP_LEVEL = "the top level"


@dataclass(frozen=True)
class UnknownKey:
    """A key at `place` (the tables above it) that is not among `known`."""

    place: Place
    key: str
    known: tuple[str, ...]
    is_table: bool = False  # written as its own table, `[tool.codegen.jurry]`

    @property
    def suggestion(self) -> str | None:
        close = difflib.get_close_matches(self.key, self.known, n=1, cutoff=0.6)
        return close[0] if close else None

    def describe(self, prefix: Sequence[str] = (), text: str | None = None) -> str:
        """One line: the key, its table as written in the file (with `prefix`, e.g.
        ("tool", "codegen") for pyproject.toml), its line when found, and the nearest key."""
        above = (*prefix, *self.place)
        line = key_line(text, above, self.key) if text is not None else None
        at = f" (line {line})" if line else ""
        if self.is_table and not any(isinstance(p, int) for p in above):
            name, near = table_name((*above, self.key)), self.suggestion
            hint = f"did you mean {table_name((*above, near))}?" if near else self._known()
            return f"unknown table {name}{at}; {hint}"
        table = table_name(above)
        where = (" at " if table == TOP_LEVEL else " in ") + table
        hint = f"did you mean {self.suggestion!r}?" if self.suggestion else self._known()
        return f"unknown key {self.key!r}{where}{at}; {hint}"

    def _known(self) -> str:
        return f"known keys: {', '.join(self.known)}"


def find_unknown_key(data: Mapping[str, Any], fields: Mapping[str, FieldInfo]) -> UnknownKey | None:
    """The first key of `data`, at any depth, that the schema (`fields`: name -> pydantic
    field, as in ``Model.model_fields``) does not know."""
    return _walk(data, fields, ())


def _walk(
    data: Mapping[str, Any], fields: Mapping[str, FieldInfo], place: Place
) -> UnknownKey | None:
    known = {name: field for name, field in fields.items() if not field.exclude}
    for key, value in data.items():
        if key not in known:
            return UnknownKey(place, str(key), tuple(known), isinstance(value, Mapping))
        model = _nested_model(known[key].annotation)
        if model is None:
            continue
        if isinstance(value, Mapping):
            found = _walk(value, model.model_fields, (*place, key))
        elif isinstance(value, list):
            found = next(
                (
                    hit
                    for index, item in enumerate(value)
                    if isinstance(item, Mapping)
                    and (hit := _walk(item, model.model_fields, (*place, key, index)))
                ),
                None,
            )
        else:
            found = None
        if found is not None:
            return found
    return None


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds, directly, optionally or as a list/tuple of them."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, typing.Union, types.UnionType):
        for argument in typing.get_args(annotation):
            model = _nested_model(argument)
            if model is not None:
                return model
    return None


def table_name(place: Sequence[str | int]) -> str:
    """`[tool.codegen.repair]`; `[[tool.codegen.workers]] #2` for the second of an array of
    tables; "the top level" for a file's root."""
    names = [str(p) for p in place if not isinstance(p, int)]
    if not names:
        return TOP_LEVEL
    if place and isinstance(place[-1], int):
        return f"[[{'.'.join(names)}]] #{place[-1] + 1}"
    return f"[{'.'.join(names)}]"


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def key_line(text: str, place: Sequence[str | int], key: str) -> int | None:
    """The 1-based line where `key` is written under the table at `place`: as `key = …`, as a
    dotted `key.x = …` or `table.key = …`, or as its own table header; None when not found
    (the message then goes without a line)."""
    names = [str(p) for p in place if not isinstance(p, int)]
    index = place[-1] if place and isinstance(place[-1], int) else None
    wanted = [*names, key]
    current: list[str] = []
    items = -1  # which entry of the array of tables at `place` the lines belong to
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = _dotted(header.group(2))
            items += header.group(1) == "[[" and current == names
            if index is None and current[: len(wanted)] == wanted:
                return number
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment is None:
            continue
        path = current + _dotted(assignment.group(1))
        if path[: len(wanted)] == wanted and (index is None or items == index):
            return number
    return None


def _dotted(key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in key.split(".")]
