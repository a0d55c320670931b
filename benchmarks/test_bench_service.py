"""The answer as soon as it is known (issue 23), side by side in one run, against fake models of
fixed latency L = 3 s (a loopback OpenAI-compatible server; five models, which all write the same
correct two_sum, and whose tester requests take L too), with the **default roster**: four
personas per model and the tester, 20 + 5 requests per run.

- cold ``codegen solve`` (a new process: imports, Docker pool, the run) and warm
  ``codegen solve --server`` on a running ``codegen serve``, as a client runs them: printed
  code (which ends at the answer), and ``--json`` (the full report, enrichment included).
  Goals: warm ≤ L + 1.0 s, cold ≤ L + 6 s (time to the answer on stdout and to the exit).
- warm with no flag at all (the service found by discovery), which must cost the same.
- 20 concurrent clients, each asking for 5 models: all complete; p50 and p95 of their wall time.

The phase table (generate, verify, decide, enrich, answer, total) comes from the ``--json``
reports. The machine's load average is printed with the figures: compare within one run.

Reproduce with ``.venv/bin/python -m pytest benchmarks/test_bench_service.py -s -q``.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import pytest

from codegen.problems import load_problem
from codegen.service.client import solve_remote
from codegen.settings import Overrides
from tests.cli_support import CODEGEN, ROOT, TWO_SUM_HASH, FakeServerProcess, cli_env, fenced
from tests.service_support import ServiceProcess

pytestmark = pytest.mark.docker

LATENCY_S = 3.0
MODELS = [f"openai/m{i}" for i in range(5)]
# The service's own roster (the clients name the models); personas and tester: the defaults.
CONFIG = '[[workers]]\nmodel = "openai/m0"\n'

PHASES = ("generate_s", "verify_s", "decide_s", "enrich_s", "answer_s", "total_s")


def test_warm_service_against_cold_solve(tmp_path: Path) -> None:
    reply = {**fenced(TWO_SUM_HASH), "delay_s": LATENCY_S}
    tester = {"content": "No test cases.", "delay_s": LATENCY_S}
    names = [m.split("/")[1] for m in MODELS]
    script = {"models": {n: [reply] for n in names}, "testers": {n: [tester] for n in names}}
    problem = str(ROOT / "examples" / "two_sum")
    flags = ["--models", ",".join(MODELS)]
    (tmp_path / "codegen.toml").write_text(CONFIG)
    rows: dict[str, list[tuple[float, float, float]]] = {}
    reports: dict[str, dict] = {}
    with FakeServerProcess(script, tmp_path) as models:
        env = cli_env({"OPENAI_API_BASE": models.base_url,
                       "CODEGEN_HOME": str(tmp_path / "service" / "home")})  # fmt: skip
        load_before = os.getloadavg()
        for _ in range(2):
            rows.setdefault("cold solve", []).append(
                _client(["solve", problem, *flags, "--no-server"], tmp_path, env)
            )
        reports["cold --json"] = _report(["solve", problem, *flags, "--no-server"], tmp_path, env)
        flags_20 = ("--max-running", "20", "--max-pending", "64", "--per-token", "64")
        with ServiceProcess(tmp_path / "service", models.base_url, *flags_20,
                            config=CONFIG) as service:  # fmt: skip
            _client(["solve", problem, *flags, "--server", service.url], tmp_path, env)  # warm-up
            for _ in range(3):
                rows.setdefault("warm solve --server", []).append(
                    _client(["solve", problem, *flags, "--server", service.url], tmp_path, env)
                )
            rows["warm solve (found, no flag)"] = [
                _client(["solve", problem, *flags], service.folder, env)
            ]
            reports["warm --json"] = _report(
                ["solve", problem, *flags, "--server", service.url], tmp_path, env
            )
            rows["warm solve --server --json"] = [(reports["warm --json"]["_wall"],) * 2 + (0.0,)]
            clients = _concurrent_clients(service.url, problem, count=20)
        load_after = os.getloadavg()
    rows["cold solve --json"] = [(reports["cold --json"]["_wall"],) * 2 + (0.0,)]
    print(f"\nload average before {load_before[0]:.1f}, after {load_after[0]:.1f} (2 cores); "
          f"L = {LATENCY_S:.1f} s; 5 models x 4 personas + 5 tester requests per run")  # fmt: skip
    print(f"{'path':<30} {'answer on stdout':>18} {'exit':>8} {'client CPU':>11}   runs (exit)")
    for name, runs in rows.items():
        answer = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        cpu = statistics.median(r[2] for r in runs)
        every = ", ".join(f"{r[1]:.2f}" for r in runs)
        print(f"{name:<30} {answer:>16.2f} s {wall:>6.2f} s {cpu:>9.2f} s   {every}")
    print(f"{'phases (s)':<14}" + "".join(f"{p.removesuffix('_s'):>10}" for p in PHASES))
    for name, report in reports.items():
        phases = report["phases_s"]
        print(f"{name:<14}" + "".join(f"{phases.get(p, 0.0):>10.2f}" for p in PHASES))
    p50, p95 = statistics.median(clients), statistics.quantiles(clients, n=20)[18]
    print(f"20 concurrent clients x 5 models: p50 {p50:.2f} s, p95 {p95:.2f} s, "
          f"slowest {max(clients):.2f} s")  # fmt: skip
    assert len(clients) == 20
    warm = statistics.median(r[1] for r in rows["warm solve --server"])
    cold = statistics.median(r[1] for r in rows["cold solve"])
    assert warm <= LATENCY_S + 1.0, f"warm {warm:.2f} s (goal {LATENCY_S + 1.0:.1f} s)"
    assert cold <= LATENCY_S + 6.0, f"cold {cold:.2f} s (goal {LATENCY_S + 6.0:.1f} s)"


def _client(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """(seconds to the first line of the answer on stdout, seconds to the exit, CPU seconds
    the process used: what it would take on an idle machine, the load aside) of one run."""
    started = time.perf_counter()
    process = subprocess.Popen([*CODEGEN, *args], cwd=cwd, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    answered = time.perf_counter() - started
    rest, errors = process.stdout.read(), process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, errors
    assert first + rest == TWO_SUM_HASH
    return answered, time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def _report(args: list[str], cwd: Path, env: dict[str, str]) -> dict:
    started = time.perf_counter()
    done = subprocess.run([*CODEGEN, *args, "--json"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    report["_wall"] = time.perf_counter() - started
    assert report["ranking"]["enriched"] and report["ranking"]["decision"]["after"] == "tests"
    return report


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
