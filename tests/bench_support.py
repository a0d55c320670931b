"""Shared by the bench tests and benchmark: a fake model server that answers HumanEval prompts
with the canonical solution, a wrong variant or a slow variant, per model name, and a judge."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from codegen.problems import Problem
from codegen.testing import FakeOpenAIServer
from codegen.testing.fake_openai import Reply, Script
from tests.cli_support import CODEGEN, cli_env, codegen

ENTRY = re.compile(r"The function must be named `([A-Za-z_][A-Za-z0-9_]*)`")
SLOW_LOOP = 30_000  # extra iterations per call: clearly slower, still far inside the limits


def canonical(problem: Problem) -> str:
    return problem.canonical_solution or ""


def wrong(problem: Problem) -> str:
    return f"def {problem.entry_point}(*args, **kwargs):\n    return None\n"


def slow(problem: Problem) -> str:
    """The canonical solution behind a busy loop: correct, measurably less efficient."""
    entry = problem.entry_point
    return (
        f"{canonical(problem)}\n\n_reference = {entry}\n\n\n"
        f"def {entry}(*args, **kwargs):\n"
        f"    total = 0\n    for i in range({SLOW_LOOP}):\n        total += i\n"
        f"    return _reference(*args, **kwargs)\n"
    )


def wrapped(problem: Problem) -> str:
    """The canonical solution behind a plain wrapper: a distinct program, equally right."""
    entry = problem.entry_point
    return (
        f"{canonical(problem)}\n\n_reference = {entry}\n\n\n"
        f"def {entry}(*args, **kwargs):\n    return _reference(*args, **kwargs)\n"
    )


def raises(problem: Problem) -> str:
    return f"def {problem.entry_point}(*args, **kwargs):\n    return len(args) / 0\n"


VARIANTS = {"canonical": canonical, "wrong": wrong, "slow": slow, "wrapped": wrapped,
            "raises": raises}  # fmt: skip


def responder(problems: list[Problem], variant: str, delay_s: float = 0.0) -> Any:
    """A fake_openai Responder: finds the problem by the stub in the prompt."""
    by_stub = [(p.prompt.strip("\n"), p) for p in problems]
    make = VARIANTS[variant]

    def answer(request: dict[str, Any]) -> Reply:
        text = " ".join(str(m.get("content", "")) for m in request.get("messages", []))
        for stub, problem in by_stub:
            if stub in text:
                return Reply(content=f"```python\n{make(problem)}\n```", delay_s=delay_s)
        return Reply(status=404, body='{"error": {"message": "unknown problem"}}')

    return answer


CANDIDATE_BLOCK = re.compile(r"### Candidate (\w)\n```python\n(.*?)```", re.DOTALL)


def judge(request: dict[str, Any]) -> Reply:
    """A juror that prefers shorter code: a valid ballot for every candidate it is shown."""
    prompt = str(request["messages"][-1]["content"])
    ballot = [
        {"label": label, "score": max(1, 10 - len(code) // 100), "complexity": "O(n)", "note": ""}
        for label, code in CANDIDATE_BLOCK.findall(prompt)
    ]
    return Reply(content=json.dumps({"candidates": ballot}))


def humaneval_server(
    problems: list[Problem], delays: dict[str, float] | None = None
) -> FakeOpenAIServer:
    """Models named after :data:`VARIANTS` (address them as openai/NAME), and openai/judge."""
    delays = delays or {}
    models: dict[str, Any] = {name: responder(problems, name, delays.get(name, 0.0))
                              for name in VARIANTS}  # fmt: skip
    return FakeOpenAIServer(Script(models={**models, "judge": judge}))


def bench_env(db: Path) -> dict[str, str]:
    """The environment of a `codegen bench` subprocess: no real keys, a private store."""
    return cli_env({"CODEGEN_BENCH_DB": str(db), "RAY_USAGE_STATS_ENABLED": "0"})


def bench_command(*args: str) -> list[str]:
    return [*CODEGEN, "bench", *args]


def codegen_bench(db: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return codegen("bench", *args, env=bench_env(db), timeout=timeout)


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as raw:
        return int(raw.execute(sql).fetchone()[0])


def pass_table(db: Path, run: str) -> dict[tuple[str, str, int], tuple[bool, bool]]:
    """(problem, model, sample) -> (the sample passes, the problem's pick passes)."""
    with sqlite3.connect(db) as raw:
        rows = raw.execute(
            "SELECT s.problem, s.model, s.sample, json_extract(c.outcome, '$.passed'), "
            "p.pick_passed FROM samples s JOIN runs r ON r.id = s.run_id "
            "JOIN problems p ON p.run_id = s.run_id AND p.problem = s.problem "
            "LEFT JOIN candidates c ON c.run_id = s.run_id AND c.problem = s.problem "
            "AND c.code_hash = s.code_hash WHERE r.name = ?",
            (run,),
        )
        return {(p, m, s): (bool(ok), bool(pick)) for p, m, s, ok, pick in rows}
