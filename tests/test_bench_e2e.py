"""`codegen bench` end to end, as a user runs it: a subprocess on a small HumanEval slice, the
real sandbox, a real OpenAI-speaking server on loopback answering with the canonical solution,
a wrong variant and a slow variant. The run is killed with SIGKILL mid-way and resumed; nothing
may be lost, duplicated or asked of the models twice."""

from __future__ import annotations

import json
import shlex
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from codegen.bench.suites import HumanEvalSuite
from tests.bench_support import (
    bench_command,
    bench_env,
    codegen_bench,
    count,
    humaneval_server,
    pass_table,
)

PROBLEMS = 4
SAMPLES = 2
MODELS = ("canonical", "wrong", "slow")


def _run_args(base_url: str) -> list[str]:
    return [
        "run", "--suite", "humaneval", "--models", ",".join(f"openai/{m}" for m in MODELS),
        "--samples", str(SAMPLES), "--limit", str(PROBLEMS), "--run-name", "e2e",
        "--api-base", base_url, "--rounds", "3", "--judges", "openai/judge",
    ]  # fmt: skip


def _kill_after_first_problem(db: Path, args: list[str]) -> str:
    """Start the run, SIGKILL it once one problem is done and before all are."""
    process = subprocess.Popen(
        bench_command(*args), env=bench_env(db), stderr=subprocess.PIPE, text=True
    )
    seen = []
    try:
        assert process.stderr is not None
        for line in process.stderr:
            seen.append(line)
            if line.startswith("[1/"):
                break
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    assert process.returncode == -signal.SIGKILL
    return "".join(seen)


