"""Empirical growth: how a candidate's CPU time grows with the size of its input. Pure: no I/O
(the measurement is :mod:`codegen.evaluation.growth`).

- :func:`scaled_input`: an argument tuple shaped like a drawn input, of size n. Containers grow
  to n elements (only the outer dimension), integers are drawn over a range that grows with n
  (about 16n², so that random lists are distinct but for a few per cent, and a duplicate check
  that stops at the first duplicate still scans them), strings keep the template's characters;
  fixed-shape tuples and scalars next to containers stay as they are. With no container at
  all, the integer arguments are the size itself (``fib(n)``, ``is_prime(n)``).
- :func:`fit_growth`: the exponent k of time ≈ c·n^k, the Theil–Sen slope of log time on log
  n (the median of pairwise slopes: one disturbed size on a shared machine cannot swing it).
  The time is a call's CPU as the sandbox meters it, which includes passing the input to the
  candidate: the floor, linear in n (about 0.2 µs per list element: list arguments are also
  copied back) and as large as a cheap linear loop. Subtracting it was tried and is hopeless
  (the floor varies ±30 % from job to job on a shared machine). So the fit is of the whole
  call, and when the calls cost about what passing the input does (``len(xs)``, a C-speed
  scan, most cheap loops) the label says it is a bound: "≲ n^1.0", the candidate's own work
  grows no faster than that.
- :func:`faster_growth` (the flag: quicker at small sizes but grows faster) and
  :func:`overtaken` (what the ranking rule uses: a rival that grows clearly slower took at most
  half the CPU at the largest size both were measured at).
"""

from __future__ import annotations

import math
import random
import statistics
import string
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from typing import Any

from pydantic import BaseModel

GROWTH_MARGIN = 0.3  # exponents closer than this are the same growth (the estimate is ±0.25)
# How much less CPU a rival must have taken at the largest size both were measured at before it
# is said to overtake: one size's time (the least of 3 calls) varies up to 1.7× between two
# copies of one program on a loaded machine (60 sizes, 12 runs of `codegen rank` beside a CI
# run), and with a 4-point fit spanning 8× that noise alone gave one of 12 runs exponents 0.3
# apart: a copy "overtook" its twin.
OVERTAKE_FACTOR = 2.0
MIN_QUALITY = 0.9  # R² a fit needs before the ranking trusts that it grows faster
MIN_POINTS = 3  # usable sizes for a fit
MIN_SPAN = 4.0  # ...spanning at least this factor of n
MIN_SECONDS = 1e-3  # CPU seconds a size needs to be fitted (a call costs ~0.1 ms besides)
FLOOR_SHARE = 0.25  # calls costing less than 1.25× the floor (median) cannot be told from it
# A template list of ints with at most this many distinct values (bits, flags, -1/0/1) keeps
# its range; more are drawn from a range that keeps them distinct. Keeping a wider range made
# early exits of the scaled inputs: a quadratic two_sum found a pair at once among ten small
# values, and measured ≈ n^0.8 (a share of the length misread drawn lists too: hypothesis
# repeats values, 53 distinct of 132 in ±30). Too distinct can only make a call raise, and a
# growth that cannot be measured says so; too few made a wrong one.
SMALL_ALPHABET = 3
_LETTERS = string.ascii_lowercase


class Growth(BaseModel):
    """A fit of CPU seconds ≈ coefficient · n ** exponent, or why there is none."""

    exponent: float | None = None
    coefficient: float | None = None
    quality: float | None = None  # R² of the fit in log–log space
    points: list[tuple[int, float]] = []  # (n, CPU seconds of one call), every size measured
    floor: list[tuple[int, float]] = []  # (n, CPU seconds of a call that does nothing)
    used: list[int] = []  # the sizes fitted
    # The calls cost about what passing the input does: the fit is that cost's growth, and
    # the candidate's own work grows no faster ("≲ n^1.0").
    at_most: bool = False
    stopped: str = ""  # why the sizes ended before the target time, if they did
    label: str = "unknown"  # "≈ n^2.0", "≲ n^1.0", or "unknown: <reason>"


def label_of(exponent: float, at_most: bool = False) -> str:
    """``≈ n^2.0``, or ``≲ n^1.0`` for a bound."""
    shown = 0.0 if round(exponent, 1) == 0 else exponent  # never "n^-0.0"
    return f"{'≲' if at_most else '≈'} n^{shown:.1f}"


