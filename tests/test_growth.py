"""Empirical growth: inputs of size n, the fit, the flag, the ranking rule that weighs the
largest workload, the measurement's orchestration (a sandbox double with a known cost per
size), and end to end through `codegen rank --json` and the real sandbox."""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from codegen.evaluation import InputsUsed, RankingRun
from codegen.evaluation.growth import BASELINE, TARGET_SECONDS, measure_growth, noop
from codegen.evaluation.view import print_ranking
from codegen.generation.types import Proposal
from codegen.ranking import CandidateEvidence, Growth, fit_growth, rank, scaled_input
from codegen.ranking.growth import (
    MIN_SECONDS,
    faster_growth,
    grows,
    grows_faster,
    overtaken,
    size_ladder,
)
from codegen.solve.report import CandidateSummary, SolveReport, Totals
from codegen.solve.view import print_summary
from sandbox import CallJob, CallOutcome, Limits, RunResult, TestOutcome, Verdict
from sandbox.models import TestStatus as Status
from tests.cli_support import codegen
from tests.test_problem import write

# -- scaled_input: shape and size --------------------------------------------------------------

SCALARS = st.one_of(
    st.integers(-1000, 1000), st.booleans(), st.floats(-10, 10, allow_nan=False), st.none()
)
ELEMENTS = st.one_of(
    st.integers(-50, 50),
    st.text("abc", min_size=1, max_size=3),
    st.tuples(st.integers(0, 9), st.integers(0, 9)),  # a fixed shape, like an interval
    st.lists(st.integers(0, 9), max_size=3),
)
CONTAINERS = st.one_of(
    st.lists(ELEMENTS, max_size=8),
    st.text("xyz", max_size=8),
    st.dictionaries(st.text("ab", min_size=1, max_size=2), st.integers(-5, 5), max_size=4),
    st.sets(st.integers(-9, 9), max_size=5),
)
TEMPLATES = st.lists(st.one_of(SCALARS, CONTAINERS), min_size=1, max_size=3).map(tuple)


def shape(value: Any) -> Any:
    """Type and fixed arity, never contents or container lengths."""
    if isinstance(value, tuple):
        return ("tuple", len(value))
    return type(value).__name__


@settings(max_examples=150, deadline=None)
@given(TEMPLATES, st.integers(0, 300), st.integers(0, 2**32))
def test_scaled_input_has_the_template_shape_and_size_n(template: tuple, n: int, seed: int) -> None:
    scaled = scaled_input(template, n, random.Random(seed))
    assert scaled == scaled_input(template, n, random.Random(seed))  # deterministic
    assert len(scaled) == len(template)
    for arg, like in zip(scaled, template, strict=True):
        assert type(arg) is type(like)
        if not grows(template):  # nothing grows: the integers are the size
            is_int = isinstance(like, int) and not isinstance(like, bool)
            assert arg == (n if is_int else like) or (arg != arg and like != like)
        elif isinstance(like, list | str | dict | set):
            assert len(arg) == n
        else:  # scalars beside a container stay as they are
            assert arg == like or (arg != arg and like != like)
        if isinstance(like, str) and like:
            assert set(arg) <= set(like)
        if isinstance(like, list) and like:
            shapes = {shape(e) for e in like}
            assert {shape(e) for e in arg} <= shapes  # elements shaped like the template's
            inner = {len(e) for e in like if isinstance(e, list)}
            assert {len(e) for e in arg if isinstance(e, list)} <= inner  # only outer grows
        if isinstance(like, dict):
            assert all(isinstance(v, int) for v in arg.values())


