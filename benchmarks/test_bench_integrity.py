"""What integrity costs (issue #18), side by side in one run (``make bench``):

- a trivial candidate on the warm pool against the strict reference path (fresh containers,
  plain pytest beside the isolated run);
- drawing a problem's inputs inside the sandbox against drawing them in this process (which
  would run the problem's code on the host).

The warm pool's own figures against the design before (per job, per timing round, per call)
are ``benchmarks/test_bench_sandbox.py``, run in both checkouts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen.problems import load_problem
from codegen.ranking.inputs import draw, draw_here
from sandbox import RunJob, Verdict
from sandbox.strict import StrictSandbox
from tests.sandboxed.conftest import SandboxDriver

pytestmark = pytest.mark.docker

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TRIVIAL = "def solve(n):\n    return n + 1\n"
TESTS = {
    "test_trivial.py": "from solution import solve\n\ndef test_one():\n    assert solve(1) == 2\n"
}


def _job() -> RunJob:
    return RunJob(entry_point="solve", test_files=TESTS, candidate=TRIVIAL)


@pytest.fixture(scope="module")
def strict_driver():
    driver = SandboxDriver()
    driver.wait(driver.sandbox.__aexit__(None, None, None))
    driver.sandbox = StrictSandbox(workers=1)
    driver.wait(driver.sandbox.__aenter__())
    yield driver
    driver.close()


@pytest.mark.benchmark(group="isolation")
def test_warm_pool_per_candidate(benchmark, sandbox_driver) -> None:
    def one() -> None:
        assert sandbox_driver.wait(sandbox_driver.sandbox.run(_job())).verdict is Verdict.PASSED

    one()
    benchmark.pedantic(one, rounds=20)


@pytest.mark.benchmark(group="isolation")
def test_strict_path_per_candidate(benchmark, strict_driver) -> None:
    def one() -> None:
        assert strict_driver.wait(strict_driver.sandbox.run(_job())).verdict is Verdict.PASSED

    benchmark.pedantic(one, rounds=5)


@pytest.mark.benchmark(group="drawing")
def test_drawing_in_the_sandbox(benchmark, sandbox_driver) -> None:
    problem = load_problem(EXAMPLES / "sum_squares")
    drawn = benchmark.pedantic(
        lambda: sandbox_driver.wait(draw(problem, sandbox_driver.sandbox)), rounds=5
    )
    assert len(drawn.args) == 30


@pytest.mark.benchmark(group="drawing")
def test_drawing_on_the_host_for_scale(benchmark) -> None:
    problem = load_problem(EXAMPLES / "sum_squares")
    drawn = benchmark.pedantic(lambda: draw_here(problem), rounds=5)
    assert len(drawn.args) == 30