@pytest.mark.docker
@pytest.mark.slow
def test_run_killed_mid_way_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite"
    problems = HumanEvalSuite().problems()[:PROBLEMS]
    expected_samples = PROBLEMS * len(MODELS) * SAMPLES
    with humaneval_server(problems, delays={"slow": 0.3}) as server:
        args = _run_args(server.base_url)
        log = _kill_after_first_problem(db, args)
        done = count(db, "SELECT count(*) FROM problems WHERE status = 'done'")
        assert 1 <= done < PROBLEMS, log
        stored = count(db, "SELECT count(*) FROM samples")
        written = count(db, "SELECT count(*) FROM tester_replies")
        asked_before = len(generation_requests(server.requests))
        tester_before = len(asked_testers(server.requests))

        resumed = codegen_bench(db, *args)
        assert resumed.returncode == 0, resumed.stderr
        assert f"{PROBLEMS}/{PROBLEMS} problems done ({PROBLEMS - done} evaluated" in resumed.stdout
        assert f"{done}/{PROBLEMS} problems already done" in resumed.stderr
        # Exactly the samples missing at the kill were asked for again, and no other.
        assert len(generation_requests(server.requests)) - asked_before == expected_samples - stored
        # Likewise the tester: one request per problem and model, stored, never asked twice.
        tester_now = len(asked_testers(server.requests)) - tester_before
        assert tester_now == PROBLEMS * len(MODELS) - written
        # The jury sat on every evaluated problem: 2 passing programs, 3 aspects.
        judge = [r for r in server.requests if r["body"].get("model") == "judge"]
        assert len(judge) >= 3 * PROBLEMS
    phases = [json.loads(p) for (p,) in query(db, "SELECT phases FROM problems")]
    assert all(phase["ranking.jury"] > 0 for phase in phases), phases

    assert count(db, "SELECT count(*) FROM runs") == 1
    assert count(db, "SELECT count(*) FROM problems WHERE status = 'done'") == PROBLEMS
    assert count(db, "SELECT count(*) FROM samples") == expected_samples
    assert count(db, "SELECT count(*) FROM samples WHERE status != 'ok'") == 0
    assert count(db, "SELECT count(*) FROM tester_replies WHERE error = ''") == PROBLEMS * 3
    assert count(db, "SELECT count(*) FROM candidates") == PROBLEMS * len(MODELS)  # deduped
    table = pass_table(db, "e2e")
    assert len(table) == expected_samples
    for (problem, model, _), (passed, pick_passed) in table.items():
        assert passed is (model != "openai/wrong"), (problem, model)
        assert pick_passed, problem

    report = codegen_bench(db, "report", "e2e", "-o", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    rows = {line.split("|")[1].strip(): line for line in report.stdout.splitlines()
            if line.startswith("| ")}  # fmt: skip
    assert "| 100.0% |" in rows["openai/canonical"] and "| 100.0% |" in rows["openai/slow"]
    assert "| 0.0% |" in rows["openai/wrong"]
    assert "| 100.0% |" in rows["**ensemble (pick)**"]
    slow_efficiency = float(rows["openai/slow"].split("|")[9].strip().rstrip("×"))
    assert slow_efficiency > 1.5  # the busy loop shows, measured against the canonical
    assert (tmp_path / "report" / "index.html").read_text().count("<svg") == 4

    same = codegen_bench(db, "compare", "e2e", "e2e")
    assert same.returncode == 0 and "0 difference(s)" in same.stdout


def generation_requests(requests: list[dict]) -> list[dict]:
    return [r for r in requests if r["body"].get("model") != "judge" and not r["tester"]]


def asked_testers(requests: list[dict]) -> list[dict]:
    return [r for r in requests if r["tester"]]


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as raw:
        return raw.execute(sql).fetchall()


@pytest.mark.slow  # seven `codegen bench` processes
def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite"
    cases = [
        (["run", "--suite", "nowhere", "--models", "openai/x"], "unknown suite 'nowhere'"),
        (["run", "--models", "openai/x", "--samples", "0"], "--samples 0"),
        (["run", "--models", "openai/x", "--executor", "slurm"], "unknown executor 'slurm'"),
        (["run", "--models", "openai/x", "--ray-generation"], "--ray-generation needs --executor"),
        (
            [
                "run",
                "--models",
                "openai/x",
                "--api-base",
                "http://127.0.0.1:9/v1",
                "--judges",
                "nonsense",
            ],
            "unknown judge model",
        ),  # fmt: skip
        (["report", "missing"], "no run named 'missing'"),
        (["compare", "a", "b"], "no run named 'a'"),
    ]
    started = time.monotonic()
    # the seven runs side by side: each is a process of its own, refused before any work
    processes = [
        subprocess.Popen(bench_command(*args), env=bench_env(db), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for args, _ in cases
    ]  # fmt: skip
    for (args, message), process in zip(cases, processes, strict=True):
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 2, (args, stderr)
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, stderr)
    assert time.monotonic() - started < 300  # refused before any work (a run is far longer)


@pytest.mark.docker  # `bench run` evaluates on the local executor: the Docker pool
def test_the_report_hint_carries_the_store_the_user_named(tmp_path: Path) -> None:
    """`run --db FILE` ends with the report command to type next: it must name FILE too (it
    used to drop it, and the report then looked in the default store and found nothing)."""
    problems = HumanEvalSuite().problems()[:1]
    db = tmp_path / "elsewhere.sqlite"
    env = {k: v for k, v in bench_env(tmp_path / "unused.sqlite").items()
           if k != "CODEGEN_BENCH_DB"}  # fmt: skip
    with humaneval_server(problems) as server:
        done = subprocess.run(
            bench_command("run", "--models", "openai/canonical", "--limit", "1", "--run-name",
                          "hint", "--api-base", server.base_url, "--rounds", "3",
                          "--no-tester", "--db", str(db)),
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    hint = done.stdout.strip().splitlines()[-1].split("report: ", 1)[1]
    assert hint == shlex.join(["codegen", "bench", "report", "hint", "--db", str(db)])
    words = shlex.split(hint)
    again = subprocess.run(
        [*bench_command()[:-1], *words[1:]], capture_output=True, text=True, env=env, timeout=120
    )
    assert again.returncode == 0, again.stderr
    assert "| openai/canonical | 100.0% |" in again.stdout
