"""The service's speed, side by side in one run, against fake models of fixed latency L = 3 s
(a loopback OpenAI-compatible server; five models, which all write the same correct two_sum):

- a cold ``codegen solve`` (a new process: imports, Docker pool, the run) against
  ``codegen solve --server`` on a warm ``codegen serve``, for the same problem. Goal: the warm
  path within L + 1.0 s.
- 20 concurrent clients, each asking for 5 models: all complete; p50 and p95 of their wall time.

Reproduce with ``.venv/bin/python -m pytest benchmarks/test_bench_service.py -s -q``.
"""

from __future__ import annotations

import concurrent.futures
import statistics
import time
from pathlib import Path

import pytest

from codegen.problems import load_problem
from codegen.service.client import solve_remote
from codegen.settings import Overrides
from tests.cli_support import ROOT, TWO_SUM_HASH, FakeServerProcess, codegen, fenced
from tests.service_support import ServiceProcess

pytestmark = pytest.mark.docker

LATENCY_S = 3.0
MODELS = [f"openai/m{i}" for i in range(5)]
CONFIG = """\
personas = ["simplest"]

[[workers]]
model = "openai/m0"

[sandbox]
timing_rounds = 3
"""


def test_warm_service_against_cold_solve(tmp_path: Path) -> None:
    reply = {**fenced(TWO_SUM_HASH), "delay_s": LATENCY_S}
    script = {"models": {m.split("/")[1]: [reply] for m in MODELS}}
    flags = ["--models", ",".join(MODELS), "--no-jury", "--json"]
    problem = str(ROOT / "examples" / "two_sum")
    (tmp_path / "codegen.toml").write_text(CONFIG)
    with FakeServerProcess(script, tmp_path) as models:
        env = {"OPENAI_API_BASE": models.base_url}
        cold = []
        for _ in range(2):
            started = time.perf_counter()
            done = codegen("solve", problem, *flags, cwd=tmp_path, env=env)
            cold.append(time.perf_counter() - started)
            assert done.returncode == 0, done.stderr
        flags_20 = ("--max-running", "20", "--max-pending", "64", "--per-token", "64")
        with ServiceProcess(tmp_path / "service", models.base_url, *flags_20,
                            config=CONFIG) as service:  # fmt: skip
            warm = []
            for _ in range(3):
                started = time.perf_counter()
                done = codegen("solve", problem, *flags, "--server", service.url, env=env)
                warm.append(time.perf_counter() - started)
                assert done.returncode == 0, done.stderr
            clients = _concurrent_clients(service.url, problem, count=20)
    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    p50, p95 = statistics.median(clients), statistics.quantiles(clients, n=20)[18]
    print(
        f"\nservice: cold solve {cold_s:.2f} s (runs {', '.join(f'{c:.2f}' for c in cold)}), "
        f"warm --server {warm_s:.2f} s (runs {', '.join(f'{w:.2f}' for w in warm)}), "
        f"L = {LATENCY_S:.1f} s; 20 concurrent clients × 5 models: p50 {p50:.2f} s, "
        f"p95 {p95:.2f} s, slowest {max(clients):.2f} s"
    )
    assert warm_s <= LATENCY_S + 1.0
    assert len(clients) == 20


def _concurrent_clients(url: str, problem: str, count: int) -> list[float]:
    """``count`` clients at once, each a ``codegen solve --server`` run through the client
    library (a subprocess each would measure 20 Python start-ups on 2 cores)."""
    loaded = load_problem(problem)
    overrides = Overrides(models=MODELS, jury=False)

    def one(_: int) -> float:
        started = time.perf_counter()
        report = solve_remote(url, loaded, overrides)
        assert report.solved
        return time.perf_counter() - started

    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))
