"""Does the growth estimate recover known exponents, through the real sandbox on this noisy
2-core machine, and what does one measurement cost?

Reference functions of a list of n integers, each measured REPEATS times on its own by
:func:`codegen.evaluation.growth.measure_growth` (sizes doubling from 16, each size in a fresh
candidate process, the least CPU of 3 inputs):

- n: a Python loop doing a little arithmetic per element (about 1 µs: enough to stand clear of
  the cost of passing the list in, about 0.2 µs per element);
- n log n: a merge sort in Python. Over a range of sizes the local exponent of n log n is
  1 + 1/ln n, so the accepted value is 1 + 1/ln(n̄) ± 0.25, n̄ the geometric mean of the sizes
  fitted (1.12 at n̄ = 5793): the same ±0.25, around the exponent n log n really has there;
- n²: a nested loop over the pairs.

Each estimate must lie within ±0.25 of its exponent; the wall time of a measurement is the
benchmark's figure. ``sorted`` (a copy sorted in C) is measured too and only reported: its
time is close to the cost of passing the list in, and turns superlinear once the list
outgrows the cache (×2.9 from 16384 to 32768 numbers here), so its estimate ranges 0.9–1.5.

    .venv/bin/python -m pytest benchmarks/test_bench_growth.py -q -s \\
        --benchmark-columns=min,median,max,rounds
"""

from __future__ import annotations

import math
import os
import statistics
import time
from pathlib import Path

import pytest

from codegen.evaluation.growth import growth_templates, measure_growth
from codegen.evaluation.workload import draw
from codegen.problems import load_problem
from codegen.ranking import Growth
from tests.sandboxed.conftest import SandboxDriver

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parent.parent

REPEATS = 10
TEMPLATE = ([5, 3, 9, 1, 7, 2, 8],)
REFERENCES = {
    "n": """\
def f(xs):
    total = 0
    for x in xs:
        k = x
        for _ in range(8):
            k = (k * 31 + 7) % 1_000_003
        total += k
    return total
""",
    "n log n": """\
def f(xs):
    def merge_sort(a):
        if len(a) <= 1:
            return a
        mid = len(a) // 2
        left, right = merge_sort(a[:mid]), merge_sort(a[mid:])
        out, i, j = [], 0, 0
        while i < len(left) and j < len(right):
            if left[i] <= right[j]:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
        return out + left[i:] + right[j:]

    ys = merge_sort(xs)
    return ys[len(ys) // 2]
""",
    "sorted": """\
def f(xs):
    ys = sorted(xs)
    return ys[len(ys) // 2]
""",
    "n^2": """\
def f(xs):
    count = 0
    for i in range(len(xs)):
        for j in range(i):
            count += xs[i] < xs[j]
    return count
""",
}


class Reference:
    entry_point = "f"


def expected(name: str, growth: Growth) -> float:
    if name == "n":
        return 1.0
    if name == "n^2":
        return 2.0
    if name == "sorted":
        return math.nan  # reported, not asserted (see the module docstring)
    mean = math.exp(statistics.fmean(math.log(n) for n in growth.used))
    return 1 + 1 / math.log(mean)


@pytest.mark.benchmark(group="growth")
@pytest.mark.parametrize("name", list(REFERENCES))
def test_growth_recovers_known_exponents(benchmark, sandbox_driver: SandboxDriver, name: str):
    found: list[Growth] = []
    walls: list[float] = []

    def measure() -> None:
        started = time.perf_counter()
        growth = sandbox_driver.wait(
            measure_growth(
                Reference(), {name: REFERENCES[name]}, [TEMPLATE], sandbox_driver.sandbox
            )  # type: ignore[arg-type]
        )
        walls.append(time.perf_counter() - started)
        found.append(growth[name])

    benchmark.pedantic(measure, rounds=REPEATS, iterations=1)
    exponents = [g.exponent or math.nan for g in found]
    target = expected(name, found[0])
    print(
        f"\n{name}: {', '.join(g.label for g in found)}; "
        + (f"expected {target:.2f}; " if not math.isnan(target) else "reported only; ")
        + f"exponents {min(exponents):.2f}–{max(exponents):.2f} (median "
        f"{statistics.median(exponents):.2f}); "
        f"sizes fitted {found[0].used[0]}–{found[0].used[-1]}; wall per measurement median "
        f"{statistics.median(walls):.2f} s (max {max(walls):.2f} s); load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    benchmark.extra_info.update({"exponents": exponents, "labels": [g.label for g in found]})
    if name == "sorted":
        return
    for growth in found:
        assert growth.exponent is not None and not growth.at_most, growth.label
        assert abs(growth.exponent - expected(name, growth)) <= 0.25, growth


TWO_SUM = ROOT / "examples" / "two_sum"
TWO_SUM_CANDIDATES = {
    "fast_hash": TWO_SUM / "candidates" / "fast_hash.py",
    "fast_hash_renamed": ROOT / "tests" / "rank_candidates" / "two_sum" / "fast_hash_renamed.py",
    "ten_times_the_work": ROOT / "tests" / "rank_candidates" / "two_sum" / "ten_times_the_work.py",
    "slow_quadratic": TWO_SUM / "candidates" / "slow_quadratic.py",
}


@pytest.mark.benchmark(group="growth")
def test_growth_of_four_candidates_at_once(benchmark, sandbox_driver: SandboxDriver) -> None:
    """What the growth step adds to `codegen rank` of the two_sum candidates (2 workers)."""
    problem = load_problem(TWO_SUM)
    drawn = sandbox_driver.wait(draw(problem, sandbox_driver.sandbox))
    differential, workload = drawn.differential, drawn.workload
    templates = growth_templates(differential.args, workload.inputs.args if workload.inputs else [])
    sources = {name: path.read_text() for name, path in TWO_SUM_CANDIDATES.items()}
    labels: list[dict[str, str]] = []

    def measure() -> None:
        found = sandbox_driver.wait(
            measure_growth(problem, sources, templates, sandbox_driver.sandbox)
        )
        labels.append({name: g.label for name, g in found.items()})

    benchmark.pedantic(measure, rounds=3, iterations=1)
    stats = benchmark.stats.stats
    print(f"\n4 two_sum candidates at once: median {stats.median:.2f} s, max {stats.max:.2f} s")
    for name in sources:
        print(f"  {name}: {', '.join(run[name] for run in labels)}")
    assert all(run["slow_quadratic"].startswith("≈ n^") for run in labels)