def test_scaled_integers_spread_with_n_unless_the_template_repeats_a_few() -> None:
    rng = random.Random(1)
    (wide,) = scaled_input(([5, 3, 9, 1],), 4096, rng)
    assert len(set(wide)) > 0.99 * 4096  # mostly distinct: a duplicate check scans them all
    assert min(wide) >= 1  # positive template, positive values
    (digits,) = scaled_input(([1, 0, 1, 1, 0, 0, 1, 0, 1, 1],), 1000, rng)
    assert set(digits) <= {0, 1}  # a small alphabet is part of the shape
    (intervals,) = scaled_input(([(1, 3), (2, 8)],), 50, rng)
    assert all(len(i) == 2 and i[0] <= i[1] for i in intervals)
    assert scaled_input((10, 2.5), 37, rng) == (37, 2.5)  # fib(n), is_prime(n): n is the input


def test_the_sizes_double_and_integer_sizes_are_primes() -> None:
    assert size_ladder(([1, 2],))[:4] == [16, 32, 64, 128]
    assert size_ladder(([1, 2],))[-1] == 2**16
    primes = size_ladder((5,))
    assert primes[:4] == [13, 31, 61, 127] and primes[-1] > 2**39  # is_prime(2^k) is instant
    assert all(n % 2 for n in primes)


# -- fit_growth: the exponent of synthetic points --------------------------------------------

SIZES = [16 << k for k in range(13)]  # 16 … 65536, as measured


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0.0, 3.0),
    st.floats(-9.0, -5.0),
    st.lists(st.floats(-0.1, 0.1), min_size=13, max_size=13),
)
def test_fit_recovers_the_exponent_through_noise(k: float, log_c: float, noise: list) -> None:
    points = [(n, 10**log_c * n**k * (1 + e)) for n, e in zip(SIZES, noise, strict=True)]
    growth = fit_growth(points)
    usable = [n for n, t in points if t >= MIN_SECONDS]
    if len(usable) < 3 or usable[-1] < 4 * usable[0]:
        assert growth.exponent is None and growth.label.startswith("unknown: only ")
        return
    assert growth.exponent is not None and abs(growth.exponent - k) <= 0.15
    assert growth.label == f"≈ n^{0.0 if round(growth.exponent, 1) == 0 else growth.exponent:.1f}"
    assert growth.used == usable and growth.quality is not None


def test_one_disturbed_size_does_not_swing_the_fit() -> None:
    points = [(n, 1e-8 * n**2) for n in SIZES[4:10]]
    points[2] = (points[2][0], points[2][1] * 4)  # a neighbour stole the CPU
    assert fit_growth(points).label == "≈ n^2.0"


def test_too_few_sizes_is_unknown_with_the_reason() -> None:
    growth = fit_growth(
        [(16, 1e-4), (32, 1.2e-3), (64, 2.4e-3)], stopped="raised KeyError at n=128"
    )
    assert growth.exponent is None
    assert growth.label == (
        "unknown: raised KeyError at n=128 (only 2 of 3 sizes took 1 ms or more, up to n=64)"
    )
    assert fit_growth([], stopped="timeout at n=16").label == "unknown: timeout at n=16"


def test_calls_that_cost_what_passing_the_input_costs_are_a_bound() -> None:
    floor = [(n, 2e-7 * n) for n in SIZES]
    cheap = fit_growth([(n, 1.1 * t) for n, t in floor], floor)
    assert cheap.at_most and cheap.label == "≲ n^1.0"
    dear = fit_growth([(n, 3 * t) for n, t in floor], floor)
    assert not dear.at_most and dear.label == "≈ n^1.0"


# -- comparing growths -------------------------------------------------------------------------


def measured(k: float, c: float, top: int = 2**14) -> Growth:
    return fit_growth([(n, c * n**k) for n in SIZES if n <= top])


QUAD = measured(2, 1e-8, top=4096)  # 168 ms at 4096
LINEAR = measured(1, 3e-6)  # 12 ms at 4096


