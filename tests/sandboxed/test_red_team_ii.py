"""Red team II (issue #18): one real attack per class of hole a red team found in the design of
#10, each asserting the honest candidate's verdict and, where candidates compete, the winner.
Every test here failed on the commit before #18 (run with this file copied into a checkout of
it), but class 9's, which failed there in one run of three: its outcome depended on how noisy
the growth fits were (the pure test of the rule, ``tests/test_ranking_integrity.py``, fails
there every time). The candidates are in :mod:`tests.sandboxed.red_team_ii`.

1. the candidate's process opting out of the meter;
2. telling a timed round from a tested one, from what the process inherited;
3. the timed input being public (the benchmark's own, or drawn from a fixed seed);
4. one candidate's output failing another;
5. another job's source in a candidate's memory;
6. data sent to the host, unbounded;
7. behaviour lost at the boundary;
8. memory hidden in a child;
9. the growth rule, gamed with a flat cost at small sizes;
10. one candidate's answer left in memory while the next is timed;
and the disputed case. (The growth and disputed rules are also tested pure:
``tests/test_ranking_integrity.py``.)
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from codegen.evaluation import rank_candidates
from codegen.problems import load_problem
from codegen.ranking.statistics import is_tie, ratio_interval
from sandbox import CallJob, Limits, RunJob, RunResult, TimingJob, TimingResult, Verdict

from . import red_team_ii as rt
from .conftest import FAST_LIMITS, SandboxDriver

pytestmark = pytest.mark.docker


def _run(
    driver: SandboxDriver, candidate: str, tests: str, entry: str, limits: Limits = FAST_LIMITS
) -> RunResult:
    job = RunJob(
        entry_point=entry, test_files={"test_problem.py": tests}, candidate=candidate,
        limits=limits,
    )  # fmt: skip
    return driver.wait(driver.sandbox.run(job))


def _time(
    driver: SandboxDriver, candidates: dict[str, str], tests: str, entry: str, rounds: int,
    **options,
) -> TimingResult:  # fmt: skip
    job = TimingJob(
        test_files={"test_problem.py": tests}, entry_point=entry, candidates=candidates,
        rounds=rounds, **options,
    )  # fmt: skip
    return driver.wait(driver.sandbox.time(job), timeout=300)


def _problem(tmp_path: Path, stub: str, tests: str, strategies: str = "") -> Path:
    folder = tmp_path / "problem"
    folder.mkdir()
    (folder / "problem.py").write_text(stub)
    if tests:
        (folder / "test_problem.py").write_text(tests)
    if strategies:
        (folder / "strategies.py").write_text(strategies)
    return folder


def _rank(driver: SandboxDriver, folder: Path, candidates: dict[str, str], rounds: int = 10):
    problem = load_problem(folder)
    return driver.wait(
        rank_candidates(problem, candidates, driver.sandbox, rounds=rounds, growth=False),
        timeout=600,
    )


ROOMY = Limits(wall_seconds=120, test_seconds=60, cpu_seconds=60)


def _rank_of(report, cid: str) -> int:
    return next(c.rank for c in report.candidates if c.id == cid)


# -- 1. the meter ---------------------------------------------------------------------------------
def test_skipping_the_harness_work_in_its_own_process_wins_nothing(sandbox_driver) -> None:
    """Same code, but the attacker removes the per-answer work the harness used to do inside
    the candidate's process: it must not be timed faster than the honest copy."""
    candidates = {"honest": rt.BIG_ANSWER, "skips": rt.SKIPS_THE_CHECKS}
    tested = {cid: _run(sandbox_driver, src, rt.BIG_ANSWER_TESTS, "squares")
              for cid, src in candidates.items()}  # fmt: skip
    assert all(run.passed for run in tested.values()), tested
    timing = _time(sandbox_driver, candidates, rt.BIG_ANSWER_TESTS, "squares", 15, tested=tested)
    assert set(timing.timings) == {"honest", "skips"}, timing.errors
    samples = {cid: s[0].samples for cid, s in timing.timings.items()}
    # as the ranking compares them: paired rounds, a distribution-free interval; before, the
    # attacker was 2.2x faster and the interval cleared the noise floor
    estimate = ratio_interval(samples["honest"], samples["skips"])
    assert is_tie(estimate), (estimate, samples)


# -- 2. telling a timed round from a tested one -------------------------------------------------
def test_nothing_a_candidate_inherits_tells_a_timed_round_from_a_tested_one(lone_driver) -> None:
    seen = set()
    for _ in range(3):
        run = _run(lone_driver, rt.HEAP_OBSERVER, rt.OBSERVER_TESTS, "total")
        assert run.passed, run.message
        seen.add(run.benchmarks[0].digest)
    timing = _time(lone_driver, {"observer": rt.HEAP_OBSERVER, "other": rt.LINEAR},
                   rt.OBSERVER_TESTS, "total", 3)  # fmt: skip
    assert "observer" in timing.timings, timing.errors
    assert timing.timings["observer"][0].digest in seen


