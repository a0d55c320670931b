"""How a call crosses between the trusted harness and a candidate process, with the semantics
of a plain call in one process (what ``pytest`` on the candidate's module would see):

- **Identity and mutation.** The caller's mutable objects (lists, dicts, sets, bytearrays,
  deques, at any depth, positional or keyword) travel in a *table* pickled with the arguments,
  so the candidate's copies share exactly the caller's aliasing. The answer carries the table
  back: what the candidate did to each object is applied to the caller's own object in place,
  and an answer that *is* (or holds) one of them holds the caller's object, so ``f(xs) is xs``
  and a mutated keyword argument read as they would in one process.
- **Plain data only.** The harness unpickles answers with a loader that can build nothing but
  builtin scalars and containers (:mod:`plaindata`): an object whose ``__eq__`` always returns
  True cannot reach an assertion. In the candidate, subclasses of builtins (``Counter``, a
  named tuple, an ``int`` subclass) are turned into their builtin base while pickling, at C
  speed: nothing slow or trusted runs in the candidate's process, which pays for it.
- **Exceptions** come back as their type (builtin types exactly; a class of the candidate's as
  a class of the same name deriving from the same builtin, one per name) with their arguments,
  so ``pytest.raises(ValueError, match=...)`` and ``str(error)`` read as in one process.

Captured output is the harness's business (:mod:`processes`): the candidate flushes its streams
before each answer, and the harness writes what it printed during the call to its own
``sys.stdout``/``sys.stderr``, where ``capsys`` sees it.
"""

from __future__ import annotations

import builtins
import collections
import io
import pickle
from typing import Any

from . import plaindata

PROTOCOL = pickle.HIGHEST_PROTOCOL
# Objects whose changes the caller sees, and how a changed one is written back in place.
MUTABLE = (list, dict, set, bytearray, collections.deque)
_CONTAINERS = (list, tuple, dict, set, frozenset, collections.deque)


# -- the harness's side ---------------------------------------------------------------------
def pack_call(name: str, args: tuple, kwargs: dict) -> tuple[bytes, list]:
    """The request bytes and the table of the caller's mutable objects they carry.
    Raises TypeError for arguments that cannot cross (a lambda, an open file)."""
    table = mutable_parts([*args, *kwargs.values()])
    try:
        body = pickle.dumps((name, args, kwargs, table), PROTOCOL)
    except Exception as error:
        raise TypeError(f"cannot send the arguments to the candidate: {error}") from None
    return body, table


def mutable_parts(roots: list) -> list:
    """Every distinct mutable object among ``roots`` or reachable from them through
    containers, in a fixed (depth-first) order."""
    found: list = []
    seen: set[int] = set()
    stack = list(reversed(roots))
    while stack:
        item = stack.pop()
        if not isinstance(item, _CONTAINERS) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, MUTABLE):
            found.append(item)
        if isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif not isinstance(item, set | frozenset):  # set members cannot be mutable
            stack.extend(reversed(list(item)))
    return found


class AnswerError(Exception):
    """The candidate's answer is malformed (it is not what the protocol sends)."""


def settle(answer: tuple, table: list) -> Any:
    """Apply an ``("ok", value, table)`` answer: write the candidate's changes back into the
    caller's objects and return the value, holding the caller's objects where the candidate
    returned them."""
    _, value, returned = answer
    if not isinstance(returned, list) or len(returned) != len(table):
        raise AnswerError("the answer does not carry the arguments back")
    originals = {}
    for mine, theirs in zip(table, returned, strict=True):
        if not _same_kind(mine, theirs):
            raise AnswerError("the answer changed the type of an argument")
        originals[id(theirs)] = mine
    if not originals:
        return value
    swap = _Swapper(originals)
    for mine, theirs in zip(table, returned, strict=True):
        _write_back(mine, theirs, swap)
    return swap(value)


def _same_kind(mine: Any, theirs: Any) -> bool:
    if isinstance(mine, collections.deque):
        return type(theirs) is list  # a deque comes back as a list (plain data)
    for kind in (list, dict, set, bytearray):
        if isinstance(mine, kind):
            return type(theirs) is kind
    return False


def _write_back(mine: Any, theirs: Any, swap: _Swapper) -> None:
    if isinstance(mine, bytearray):
        mine[:] = theirs
    elif isinstance(mine, list):
        mine[:] = [swap(item) for item in theirs]
    elif isinstance(mine, collections.deque):
        mine.clear()
        mine.extend(swap(item) for item in theirs)
    elif isinstance(mine, dict):
        new = {key: swap(item) for key, item in theirs.items()}
        mine.clear()
        mine.update(new)
    else:  # a set: its members are hashable, hence never one of the table's objects
        mine.clear()
        mine.update(theirs)


class _Swapper:
    """Replaces, inside a value from the candidate, every object that stands for one of the
    caller's by the caller's own object. Containers without such objects are returned as they
    are (a flat list is checked at C speed)."""

    def __init__(self, originals: dict[int, Any]) -> None:
        self.originals = originals
        self.done: dict[int, Any] = {}

    def __call__(self, value: Any) -> Any:
        kind = type(value)
        if kind not in (list, tuple, dict):
            return self.originals.get(id(value), value) if kind in (set, bytearray) else value
        key = id(value)
        if key in self.originals:
            return self.originals[key]
        if key in self.done:
            return self.done[key]
        items = list(value.values()) if kind is dict else value
        if not any(type(item) in (list, tuple, dict, set, bytearray) for item in items):
            self.done[key] = value
            return value
        if kind is list:
            self.done[key] = value
            value[:] = [self(item) for item in value]
            return value
        if kind is dict:
            self.done[key] = value
            for name, item in list(value.items()):
                value[name] = self(item)
            return value
        rebuilt = tuple(self(item) for item in value)
        self.done[key] = rebuilt
        return rebuilt