def test_grows_faster_needs_the_margin_and_a_good_fit() -> None:
    assert grows_faster(QUAD, LINEAR) and not grows_faster(LINEAR, QUAD)
    assert not grows_faster(measured(1.2, 3e-6), LINEAR)  # within 0.3: the same growth
    bound = QUAD.model_copy(update={"at_most": True})
    assert not grows_faster(bound, LINEAR)  # a bound may grow slower than it says
    assert grows_faster(QUAD, LINEAR.model_copy(update={"at_most": True}))


def test_overtaken_is_measured_at_the_largest_common_size() -> None:
    assert overtaken(QUAD, LINEAR)  # 168 ms against 12 ms at n=4096
    tiny = measured(2, 1e-11, top=2**16)  # C-speed: still quicker than LINEAR at 16384
    assert grows_faster(tiny, LINEAR) and not overtaken(tiny, LINEAR)
    assert faster_growth(tiny, LINEAR) and faster_growth(QUAD, LINEAR)  # both quicker at n=16
    assert not faster_growth(LINEAR, QUAD) and not faster_growth(measured(2, 1e-6), LINEAR)
    assert not faster_growth(QUAD, LINEAR, quicker=False)  # the caller knows (timed workload)


def test_a_rival_overtakes_only_by_a_gap_beyond_the_noise() -> None:
    steeper = measured(1.5, 3e-6 / 2**7)  # equal to LINEAR at n=2^14, then grows 0.5 faster
    assert grows_faster(steeper, LINEAR) and not overtaken(steeper, LINEAR)  # 1.0× there
    assert overtaken(measured(1.5, 3e-6 / 2**7 * 2.1), LINEAR)  # 2.1× there: measured


TWINS = json.loads((Path(__file__).parent / "fixtures" / "growth_twins.json").read_text())


@pytest.mark.parametrize("run", range(len(TWINS["runs"])))
def test_a_copy_never_overtakes_its_twin_on_real_measurements(run: int) -> None:
    """Real points from 12 runs on a loaded machine: in one of them (run 3) the copies' fits
    were 0.3 apart (the third, [2]), and the copy with the steeper fit was put after its twin."""
    fits = {name: fit_growth(points) for name, points in TWINS["runs"][run].items()}
    one, two, quadratic = fits["fast_hash"], fits["fast_hash_renamed"], fits["slow_quadratic"]
    assert not overtaken(one, two) and not overtaken(two, one)
    assert overtaken(quadratic, one) and overtaken(quadratic, two)  # the real gap stays seen


# -- the rule: the ranking weighs the largest workload --------------------------------------


def passed() -> RunResult:
    return RunResult(
        verdict=Verdict.PASSED,
        tests=[TestOutcome(name="test_a", status=Status.PASSED)],
        peak_memory_mb=11.0,
    )