def test_a_candidate_never_inherits_the_drawings_process(sandbox_driver) -> None:
    """Drawings fork from a zygote that has imported hypothesis (most of a drawing's cost);
    candidates never do, so their memory and import times are those of a plain process, and
    the drawing zygote outlives the clean-ups between jobs."""
    imported = "import sys\n\ndef imported(_):\n    return 'hypothesis.strategies' in sys.modules\n"

    def call(hypothesis: bool) -> object:
        job = CallJob(candidate=imported, entry_point="imported", inputs=[((0,), {})],
                      limits=FAST_LIMITS, hypothesis=hypothesis)  # fmt: skip
        (outcome,) = sandbox_driver.wait(sandbox_driver.sandbox.call(job))
        assert outcome.ok, outcome
        return outcome.value

    assert [call(flag) for flag in (False, True, False, True, True)] == [
        False, True, False, True, True,
    ]  # fmt: skip


# -- 3. the timed input is public ------------------------------------------------------------------
def test_a_table_of_the_benchmarks_own_answer_wins_nothing(sandbox_driver, tmp_path) -> None:
    folder = _problem(tmp_path, rt.TOTAL_STUB, rt.TOTAL_BENCH_TESTS)
    candidates = {"honest": rt.LINEAR, "table": rt.LOOKS_UP_THE_BENCHMARK}
    report = _rank(sandbox_driver, folder, candidates)
    assert {c.id for c in report.candidates if c.passed} == {"honest", "table"}
    assert _rank_of(report, "honest") == 1, report  # before: the table won by 10x and more
    timing = next(c.timing for c in report.candidates if c.id == "table")
    assert timing is not None and timing.ratio > 0.7, timing


def test_data_drawn_from_a_public_seed_cannot_be_memoised(sandbox_driver, tmp_path) -> None:
    folder = _problem(tmp_path, rt.MIDDLE_STUB, rt.MIDDLE_RANDOM_TESTS)
    candidates = {"honest": rt.MIDDLE, "memo": rt.memoises_the_seeded_data()}
    report = _rank(sandbox_driver, folder, candidates)
    assert {c.id for c in report.candidates if c.passed} == {"honest", "memo"}
    assert _rank_of(report, "honest") == 1, report


# -- 4. one candidate's output fails another -------------------------------------------------------
def test_a_chatty_candidate_costs_the_others_no_output_room(sandbox_driver) -> None:
    tests = rt.OBSERVER_TESTS.replace("100)[1] == 4950", "1000) == 499500")
    candidates = {"chatty": rt.CHATTY, "honest": rt.LINEAR}
    timing = _time(sandbox_driver, candidates, tests, "total", 5)
    assert set(timing.timings) == {"chatty", "honest"}, timing.errors  # before: output_limit


# -- 5. another job's source in a candidate's memory -----------------------------------------------
def test_no_earlier_job_can_be_read_from_a_candidates_memory(lone_driver) -> None:
    secret = f"SECRET-{uuid.uuid4().hex}"
    assert _run(lone_driver, rt.planted(secret), rt.SMALL_TESTS, "total").passed
    scan = _run(lone_driver, rt.MEMORY_SCANNER, rt.SMALL_TESTS, "total")
    assert scan.passed, scan.message  # before: it found the other job's secret
    tests = rt.OBSERVER_TESTS.replace("100)[1] == 4950", "100) == 4950")
    candidates = {"planted": rt.planted(secret), "scanner": rt.MEMORY_SCANNER}
    timing = _time(lone_driver, candidates, tests, "total", 2)
    assert "scanner" in timing.timings, timing.errors


