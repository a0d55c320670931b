"""Inputs mutated from the docstring's own examples: near misses of what the author showed.

Random inputs rarely land where a rule bites: two pairs in one list for "the smallest i", a
zero among digits, the boundary a sentence names. The examples already sit near those places,
so small type-aware edits of them do too, and a candidate that breaks a rule the examples state
(or a bug several candidates share with one that does not) then behaves differently from the
others on the differential inputs.

Each example argument is edited on its own, by type:

- **int**: off by one, the bounds the text names (``1 <= n <= 50``, "positive", "between 1 and
  100") and the small numbers it mentions, zero and one, the sign (only when the examples or the
  text allow negatives); digit edits (append, drop, reverse, a zero or an odd digit) when the
  text speaks of digits. Values stay near the examples' magnitude: ``fib(10)`` does not ask
  ``fib(100)``.
- **float**: off by a half and by one, the sign, rounded, zero.
- **str**: one character dropped, doubled or swapped; reversed; case swapped; a word dropped
  or doubled; a digit changed in a numeric string; empty when the text speaks of empty input.
- **list / tuple / set**: an element dropped, doubled (the same value twice is where "the
  first" rules bite), two swapped, reversed, sorted, one element edited as above, one or zero
  elements (when the text names such lengths or an example is that short).
- **dict**: a key dropped, a value edited.

A bound the text names is applied only to the argument positions whose examples all respect it
(``1 <= len(arr) <= 100`` bounds lengths, not values). Pure and deterministic: the same examples,
text and seed give the same inputs, in the same order.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

Args = tuple[Any, ...]
Edit = Callable[[Any], Iterator[Any]]

DEFAULT_LIMIT = 20  # mutated inputs per problem: beside 30 drawn ones, calls stay cheap
MAX_NAMED = 1000  # a number the text names above this is a size, not a boundary to call with
MAX_GROWTH = 2  # ints grow by at most this above the largest example (recursion is common)
MAX_EXTRA_LENGTH = 2  # containers and strings grow by at most this many items
MAX_TEXT = 20_000  # the prompt's characters read for hints: bounds are stated early

_NUMBER = r"-?\d+(?:\.\d+)?"
_BOUND_TARGET = r"[\w\[\]().]{1,40}"  # bounded: a long word costs no more than a short one
_CHAIN = re.compile(
    rf"(?P<low>{_NUMBER})\s*(?P<lop><=|<|≤)\s*(?P<what>{_BOUND_TARGET})\s*(?P<hop><=|<|≤)\s*"
    rf"(?P<high>{_NUMBER})"
)
_ONE_SIDED = re.compile(rf"(?P<what>{_BOUND_TARGET})\s*(?P<op>>=|<=|>|<|≥|≤)\s*(?P<n>{_NUMBER})")
_BETWEEN = re.compile(rf"\bbetween\s+(?P<low>{_NUMBER})\s+and\s+(?P<high>{_NUMBER})", re.I)
_RANGE = re.compile(
    rf"\brange\s+(?:of\s+)?\[\s*(?P<low>{_NUMBER})\s*,\s*(?P<high>{_NUMBER})\s*\]", re.I
)
_INTEGER = re.compile(r"(?<![\w.])-?\d+(?![\w.])")


@dataclass(frozen=True)
class Range:
    """Inclusive bounds on a value or a length; None is unbounded."""

    low: float | None = None
    high: float | None = None

    def holds(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def meet(self, other: Range) -> Range:
        lows = [x for x in (self.low, other.low) if x is not None]
        highs = [x for x in (self.high, other.high) if x is not None]
        return Range(max(lows) if lows else None, min(highs) if highs else None)


@dataclass(frozen=True)
class TextHints:
    """What the prompt's prose says about the inputs, read with a few patterns."""

    values: tuple[Range, ...] = ()  # bounds on some numeric argument
    lengths: tuple[Range, ...] = ()  # bounds on some argument's length
    named: tuple[int, ...] = ()  # small integers the text mentions
    negatives: bool = False  # it speaks of negative numbers (as allowed)
    positive: bool = False  # "positive" (and not "non-positive")
    non_negative: bool = False
    digits: bool = False
    empty: bool = False
    case: bool = False  # upper/lower case matters