def short_label(growth: Growth | None) -> str:
    """For a table cell: the label, or "unknown" (the reason is in the label itself)."""
    if growth is None:
        return ""
    return growth.label if growth.exponent is not None else "unknown"


# -- inputs of size n ------------------------------------------------------------------------


def scaled_input(template: tuple[Any, ...], n: int, rng: random.Random) -> tuple[Any, ...]:
    """An argument tuple shaped like ``template`` but of size ``n``; see the module docstring.
    Deterministic given ``rng``'s state."""
    if not grows(template):
        return tuple(_sized_scalars(arg, n) for arg in template)
    return tuple(_outer(arg, n, rng) for arg in template)


def grows(template: Any) -> bool:
    """Whether a container (looking through fixed-shape tuples) grows with n."""
    if isinstance(template, tuple):
        return any(grows(item) for item in template)
    return isinstance(template, str | bytes | list | set | frozenset | dict)


def scalable(template: tuple[Any, ...]) -> bool:
    """Whether anything in ``template`` depends on n: a container, else an integer."""
    return grows(template) or any(_has_int(arg) for arg in template)


def _has_int(value: Any) -> bool:
    if isinstance(value, tuple):
        return any(_has_int(item) for item in value)
    return isinstance(value, int) and not isinstance(value, bool)


def _sized_scalars(value: Any, n: int) -> Any:
    if isinstance(value, tuple):
        return tuple(_sized_scalars(item, n) for item in value)
    return n if isinstance(value, int) and not isinstance(value, bool) else value


def _outer(value: Any, n: int, rng: random.Random) -> Any:
    """The outer dimension grows to n; elements are fresh values shaped like the template's."""
    if isinstance(value, tuple):
        return tuple(_outer(item, n, rng) for item in value)
    if isinstance(value, str):
        return "".join(rng.choices(sorted(set(value)) or _LETTERS, k=n))
    if isinstance(value, bytes):
        return bytes(rng.choices(sorted(set(value)) or range(256), k=n))
    if isinstance(value, list):
        element = _sampler(value, n)
        return [element(rng) for _ in range(n)]
    if isinstance(value, set | frozenset):
        element = _sampler(list(value), n, distinct=True)
        return type(value)(_distinct(element, n, rng))
    if isinstance(value, dict):
        key, item = _sampler(list(value), n, distinct=True), _sampler(list(value.values()), n)
        return {k: item(rng) for k in _distinct(key, n, rng)}
    return value


Sampler = Callable[[random.Random], Any]


def _distinct(draw: Sampler, n: int, rng: random.Random) -> list[Any]:
    """Up to n distinct draws (fewer when the template's elements cannot make n of them)."""
    seen: dict[Any, None] = {}
    for _ in range(8 * n + 8):
        if len(seen) >= n:
            break
        seen.setdefault(draw(rng), None)
    return list(seen)


def _sampler(examples: list[Any], n: int, distinct: bool = False) -> Sampler:
    """Draws values shaped like ``examples`` (their types, lengths and nesting) with new
    contents; built once per level, so that drawing n elements costs O(n)."""
    groups: dict[Any, list[Any]] = {}
    for example in examples:
        kind = (tuple, len(example)) if isinstance(example, tuple) else type(example)
        groups.setdefault(kind, []).append(example)
    if not groups:
        low, high = _int_range([], n, distinct)
        return lambda rng: rng.randint(low, high)
    makers = [_kind_sampler(group, n, distinct) for group in groups.values()]
    if len(makers) == 1:
        return makers[0]
    weights = [len(group) for group in groups.values()]
    return lambda rng: rng.choices(makers, weights)[0](rng)


def _kind_sampler(group: list[Any], n: int, distinct: bool) -> Sampler:
    """Values like ``group``, examples of one type (and one arity, for tuples)."""
    first = group[0]
    lengths = [len(e) for e in group] if isinstance(first, Sized) else []
    if isinstance(first, bool):
        return lambda rng: rng.random() < 0.5
    if isinstance(first, int):
        low, high = _int_range(group, n, distinct)
        return lambda rng: rng.randint(low, high)
    if isinstance(first, float):
        low, high = min(group), max(group)
        high = high if high > low else low + max(abs(low), 1.0)
        return lambda rng: rng.uniform(low, high)
    if isinstance(first, str | bytes):
        return _text_sampler(group, lengths, n, distinct)
    if isinstance(first, tuple):
        return _tuple_sampler(group, n)
    if isinstance(first, list | set | frozenset):
        kind = type(first)
        inner = _sampler([item for e in group for item in e], n)
        return lambda rng: kind(inner(rng) for _ in range(rng.choice(lengths)))
    if isinstance(first, dict):
        key = _sampler([k for e in group for k in e], n, distinct=True)
        value = _sampler([v for e in group for v in e.values()], n)
        return lambda rng: {key(rng): value(rng) for _ in range(rng.choice(lengths))}
    return lambda rng: rng.choice(group)  # None, and anything else plain: as it is