# -- 6. data sent to the host ----------------------------------------------------------------------
def test_what_reaches_the_host_is_bounded_and_nothing_is_logged(sandbox_driver) -> None:
    inputs = [((n,), {}) for n in range(12)]
    outcomes = sandbox_driver.wait(
        sandbox_driver.sandbox.call(
            # limits no loaded machine reaches: the bound on what comes back is the check here,
            # not the deadline (the fast test limits timed calls out under load)
            CallJob(candidate=rt.EXPANDS, entry_point="total", inputs=inputs, limits=ROOMY)
        )
    )
    assert all(o.ok for o in outcomes)
    assert len({o.digest for o in outcomes}) == 1
    sizes = [len(o.model_dump_json()) for o in outcomes]
    assert max(sizes) < 64 * 1024, sizes  # before: the whole dict, as JSON, every call
    ids = [container.id for container in sandbox_driver.sandbox.all if container.id]
    logs = subprocess.run(
        ["docker", "inspect", "-f", "{{.HostConfig.LogConfig.Type}}", *ids],
        capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert logs and set(logs) == {"none"}  # before: json-file, every frame on the host's disk


# -- 7. behaviour lost at the boundary -------------------------------------------------------------
@pytest.mark.parametrize("bug", sorted(rt.BOUNDARY_BUGS))
def test_a_bug_plain_pytest_catches_fails_here_too(sandbox_driver, bug: str) -> None:
    buggy, tests, fixed = rt.BOUNDARY_BUGS[bug]
    assert _run(sandbox_driver, fixed, tests, "normalize").passed
    result = _run(sandbox_driver, buggy, tests, "normalize")
    assert result.verdict is Verdict.FAILED, (bug, result.verdict, result.message)


# -- 8. memory hidden in a child -------------------------------------------------------------------
def test_memory_held_by_a_child_is_charged_to_its_candidate(sandbox_driver) -> None:
    honest = _run(sandbox_driver, rt.LINEAR, rt.SMALL_TESTS, "total")
    hider = _run(sandbox_driver, rt.HIDES_MEMORY, rt.SMALL_TESTS, "total")
    assert honest.passed and hider.passed, (honest.message, hider.message)
    assert hider.peak_memory_mb > 140, hider.peak_memory_mb  # before: about 10 MB
    assert honest.peak_memory_mb < 60, honest.peak_memory_mb


# -- 9. the growth rule ---------------------------------------------------------------------------
def test_padding_small_calls_to_look_flat_wins_nothing(sandbox_driver, tmp_path) -> None:
    folder = _problem(tmp_path, rt.ZERO_PAIRS_STUB, "")
    problem = load_problem(folder)
    candidates = {"honest": rt.ZERO_PAIRS, "padded": rt.PADDED}
    report = sandbox_driver.wait(
        rank_candidates(problem, candidates, sandbox_driver.sandbox, rounds=5, growth=True),
        timeout=600,
    )
    assert report.winner == "honest", report  # before: "padded", through "grows slower"
    padded = next(c for c in report.candidates if c.id == "padded")
    assert padded.growth is not None and (padded.growth.quality or 0) < 0.5, padded.growth


# -- 10. one round's leftovers and the next --------------------------------------------------------
def test_a_large_answer_leaves_the_next_candidate_its_memory(lone_driver) -> None:
    """The honest candidate passes alone with this much memory; timed after a candidate with a
    large answer (in the same job, or the job before) it must still have it."""
    tests = rt.OBSERVER_TESTS.replace("100)[1] == 4950", "100) is not None")
    limits = FAST_LIMITS.model_copy(
        update={
            "memory_mb": 448,
            "candidate_memory_mb": 400,
            "test_seconds": 10,
            "wall_seconds": 60,
        }
    )
    warm = _time(lone_driver, {"linear": rt.LINEAR}, tests, "total", 1, limits=limits)
    assert "linear" in warm.timings, warm.errors
    used = _timer_memory_mb(lone_driver)  # the harness, PID 1, the zygote: what stays
    honest = {"honest": rt.needs_memory(448 - used - 40)}  # with Python and its answer: ~20 MB
    alone = _time(lone_driver, honest, tests, "total", 2, limits=limits)
    assert "honest" in alone.timings, (used, alone.errors)
    _time(lone_driver, {"large": rt.LARGE_ANSWER}, tests, "total", 2, limits=limits)
    after = _time(lone_driver, honest, tests, "total", 2, limits=limits)
    assert "honest" in after.timings, (used, after.errors)  # before: killed for memory
    both = _time(lone_driver, {"large": rt.LARGE_ANSWER} | honest, tests, "total", 4, limits=limits)
    assert "honest" in both.timings, (used, both.errors)


def _timer_memory_mb(driver: SandboxDriver) -> int:
    """The timing container's memory in use between jobs, read from the host."""
    timer = driver.sandbox.timer
    assert timer is not None and timer.id
    pid = subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", timer.id],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    path = next(line.split(":", 2)[2] for line in Path(f"/proc/{pid}/cgroup").read_text()
                .splitlines() if line.split(":", 2)[1] == "memory")  # fmt: skip
    usage = Path(f"/sys/fs/cgroup/memory{path}/memory.usage_in_bytes").read_text()
    return int(usage) >> 20


# -- the disputed case -----------------------------------------------------------------------------
def test_two_candidates_that_disagree_with_no_majority_are_disputed(
    sandbox_driver, tmp_path
) -> None:
    strategies = (
        "from hypothesis import strategies as st\n"
        f"inputs = st.tuples(st.lists(st.integers(), min_size={rt.LONG - 1}, "
        f"max_size={rt.LONG + 2}))\n"
    )
    folder = _problem(tmp_path, rt.COUNT_STUB, "", strategies)
    report = _rank(sandbox_driver, folder, {"counts": rt.COUNTS, "short": rt.WRONG_FOR_LONG}, 3)
    assert report.disputed, report  # before: a tie, and the shorter source won
    assert report.winner is None
    majority = _rank(sandbox_driver, folder,
                     {"a": rt.COUNTS, "b": rt.COUNTS.replace("x % 2 == 0", "not x % 2"),
                      "short": rt.WRONG_FOR_LONG}, 3)  # fmt: skip
    assert not majority.disputed and majority.winner in {"a", "b"}, majority