def exception_from(answer: tuple, classes: dict[str, type]) -> BaseException:
    """The exception a ``("raise", builtin bases, args, text, name, …)`` answer stands for: the
    builtin type itself, or for a class of the candidate's, one of that name (``classes``
    keeps them, so that ``pytest.raises(solution.MyError)`` matches)."""
    bases, args, text, name = answer[1:5]
    cls = exception_class(name, bases, classes) if name else _builtin_exception(bases)
    if cls is CandidateRaised:
        return CandidateRaised(f"{name or (bases or ['?'])[0]}: {text}")
    for attempt in (args, (text,)):
        try:
            return cls(*attempt) if isinstance(attempt, tuple) else cls(text)
        except Exception:
            continue
    return CandidateRaised(text)


class CandidateRaised(Exception):
    """Stands for an exception the harness cannot rebuild."""


_BUILTIN_EXCEPTIONS = {
    name: value
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}
# Exceptions the harness must not raise on a candidate's behalf (they would stop pytest or
# the harness itself rather than fail a test): they arrive as the nearest plain Exception.
_NOT_REBUILT = {"BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"}


def _builtin_exception(bases: Any) -> type[BaseException]:
    for name in bases if isinstance(bases, list) else []:
        cls = _BUILTIN_EXCEPTIONS.get(name)
        if cls is not None and name not in _NOT_REBUILT:
            return cls
    return CandidateRaised


def exception_class(name: str, bases: list[str], classes: dict[str, type]) -> type:
    """The harness's stand-in for the candidate's exception class ``name`` (kept in
    ``classes``), for tests that import it from ``solution``."""
    base = _builtin_exception(bases)
    cls = classes.get(name)
    if cls is None or not issubclass(cls, base):
        cls = classes[name] = type(name, (base,), {"__module__": "solution"})
    return cls


def read_answer(body: bytes) -> tuple:
    """An answer from the candidate, as plain data (:func:`plaindata.loads_plain`)."""
    answer = plaindata.loads_plain(body)
    if not isinstance(answer, tuple) or not answer or not isinstance(answer[0], str):
        raise AnswerError("the candidate sent a malformed answer")
    return answer


# -- the candidate's side -------------------------------------------------------------------
def unpack_call(body: bytes) -> tuple[Any, ...]:  # (name, args, kwargs, table) or ("get", name)
    return pickle.loads(body)


class _PlainPickler(pickle.Pickler):
    """Pickles builtin values as they are (the C pickler's own paths); anything else reaches
    :meth:`reducer_override`, which turns a subclass of a builtin into that builtin (pickled as
    ``plaindata.plain(kind, value)``) and refuses the rest."""

    def reducer_override(self, value: Any) -> Any:
        kind = type(value)
        if kind in (complex, range, slice) or value is plaindata.plain:
            return NotImplemented  # by reference to a builtin or to plain(), as the loader allows
        if kind is collections.deque:
            return plaindata.plain, ("list", list(value))
        scalars: tuple[type[Any], ...] = (bool, int, float, complex, str, bytes)
        for base in scalars:
            if isinstance(value, base):
                exact: Any = base.__new__(base, value) if base is not bool else bool(int(value))
                return plaindata.plain, (base.__name__, exact)
        containers: tuple[type[Any], ...] = (list, tuple, dict, set, frozenset, bytearray)
        for base in containers:
            if isinstance(value, base):
                if base is dict:
                    exact = dict(dict.items(value))
                elif base is bytearray:
                    exact = bytearray(value)
                else:
                    exact = base(base.__iter__(value))
                return plaindata.plain, (base.__name__, exact)
        raise plaindata.NotPlainData(
            f"returned a {kind.__module__}.{kind.__qualname__}, which is not plain data"
        )


def pack_answer(answer: tuple) -> bytes:
    """The answer's bytes. Raises NotPlainData when it holds a value that is not plain data
    (or nests too deeply to pickle); ``("memory",)`` when pickling runs out of memory."""
    try:
        buffer = io.BytesIO()
        _PlainPickler(buffer, PROTOCOL).dump(answer)
        return buffer.getvalue()
    except MemoryError:
        return pickle.dumps(("memory",), PROTOCOL)
    except RecursionError:
        raise plaindata.NotPlainData("returned a value nested too deeply") from None
    except plaindata.NotPlainData:
        raise
    except Exception as error:
        raise plaindata.NotPlainData(f"returned a value that cannot be sent: {error}") from None


def describe_exception(error: BaseException) -> tuple:
    """``("raise", builtin bases, args, text, name)`` for an exception the candidate raised;
    ``name`` is empty for a builtin type. Arguments that are not plain data are left out (the
    text stands for them)."""
    kind = type(error)
    bases = [cls.__name__ for cls in kind.__mro__ if cls.__module__ == "builtins"]
    try:
        text = str(error)[:2000]
    except Exception:
        text = "<unprintable>"
    args = error.args if type(error.args) is tuple else ()
    name = kind.__name__ if kind.__module__ != "builtins" else ""
    return ("raise", bases, args, text, name)