def _text_sampler(group: list[Any], lengths: list[int], n: int, distinct: bool) -> Sampler:
    text = isinstance(group[0], str)
    alphabet = sorted({c for e in group for c in e}) or list(_LETTERS if text else b"ab")
    if distinct:  # keys and set members: room for n distinct ones
        if len(alphabet) < 2:
            alphabet = sorted({*alphabet, *(_LETTERS[:2] if text else b"ab")})
        least = math.ceil(math.log(4 * n + 1) / math.log(len(alphabet)))
        lengths = [max(length, least) for length in lengths]
    if text:
        return lambda rng: "".join(rng.choices(alphabet, k=rng.choice(lengths)))
    return lambda rng: bytes(rng.choices(alphabet, k=rng.choice(lengths)))


def _tuple_sampler(group: list[tuple[Any, ...]], n: int) -> Sampler:
    """Fixed arity, position by position; kept in order when every example was (intervals)."""
    columns = [_sampler(list(column), n) for column in zip(*group, strict=True)]
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for e in group for x in e)
    ordered = numbers and len(group[0]) > 1 and all(list(e) == sorted(e) for e in group)

    def draw(rng: random.Random) -> tuple[Any, ...]:
        value = tuple(column(rng) for column in columns)
        return tuple(sorted(value)) if ordered else value

    return draw


def _int_range(examples: Sequence[int], n: int, distinct: bool) -> tuple[int, int]:
    """About ±16n², so that n draws are distinct but for a few per cent of inputs (and a pair
    summing to a given target is as rare); the examples' own range when they repeat a few
    values (digits, flags: a small alphabet is part of the input's shape)."""
    low, high = (min(examples), max(examples)) if examples else (0, 0)
    if len(examples) >= 8 and len(set(examples)) <= SMALL_ALPHABET:
        return (low, high) if not distinct else (low, max(high, low + 4 * n))
    span = max(16 * n * n, abs(low), abs(high), 16)
    start = 1 if examples and low >= 1 else 0 if examples and low >= 0 else -span
    return start, span