def timed(factor: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [2e-3 * factor * (1 + 0.04 * rng.random()) for _ in range(9)]


def evidence(cid: str, factor: float, growth: Growth | None, seed: int) -> CandidateEvidence:
    return CandidateEvidence(
        id=cid, source="x = 1\n", run=passed(), timing_samples=timed(factor, seed), growth=growth
    )


def test_quicker_on_the_timed_workload_but_overtaken_ranks_after_the_rival() -> None:
    report = rank([evidence("quad.py", 1, QUAD, 1), evidence("lin.py", 2, LINEAR, 2)])
    quad, lin = report.candidate("quad.py"), report.candidate("lin.py")
    assert report.winner == "lin.py" and (lin.rank, quad.rank) == (1, 2)
    assert quad.explanation == (
        "rank 2: correct, fastest (2.04 ms median CPU), but grows faster than lin.py "
        "(≈ n^2.0 vs ≈ n^1.0), which is quicker by n=4096: ranked after it"
    )
    assert "but grows slower than quad.py (≈ n^1.0 vs ≈ n^2.0) and is quicker by n=4096" in (
        lin.explanation
    )
    assert "quicker at small sizes but grows faster than lin.py (≈ n^2.0 vs ≈ n^1.0)" in (
        quad.reasons
    )
    assert "growth ≈ n^2.0 (CPU per call at n = 512–4096, R² 1.00)" in quad.reasons
    assert quad.grows_faster_than == ["lin.py"] and lin.grows_faster_than == []


def test_growth_moves_nothing_it_has_not_measured() -> None:
    tiny = measured(2, 1e-11, top=2**16)  # grows faster, but still quicker at every size
    report = rank([evidence("c.py", 1, tiny, 1), evidence("lin.py", 2, LINEAR, 2)])
    assert report.winner == "c.py"
    assert report.candidate("c.py").explanation.endswith(
        "; quicker at small sizes but grows faster than lin.py (≈ n^2.0 vs ≈ n^1.0)"
    )
    bound = QUAD.model_copy(update={"at_most": True})
    for growth in (None, bound, fit_growth([])):
        report = rank([evidence("quad.py", 1, growth, 1), evidence("lin.py", 2, LINEAR, 2)])
        assert report.winner == "quad.py"


def test_moved_candidates_follow_every_rival_that_overtakes_them() -> None:
    cubic = measured(3, 1e-10, top=1024)  # the fastest on the timed workload
    report = rank(
        [
            evidence("cubic.py", 1, cubic, 1),
            evidence("quad.py", 2, QUAD, 2),
            evidence("lin.py", 4, LINEAR, 3),
            evidence("lin_slow.py", 8, measured(1, 6e-6), 4),
        ]
    )
    assert [c.id for c in report.candidates] == ["lin.py", "lin_slow.py", "quad.py", "cubic.py"]
    assert [c.rank for c in report.candidates] == [1, 2, 3, 4]


def test_a_tie_on_the_timed_workload_goes_to_the_slower_growing() -> None:
    report = rank([evidence("quad.py", 1, QUAD, 1), evidence("lin.py", 1.01, LINEAR, 1)])
    assert report.winner == "lin.py" and not report.tied_winners
    tiny = measured(2, 1e-11, top=2**16)  # never overtaken, and quicker only within the noise
    report = rank([evidence("c.py", 1, tiny, 1), evidence("lin.py", 1.01, LINEAR, 1)])
    assert report.candidate("c.py").grows_faster_than == []
    assert "grows faster" not in report.candidate("c.py").explanation


# -- the terminal and the JSON -----------------------------------------------------------------


def test_rank_and_solve_show_the_growth_column() -> None:
    ranking = rank([evidence("quad.py", 1, QUAD, 1), evidence("lin.py", 2, LINEAR, 2)])
    run = RankingRun(
        **dict(ranking),
        problem="p",
        differential_inputs=InputsUsed(origin="type hints", count=30),
        timing_workload="3 largest generated inputs (type hints)",
        timing_rounds=9,
    )
    console = Console(record=True, width=200)
    print_ranking(run, {"quad.py": "x = 1\n", "lin.py": "x = 1\n"}, console)
    text = console.export_text()
    assert re.search(r"┃ +growth ┃", text) and "≈ n^2.0" in text and "≈ n^1.0" in text
    assert "Growth: CPU per call on inputs of doubling size, n = 16–16384" in text
    assert json.loads(run.model_dump_json())["candidates"][0]["growth"]["label"] == "≈ n^1.0"

    proposal = Proposal(model="m", persona="p", sample=0, latency_s=1.0)
    summary = CandidateSummary(
        id="c1", model="m", persona="p", proposers=[proposal], prompt_tokens=1,
        completion_tokens=1, cost_usd=0.0, latency_s=1.0, verdict=Verdict.PASSED, rank=1,
        growth=QUAD, code="x = 1\n",
    )  # fmt: skip
    totals = Totals(requests=1, candidates=1, passing=1, prompt_tokens=1, completion_tokens=1,
                    cost_usd=0.0)  # fmt: skip
    report = SolveReport(problem="p", entry_point="f", origin="folder", solved=True,
                         winner="c1", candidates=[summary], totals=totals)  # fmt: skip
    console = Console(record=True, width=200)
    print_summary(console, report)
    text = console.export_text()
    assert re.search(r"┃ +growth ┃", text) and "≈ n^2.0" in text
    assert json.loads(report.model_dump_json())["candidates"][0]["growth"]["exponent"] == 2.0


# -- the measurement, against a sandbox double with known costs --------------------------------


def size_of(args: tuple) -> int:
    first = args[0]
    return first if isinstance(first, int) else len(first)


class CostedSandbox:
    """``call`` as the SandboxBackend's, with each source's CPU a known function of n."""

    limits = Limits()

    def __init__(self, behaviours: dict[str, Callable[[int], Any]]) -> None:
        self.behaviours = behaviours  # source -> n -> seconds, or an exception to raise
        self.sizes: dict[str, list[int]] = {}

    def floor(self, n: int) -> float:
        return 5e-5 + 2e-7 * n

    async def call(self, job: CallJob) -> list[CallOutcome]:
        candidate, entry_point, inputs = job.candidate, job.entry_point, job.inputs
        n = size_of(inputs[0][0])
        name = "floor" if candidate == noop(entry_point) else candidate
        self.sizes.setdefault(name, []).append(n)
        if name == "floor":
            return [CallOutcome(ok=True, cpu_seconds=self.floor(n)) for _ in inputs]
        cost = self.behaviours[candidate](n)
        if isinstance(cost, Exception):
            return [CallOutcome(ok=False, error=type(cost).__name__) for _ in inputs]
        value, seconds = cost if isinstance(cost, tuple) else (n, cost)
        return [CallOutcome(ok=True, value=value, cpu_seconds=seconds + self.floor(n))] * len(
            inputs
        )


class Entry:
    entry_point = "f"
    context = None  # a function of its own, not one in a module


def measure(behaviours: dict[str, Callable[[int], Any]], templates: list[tuple]) -> Any:
    sandbox = CostedSandbox(behaviours)
    found = asyncio.run(measure_growth(Entry(), {k: k for k in behaviours}, templates, sandbox))  # type: ignore[arg-type]
    return found, sandbox


def test_every_candidate_gets_its_growth_at_the_same_sizes() -> None:
    found, sandbox = measure(
        {"quad": lambda n: 1e-8 * n * n, "lin": lambda n: 2e-6 * n, "flat": lambda n: 0.0},
        [([3, 1, 2],)],
    )
    assert (found["quad"].label, found["lin"].label, found["flat"].label) == (
        "≈ n^2.0",
        "≈ n^1.0",
        "≲ n^1.0",  # no dearer than passing the input: its own work grows no faster
    )
    ladder = size_ladder(([3, 1, 2],))
    for name, sizes in sandbox.sizes.items():
        assert sizes == ladder[: len(sizes)], name
    assert found["quad"].points[-1][1] >= TARGET_SECONDS  # stopped once a call took long enough
    assert dict(found["quad"].points)[2048] < TARGET_SECONDS
    assert len(sandbox.sizes["quad"]) == ladder.index(4096) + 1
    assert sandbox.sizes["floor"] == ladder  # the floor is measured while anyone still runs
    assert BASELINE not in found


def test_a_candidate_stops_where_it_raises_or_answers_unlike_the_others() -> None:
    found, _ = measure(
        {
            "a": lambda n: 2e-6 * n,
            "b": lambda n: 3e-6 * n,
            "raises": lambda n: KeyError() if n >= 1024 else 1e-8 * n * n,
            "wrong": lambda n: (0, 1e-9 * n) if n >= 512 else 2e-6 * n,
        },
        [([3, 1, 2],)],
    )
    assert found["raises"].stopped == "raised KeyError at n=1024"
    assert found["raises"].points[-1][0] == 512
    assert found["wrong"].stopped == "answers differ from the other candidates' at n=512"
    assert found["wrong"].label.startswith("unknown: answers differ")
    assert found["a"].label == found["b"].label == "≈ n^1.0"


def test_the_next_template_is_tried_when_every_candidate_fails_on_one() -> None:
    found, sandbox = measure(
        {"lin": lambda n: 2e-6 * n if n > 15 else ValueError()},
        [(), ("",), ([1, 2, 3],)],  # nothing grows in the first; integers are the second's n
    )
    assert found["lin"].label == "≈ n^1.0"
    nothing, _ = measure({"lin": lambda n: 2e-6 * n}, [(2.5,)])
    assert nothing["lin"].label == "unknown: no input that grows with n"
    primes, sandbox = measure({"fib": lambda n: 1e-6 * n}, [(10,)])
    assert primes["fib"].label == "≈ n^1.0" and sandbox.sizes["fib"][:2] == [13, 31]


# -- end to end: `codegen rank --json`, the real sandbox -------------------------------------

DISTINCT_STUB = '''\
def count_distinct(nums: list[int]) -> int:
    """How many different numbers nums holds."""
    ...
'''
DISTINCT_TESTS = """\
from solution import count_distinct


def test_examples():
    assert count_distinct([]) == 0
    assert count_distinct([3, 1, 3, 2, 1]) == 3
    assert count_distinct(list(range(50)) * 2) == 50
"""
QUADRATIC_SOURCE = """\
def count_distinct(nums):
    seen = []
    for x in nums:
        if x not in seen:  # a scan in C: quick on the timed inputs (200 numbers)
            seen.append(x)
    return len(seen)
"""
LINEAR_SOURCE = """\
def count_distinct(nums):
    seen = set()
    for x in nums:
        key = x
        for _ in range(40):  # a costly constant: slower on the timed inputs
            key = (key * 31 + 7) % 1_000_000_007
        seen.add((key, x))
    return len(seen)
"""


def exponent(label: str) -> float:
    return float(label.split("^")[1])


@pytest.mark.docker
def test_rank_shows_growth_and_weighs_the_largest_workload(tmp_path: Path) -> None:
    problem = write(tmp_path / "distinct", {"problem.py": DISTINCT_STUB,
                                            "test_count_distinct.py": DISTINCT_TESTS})  # fmt: skip
    quadratic = write(tmp_path, {"quadratic.py": QUADRATIC_SOURCE}) / "quadratic.py"
    linear = write(tmp_path, {"linear.py": LINEAR_SOURCE}) / "linear.py"
    done = codegen("rank", str(problem), str(quadratic), str(linear), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    got = {Path(c["id"]).name: c for c in report["candidates"]}
    quad, lin = got["quadratic.py"], got["linear.py"]
    assert quad["growth"]["label"].startswith("≈ n^"), quad["growth"]
    assert lin["growth"]["label"].startswith("≈ n^"), lin["growth"]
    # How close each exponent comes to 2 and to 1 is a measurement under noise, asserted in
    # benchmarks/test_bench_growth.py (±0.25; here, on a quiet machine, a quadratic once read
    # n^1.7). What the ranking acts on is the gap: over 0.3, where the truth is 1.
    assert exponent(quad["growth"]["label"]) > exponent(lin["growth"]["label"]) + 0.3, report
    # Quicker on the 200 numbers timed, slower by thousands: flagged, and ranked after.
    assert quad["timing"]["median_s"] < lin["timing"]["median_s"], report["notes"]
    assert quad["grows_faster_than"] == [str(linear)]
    flag = f"quicker at small sizes but grows faster than {linear} ("
    assert any(reason.startswith(flag) for reason in quad["reasons"])
    assert report["winner"] == str(linear) and quad["rank"] == 2
    assert "ranked after it" in quad["explanation"]
    assert math.isfinite(quad["growth"]["quality"]) and quad["growth"]["quality"] > 0.9