def read_hints(text: str) -> TextHints:
    """The bounds, numbers and words in ``text`` that shape the mutations."""
    text = text[:MAX_TEXT]
    values: list[Range] = []
    lengths: list[Range] = []
    chained: list[tuple[int, int]] = []
    for match in _CHAIN.finditer(text):
        chained.append(match.span())
        low, high = float(match["low"]), float(match["high"])
        low += 1 if match["lop"] == "<" else 0
        high -= 1 if match["hop"] == "<" else 0
        (lengths if _is_length(match["what"]) else values).append(Range(low, high))
    for match in _ONE_SIDED.finditer(text):
        if any(start < match.end() and match.start() < end for start, end in chained):
            continue  # part of a chain, read above
        n, op = float(match["n"]), match["op"]
        bound = {
            ">=": Range(n, None), "≥": Range(n, None), ">": Range(n + 1, None),
            "<=": Range(None, n), "≤": Range(None, n), "<": Range(None, n - 1),
        }[op]  # fmt: skip
        (lengths if _is_length(match["what"]) else values).append(bound)
    for match in [*_BETWEEN.finditer(text), *_RANGE.finditer(text)]:
        before = text[max(0, match.start() - 60) : match.start()].lower()
        bound = Range(float(match["low"]), float(match["high"]))
        (lengths if "length" in before or "size" in before else values).append(bound)
    lower = text.lower()
    named = sorted({int(m) for m in _INTEGER.findall(text) if abs(int(m)) <= MAX_NAMED})
    return TextHints(
        values=tuple(values),
        lengths=tuple(lengths),
        named=tuple(named),
        negatives=bool(re.search(r"(?<!non-)\bnegative", lower)),
        positive=bool(re.search(r"(?<!non-)(?<!non )\bpositive", lower)),
        non_negative=bool(re.search(r"non-?\s?negative", lower)),
        digits="digit" in lower,
        empty="empty" in lower,
        case=bool(re.search(r"\b(upper|lower)\s*-?\s*case|\bcapital", lower)),
    )


def _is_length(what: str) -> bool:
    return "len" in what.lower() or "size" in what.lower()


@dataclass(frozen=True)
class Position:
    """What the examples and the text say about one argument position."""

    ints: Range  # where its integers may go
    length: Range  # how long it may be (strings and containers)
    negatives: bool  # negative numbers are fair
    max_int: int  # the largest magnitude an int may take
    alphabet: str  # the characters its strings use
    hints: TextHints


def mutate_examples(
    examples: Sequence[Sequence[Any]],
    text: str,
    *,
    limit: int = DEFAULT_LIMIT,
    seed: int = 0,
) -> list[Args]:
    """Up to ``limit`` distinct argument tuples, each an example with one argument edited (see
    the module docstring); never an example itself. Deterministic for a seed."""
    examples = [tuple(e) for e in examples if isinstance(e, tuple | list)]
    if not examples or limit <= 0:
        return []
    hints = read_hints(text)
    groups: list[list[Args]] = []
    for example in examples:
        for index, value in enumerate(example):
            column = [e[index] for e in examples if len(e) == len(example)]
            position = _position(column, hints)
            edits = _dedupe(
                (*example[:index], new, *example[index + 1 :]) for new in _edits(value, position)
            )
            groups.append(edits)
    rng = random.Random(seed)
    for group in groups:
        head, tail = group[:3], group[3:]  # the first edits of each kind are the telling ones
        rng.shuffle(tail)
        group[:] = head + tail
    seen = {repr(e) for e in examples}
    chosen: list[Args] = []
    order = list(range(len(groups)))
    rng.shuffle(order)
    while len(chosen) < limit and any(groups):
        for g in order:
            if groups[g] and len(chosen) < limit:
                args = groups[g].pop(0)
                key = repr(args)
                if key not in seen:
                    seen.add(key)
                    chosen.append(args)
    return chosen


