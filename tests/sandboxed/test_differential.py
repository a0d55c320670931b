"""Differential agreement, the invariant of issue #18: for every candidate, honest or hostile,
the warm pool gives the verdict of the strict reference path (a fresh container per candidate,
plain pytest beside the isolated run), and never orders candidates the strict path ties. When a
future change breaks the warm path, these catch it. The corpus is
:mod:`tests.sandboxed.differential_corpus`.

And the reference itself: the strict path's verdict is plain pytest's, in a fresh container,
for every honest candidate of the corpus (``test_the_reference_is_plain_pytest``).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen.ranking import compare_timings
from sandbox import RunJob, RunResult, TimingJob, Verdict
from sandbox.strict import StrictSandbox

from . import differential_corpus as corpus
from .conftest import FAST_LIMITS, SandboxDriver

pytestmark = pytest.mark.docker

LIMITS = FAST_LIMITS.model_copy(update={"test_seconds": 2.0, "wall_seconds": 12.0})
SEED = "differential"


class StrictDriver(SandboxDriver):
    def __init__(self) -> None:
        super().__init__()
        self.wait(self.sandbox.__aexit__(None, None, None))
        self.sandbox = StrictSandbox(workers=2, limits=LIMITS)
        self.wait(self.sandbox.__aenter__())


@pytest.fixture(scope="module")
def strict_driver() -> Iterator[SandboxDriver]:
    driver = StrictDriver()
    yield driver
    driver.close()


def _job(problem: str, source: str) -> RunJob:
    return RunJob(
        entry_point=problem, test_files={"test_problem.py": corpus.PROBLEMS[problem]},
        candidate=source, limits=LIMITS, seed=SEED,
    )  # fmt: skip


def _both(warm: SandboxDriver, strict: SandboxDriver, problem: str, source: str):
    job = _job(problem, source)
    return warm.wait(warm.sandbox.run(job)), strict.wait(strict.sandbox.run(job), timeout=300)


def _same(warm: RunResult, strict: RunResult, case: object) -> None:
    assert warm.verdict == strict.verdict, (case, warm.message, strict.message)
    failing = {t.name for t in warm.tests if t.status != "passed"}
    assert failing == {t.name for t in strict.tests if t.status != "passed"}, case


@pytest.mark.parametrize("case", corpus.NAMED, ids=lambda c: " / ".join(c))
def test_the_red_teams_cases_get_the_reference_verdict(sandbox_driver, strict_driver, case):
    warm, strict = _both(sandbox_driver, strict_driver, case[0], corpus.candidate(*case))
    _same(warm, strict, case)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_candidate_gets_the_reference_verdict(sandbox_driver, strict_driver, data) -> None:
    problem = data.draw(st.sampled_from(sorted(corpus.PROBLEMS)))
    prefix = data.draw(st.sampled_from(sorted(corpus.PREFIXES)))
    body = data.draw(st.sampled_from(sorted(corpus.BODIES[problem])))
    source = corpus.candidate(problem, prefix, body)
    warm, strict = _both(sandbox_driver, strict_driver, problem, source)
    _same(warm, strict, (problem, prefix, body))


def test_what_only_plain_pytest_sees(sandbox_driver, strict_driver) -> None:
    """A candidate that changes a module it shares with the tests (here ``sorted``) changes what
    the tests compute under plain pytest, and only its own process in the warm pool: the strict
    path fails it (documented in the README); the warm path cannot see it."""
    shared = corpus.SHARED_STATE["normalize"]
    warm, strict = _both(sandbox_driver, strict_driver, "normalize", shared)
    assert warm.passed
    assert strict.verdict is Verdict.FAILED and strict.message.startswith("plain pytest:")


# -- timing: never order what the reference ties ---------------------------------------------------
TIES = {
    "renamed copies": ("loop", "loop"),
    "same code, work moved to import": ("right", "right"),
}


@pytest.mark.parametrize("pair", sorted(TIES))
def test_what_the_reference_ties_the_warm_pool_does_not_order(sandbox_driver, strict_driver, pair):
    first, second = TIES[pair]
    candidates = {
        "a": corpus.BODIES["total"][first],
        "b": (corpus.PREFIXES["work at import"] if pair.startswith("same code") else "")
        + corpus.BODIES["total"][second],
    }
    if pair.startswith("same code"):  # both pay the same work at import
        candidates["a"] = corpus.PREFIXES["work at import"] + candidates["a"]
    files = {"test_problem.py": corpus.PROBLEMS["total"]}
    samples = {}
    for name, driver, rounds in (("warm", sandbox_driver, 30), ("strict", strict_driver, 5)):
        timing = driver.wait(
            driver.sandbox.time(
                TimingJob(
                    test_files=files,
                    entry_point="total",
                    candidates=candidates,
                    rounds=rounds,
                    limits=LIMITS,
                    seed=SEED,
                )
            ),
            timeout=600,
        )
        assert set(timing.timings) == {"a", "b"}, (name, timing.errors)
        samples[name] = {cid: s[0].samples for cid, s in timing.timings.items()}
    # A round here is ~0.5 ms of CPU, and one round of the same code varies by ±30 %: the warm
    # pool's ratio of two medians against fixed bounds failed under load. What the test claims
    # is the ranking's own decision, so that is what it asks of the warm pool: its statistics
    # on the interleaved rounds put the two in one tier.
    strict = samples["strict"]
    ratio = statistics.median(strict["b"]) / statistics.median(strict["a"])
    assert 0.6 < ratio < 1.6, strict  # the reference ties them
    tiers = {t.id: t.tier for t in compare_timings(samples["warm"])}
    assert tiers == {"a": 1, "b": 1}, samples["warm"]  # and the warm pool orders nothing


# -- the reference is plain pytest -----------------------------------------------------------------
# Honest: nothing forged (an always-equal answer fools plain pytest, not the isolated run), and
# every one ends by itself (plain pytest has no per-test limit: a loop costs its whole job).
HONEST = [(p, "nothing", b) for p, bodies in corpus.BODIES.items() for b in bodies
          if b not in {"always equal", "int subclass", "loops on empty", "loops forever",
                       "eats memory", "floods output"}]  # fmt: skip


def test_the_reference_is_plain_pytest(strict_driver) -> None:
    """For honest candidates (right or wrong, none forging anything), the strict verdict is
    exactly plain pytest's in a fresh container (its plain half alone)."""
    from sandbox.strict import PLAIN_COMMAND, plain_verdict

    sandbox = strict_driver.sandbox
    for case in HONEST:
        job = _job(case[0], corpus.candidate(*case))
        strict = strict_driver.wait(sandbox.run(job), timeout=300)
        plain = strict_driver.wait(
            sandbox._fresh(job.model_dump(mode="json"), job.limits, PLAIN_COMMAND), timeout=300
        )
        verdict, message = plain_verdict(plain)
        passed = verdict is Verdict.PASSED
        assert strict.passed == passed, (case, strict.message, message)