def size_ladder(template: tuple[Any, ...], start: int = 16, stop: int = 2**16) -> list[int]:
    """The sizes to measure: doubling from ``start`` to ``stop``. When only integers grow they
    are the size itself, cheap to pass, so the ladder goes on to 2^40, and each size is the
    largest prime below the power of two: ``is_prime(2^k)`` would return at once."""
    if grows(template):
        return [start << k for k in range((stop // start).bit_length()) if start << k <= stop]
    return [_prime_at_most(1 << k) for k in range(start.bit_length() - 1, 41)]


def _prime_at_most(n: int) -> int:
    candidate = n if n % 2 else n - 1
    while candidate > 2 and not _is_prime(candidate):
        candidate -= 2
    return max(candidate, 2)


def _is_prime(n: int) -> bool:
    """Deterministic Miller–Rabin for n < 3.3·10^24."""
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    if n < 2:
        return False
    if n in bases:
        return True
    if any(n % p == 0 for p in bases):
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


# -- the fit ----------------------------------------------------------------------------------


def fit_growth(
    points: Iterable[tuple[int, float]],
    floor: Iterable[tuple[int, float]] | Mapping[int, float] = (),
    *,
    stopped: str = "",
    min_seconds: float = MIN_SECONDS,
) -> Growth:
    """The growth of ``points`` (n, CPU seconds of a call), fitted on the sizes that took at
    least ``min_seconds`` (3 or more, spanning 4×, else unknown). ``floor`` (n, CPU seconds of
    a call that does nothing): when the calls cost less than 1.25× that (median), the fit is
    the floor's and only bounds the candidate's own work: ``at_most``, "≲ n^1.0"."""
    measured = sorted((int(n), float(t)) for n, t in points)
    floors = dict(floor.items() if isinstance(floor, Mapping) else floor)
    used = [(n, t) for n, t in measured if t >= min_seconds]
    base = Growth(
        points=[(n, round(t, 7)) for n, t in measured],
        floor=[(n, round(t, 7)) for n, t in sorted(floors.items())],
        stopped=stopped,
    )
    if not _enough(used):
        why = _too_few(measured, used, min_seconds)
        if stopped:
            why = f"{stopped} ({why})" if measured else stopped
        return base.model_copy(update={"label": f"unknown: {why}"})
    ratios = [t / floors[n] for n, t in used if floors.get(n)]
    at_most = bool(ratios) and statistics.median(ratios) < 1 + FLOOR_SHARE
    xs = [math.log(n) for n, _ in used]
    ys = [math.log(t) for _, t in used]
    slope, intercept = _theil_sen(xs, ys)
    exponent = round(slope, 3)  # the label is read from it: the two never disagree
    return base.model_copy(
        update={
            "exponent": exponent,
            "coefficient": math.exp(intercept),
            "quality": round(_r_squared(xs, ys, slope, intercept), 3),
            "used": [n for n, _ in used],
            "at_most": at_most,
            "label": label_of(exponent, at_most),
        }
    )


def _theil_sen(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """The median of the pairwise slopes, and the median intercept under it."""
    slopes = [
        (ys[j] - ys[i]) / (xs[j] - xs[i])
        for i in range(len(xs))
        for j in range(i + 1, len(xs))
        if xs[j] != xs[i]
    ]
    slope = statistics.median(slopes)
    return slope, statistics.median(y - slope * x for x, y in zip(xs, ys, strict=True))


def _enough(points: list[tuple[int, float]]) -> bool:
    return len(points) >= MIN_POINTS and points[-1][0] >= MIN_SPAN * points[0][0]


def _too_few(
    measured: list[tuple[int, float]], used: list[tuple[int, float]], min_seconds: float
) -> str:
    if not measured:
        return "not measured"
    took = f"{min_seconds * 1e3:g} ms or more"
    return f"only {len(used)} of {len(measured)} sizes took {took}, up to n={measured[-1][0]}"


def _r_squared(xs: list[float], ys: list[float], slope: float, intercept: float) -> float:
    mean = statistics.fmean(ys)
    total = sum((y - mean) ** 2 for y in ys)
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return max(0.0, 1.0 - residual / total) if total > 0 else 0.0


# -- comparing growths ------------------------------------------------------------------------


def grows_faster(a: Growth, b: Growth, margin: float = GROWTH_MARGIN) -> bool:
    """``a``'s exponent exceeds ``b``'s by more than ``margin``, and both fits are good (a
    candidate padding its small calls to a flat cost fits no curve: R² near 0, and claims
    nothing). A bound (``at_most``) may stand for ``b``, never for ``a``: its own work may
    grow slower."""
    if a.exponent is None or b.exponent is None or a.at_most:
        return False
    good = min(a.quality or 0.0, b.quality or 0.0) >= MIN_QUALITY
    return a.exponent - b.exponent > margin and good


def faster_growth(a: Growth, b: Growth, quicker: bool | None = None) -> bool:
    """The flag: ``a`` is quicker at small sizes but grows clearly faster than ``b``.
    ``quicker``: what the caller measured at small sizes (the ranking: the timed workload);
    by default, ``a`` took less CPU at the smallest size both were measured at."""
    if not grows_faster(a, b):
        return False
    if quicker is not None:
        return quicker
    common = sorted(set(dict(a.points)) & set(dict(b.points)))
    return bool(common) and dict(a.points)[common[0]] < dict(b.points)[common[0]]


def overtaken(a: Growth, b: Growth, margin: float = GROWTH_MARGIN) -> bool:
    """``b`` grows clearly slower than ``a`` and took at most half ``a``'s CPU at the largest
    size both were measured at (:data:`OVERTAKE_FACTOR`): measured beyond the noise, not
    extrapolated, so two candidates of one growth whose exponents differ by noise do not swap
    places."""
    at = crossing(a, b)
    if at is None or not grows_faster(a, b, margin):
        return False
    return OVERTAKE_FACTOR * dict(b.points)[at] <= dict(a.points)[at]


def crossing(a: Growth, b: Growth) -> int | None:
    """The largest size both were measured at (where :func:`overtaken` compares them)."""
    common = set(dict(a.points)) & set(dict(b.points))
    return max(common) if common else None