def _position(column: Sequence[Any], hints: TextHints) -> Position:
    ints = _integers(column)
    lengths = [len(v) for v in column if isinstance(v, str | list | tuple | set | frozenset | dict)]
    negatives = any(n < 0 for n in ints) or hints.negatives
    named = Range()
    for candidate in hints.values:  # a bound that every example's integers respect
        if ints and all(candidate.holds(n) for n in ints):
            named = named.meet(candidate)
    if hints.positive and ints and min(ints) > 0:
        named = named.meet(Range(1, None))
    if hints.non_negative and ints and min(ints) >= 0:
        named = named.meet(Range(0, None))
    bound = named
    if not negatives and ints and min(ints) >= 0:
        bound = bound.meet(Range(0, None))
    free = hints.digits or hints.negatives  # the text invites other magnitudes or signs
    if ints and named.low is None and not free and all(_is_int(v) for v in column):
        # a number argument goes one below the smallest example unless the text names a lower
        # bound, digits or signs: fib(0) is no fair question when every example starts at 1
        bound = bound.meet(Range(min(ints) - 1, None))
    length = Range(0, None)
    for candidate in hints.lengths:
        if lengths and all(candidate.holds(n) for n in lengths):
            length = length.meet(candidate)
    if lengths and not hints.empty and min(lengths) > 0:
        length = length.meet(Range(1, None))
    if lengths:
        length = length.meet(Range(None, max(lengths) + MAX_EXTRA_LENGTH))
    if all(isinstance(v, tuple) for v in column) and len(set(lengths)) == 1:
        length = Range(lengths[0], lengths[0])  # a fixed shape, like an interval (1, 3)
    largest = max((abs(n) for n in ints), default=0)
    chars = sorted({c for v in column for c in _strings(v)})
    return Position(
        ints=bound,
        length=length,
        negatives=negatives,
        max_int=largest + MAX_GROWTH if not hints.digits else largest * 10 + 9,
        alphabet="".join(chars),
        hints=hints,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _integers(values: Any) -> list[int]:
    if isinstance(values, bool):
        return []
    if isinstance(values, int):
        return [values]
    if isinstance(values, list | tuple | set | frozenset):
        return [n for v in values for n in _integers(v)]
    if isinstance(values, dict):
        return [n for v in values.values() for n in _integers(v)]
    return []


def _strings(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return "".join(_strings(v) for v in value)
    if isinstance(value, dict):
        return "".join(_strings(v) for v in (*value.keys(), *value.values()))
    return ""


def _edits(value: Any, where: Position, depth: int = 0) -> Iterator[Any]:
    """Every edit of ``value`` that stays within ``where``, most telling first."""
    if value is None:
        return
    if isinstance(value, bool):
        yield not value
    elif isinstance(value, int):
        yield from _int_edits(value, where)
    elif isinstance(value, float):
        yield from _float_edits(value, where)
    elif isinstance(value, str):
        yield from _fits(_str_edits(value, where), where)
    elif isinstance(value, list | tuple):
        yield from _fits(_sequence_edits(value, where, depth), where)
    elif isinstance(value, set | frozenset):
        ordered = sorted(value, key=repr)
        yield from (type(value)(v) for v in _fits(_sequence_edits(ordered, where, depth), where))
    elif isinstance(value, dict):
        yield from _fits(_dict_edits(value, where, depth), where)


def _fits(values: Iterator[Any], where: Position) -> Iterator[Any]:
    for value in values:
        if where.length.holds(len(value)):
            yield value


def _int_edits(n: int, where: Position) -> Iterator[int]:
    hints = where.hints
    found = [n + 1, n - 1]
    found += [int(b) for b in (where.ints.low, where.ints.high) if b is not None]
    found += [0, 1, 2]
    if where.negatives:
        found += [-n, -1]
    if hints.digits:
        found += _digit_edits(n)
    found += [m + d for m in hints.named for d in (0, -1, 1)]
    found += [n + 2, n - 2, n * 2]
    for value in found:
        if (
            value != n
            and where.ints.holds(value)
            and abs(value) <= max(where.max_int, 2)
            and (where.negatives or value >= 0)
        ):
            yield value


def _digit_edits(n: int) -> list[int]:
    sign, digits = (-1 if n < 0 else 1), str(abs(n))
    edits = [digits + digits[-1], digits[:-1] or "0", digits[::-1], digits + "0"]
    if len(digits) > 1:
        edits += [digits[0] + "0" + digits[1:], digits.replace(digits[-1], "1")]
    edits += [digits[:-1] + str((int(digits[-1]) + 1) % 10)]
    return [sign * int(d) for d in edits]


def _float_edits(x: float, where: Position) -> Iterator[float]:
    if not math.isfinite(x):
        return
    found = [x + 0.5, x - 0.5, x + 1.0, float(round(x)), 0.0, x * 2]
    if where.negatives:
        found.append(-x)
    for value in found:
        fair = math.isfinite(value) and (where.negatives or value >= 0)
        if value != x and fair and where.ints.holds(value):
            yield value


def _str_edits(s: str, where: Position) -> Iterator[str]:
    if len(s) > 1:
        yield s[:-1]  # one shorter
        yield s[1:]
    if s:
        middle = len(s) // 2
        yield s[:middle] + s[middle] + s[middle:]  # a character doubled
    if len(s) > 1:
        yield s[1] + s[0] + s[2:]  # two swapped
        yield s[::-1]
    if any(c.isalpha() for c in s):
        yield s.swapcase()
        if where.hints.case:
            yield s.upper()
            yield s.lower()
    words = s.split(" ")
    if len(words) > 1:
        yield " ".join(words[1:])
        yield " ".join([words[0], *words])
        yield "  ".join(words)
    if s.isdigit():
        yield from (str(d) for d in _digit_edits(int(s)) if d >= 0)
    for char in where.alphabet[:3]:
        yield s + char
    yield ""


def _sequence_edits(
    items: list[Any] | tuple[Any, ...], where: Position, depth: int
) -> Iterator[Any]:
    kind = type(items)
    seq = list(items)
    if len(seq) > 1:
        yield kind(seq[:-1])
        yield kind(seq[1:])
    if seq:
        yield kind(seq + [seq[-1]])  # the last one twice
        yield kind([seq[0], *seq])  # the first one twice
    if len(seq) > 1:
        yield kind([seq[1], seq[0], *seq[2:]])
        yield kind(seq[::-1])
        try:
            yield kind(sorted(seq))
            yield kind(sorted(seq, reverse=True))
        except TypeError:
            pass
    if depth < 2:
        for index in _spread(len(seq)):
            inner = _element_position(seq, where)
            for new in _take(_edits(seq[index], inner, depth + 1), 3):
                yield kind([*seq[:index], new, *seq[index + 1 :]])
    if seq:
        yield kind(seq[:1])
        yield kind(seq + seq)  # every value twice: each "first" rule is exercised
    yield kind([])


def _element_position(seq: list[Any], where: Position) -> Position:
    """The elements' own position: their integers, alphabet and the text's value bounds."""
    ints = _integers(seq)
    bound = Range()
    for candidate in where.hints.values:
        if ints and all(candidate.holds(n) for n in ints):
            bound = bound.meet(candidate)
    if ints and min(ints) >= 0 and not where.negatives:
        bound = bound.meet(Range(0, None))
    lengths = [len(v) for v in seq if isinstance(v, str | list | tuple)]
    length = Range(1 if lengths and min(lengths) > 0 else 0, max(lengths, default=0) + 1)
    return Position(
        ints=bound,
        length=length,
        negatives=where.negatives,
        max_int=where.max_int,
        alphabet=where.alphabet,
        hints=where.hints,
    )


def _dict_edits(d: dict[Any, Any], where: Position, depth: int) -> Iterator[dict[Any, Any]]:
    keys = list(d)
    if keys:
        yield {k: v for k, v in d.items() if k != keys[-1]}
        yield {k: v for k, v in d.items() if k != keys[0]}
    if depth < 2:
        for key in keys[:3]:
            for new in _take(_edits(d[key], where, depth + 1), 2):
                yield {**d, key: new}
    if where.hints.empty:
        yield {}


def _spread(count: int) -> list[int]:
    """A few indices across a sequence: first, middle, last."""
    return sorted({0, count // 2, count - 1}) if count else []


def _take(values: Iterator[Any], n: int) -> list[Any]:
    taken = []
    for value in values:
        taken.append(value)
        if len(taken) == n:
            break
    return taken


def _dedupe(args: Iterator[Args]) -> list[Args]:
    unique: dict[str, Args] = {}
    for item in args:
        unique.setdefault(repr(item), item)
    return list(unique.values())
