"""A problem whose candidates differ by a known factor of CPU work, for ranking tests and
benchmarks. Every candidate returns the same value; a candidate of factor ``f`` runs ``f`` times
the fastest one's loop iterations, so its true CPU cost is ``f`` times as high."""

from __future__ import annotations

from pathlib import Path

N = 200_000  # loop iterations of the factor-1 candidate: about 10 ms of CPU here

STUB = '''\
def spin(n: int) -> int:
    """Return 0 + 1 + ... + (n - 1), adding one number at a time.

    >>> spin(4)
    6
    """
    ...
'''

TESTS = f"""\
from solution import spin


def test_values():
    assert spin(0) == 0
    assert spin(1) == 0
    assert spin(10) == 45


def test_speed(benchmark):
    assert benchmark(spin, {N}) == {N * (N - 1) // 2}
"""

CANDIDATE = """\
EXTRA = {extra!r}  # extra iterations per useful one: factor {factor} in all


def spin(n: int) -> int:
    {total} = 0
    for {i} in range(n):
        {total} += {i}
    waste = 0
    for {i} in range(round(n * EXTRA)):
        waste += {i}
    return {total}
"""


def write_problem(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "problem.py").write_text(STUB)
    (folder / "test_spin.py").write_text(TESTS)
    return folder


def candidate_source(factor: float, renamed: bool = False) -> str:
    """``renamed``: the same code with other names, for ties."""
    total, i = ("acc", "k") if renamed else ("total", "i")
    return CANDIDATE.format(extra=factor - 1, factor=factor, total=total, i=i)


def write_candidate(folder: Path, name: str, factor: float, renamed: bool = False) -> Path:
    path = folder / name
    path.write_text(candidate_source(factor, renamed))
    return path
