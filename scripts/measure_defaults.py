"""How often the embedded models solve the quick-start problems, and what a sample costs: the
figures behind the default roster (docs/defaults.md).

For each problem, every (model, persona) is sampled N times exactly as `codegen solve` asks
(the same prompt, personas, temperature and token cap), every sample is tested in the Docker
sandbox against the problem's visible tests, and pass@k is estimated with the unbiased estimator
of Chen et al. (2021): the chance that a run of k samples holds at least one passing candidate.

    .venv/bin/python scripts/measure_defaults.py --models qwen2.5-coder-0.5b --samples 6 \\
        examples/two_sum examples/sum_squares/problem.py examples/slugify/slugify.py

One problem at a time, one model server per core; the machine's load shows in the seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections import Counter
from pathlib import Path

from codegen.evaluation import verify
from codegen.generation.fanout import generate
from codegen.local_models import DEFAULT_PERSONAS, LocalRuntime, local_roster
from codegen.problems import load_problem
from codegen.settings import SandboxSettings
from codegen.solve.rounds import generation_task
from sandbox import DEFAULT_LIMITS


def pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k): at least one of k samples (of n drawn, c passing) passes."""
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


async def measure(problem_path: str, endpoints, samples: int, personas: list[str]) -> dict:  # noqa: ANN001
    problem = load_problem(problem_path)
    roster = local_roster(endpoints, personas=personas, samples=samples)
    started = time.perf_counter()
    result = await generate(generation_task(problem), roster)
    generation_s = time.perf_counter() - started
    sandbox = SandboxSettings().open(DEFAULT_LIMITS)
    async with sandbox:
        sources = {f"c{i}": c.code for i, c in enumerate(result.candidates)}
        runs = await verify(problem, sources, sandbox, set_aside=False) if sources else {}
    by_model: dict[str, Counter] = {}
    for i, candidate in enumerate(result.candidates):
        passed = runs[f"c{i}"].passed
        for proposal in candidate.proposers:
            tally = by_model.setdefault(proposal.model.removeprefix("openai/"), Counter())
            tally["samples"] += 1
            tally["passed"] += passed
            tally["completion_tokens"] += proposal.completion_tokens
            tally["latency_s"] += proposal.latency_s
    for failure in result.failures:
        tally = by_model.setdefault(failure.model.removeprefix("openai/"), Counter())
        tally["samples"] += 1
        tally["unusable"] += 1
    report = {"problem": problem_path, "generation_s": round(generation_s, 1), "models": {}}
    for model, tally in by_model.items():
        n, c = tally["samples"], tally["passed"]
        report["models"][model] = {
            "samples": n,
            "passed": c,
            "unusable": tally["unusable"],
            "mean_latency_s": round(tally["latency_s"] / max(1, n - tally["unusable"]), 1),
            "mean_tokens": round(tally["completion_tokens"] / max(1, n - tally["unusable"])),
            "pass@k": {k: round(pass_at_k(n, c, k), 3) for k in (1, 4, 8, 12) if k <= n},
        }
    report["failures"] = Counter(f.message[:80] for f in result.failures).most_common(5)
    report["failing_first_lines"] = [
        next((t.message.splitlines()[0] for t in runs[f"c{i}"].tests
              if t.status != "passed" and t.message), runs[f"c{i}"].message[:100])
        for i in range(len(result.candidates)) if not runs[f"c{i}"].passed
    ][:8]  # fmt: skip
    report["candidates"] = [{"code": c.code, "passed": runs[f"c{i}"].passed,
                             "samples": len(c.proposers)}
                            for i, c in enumerate(result.candidates)]  # fmt: skip
    report["unusable_replies"] = [f.message for f in result.failures]
    return report


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("problems", nargs="+")
    parser.add_argument("--models", action="append", required=True)
    parser.add_argument("--samples", type=int, default=6, help="per model and persona")
    parser.add_argument("--personas", default=",".join(DEFAULT_PERSONAS))
    parser.add_argument("--out", type=Path, help="append one JSON line per problem here")
    args = parser.parse_args()
    personas = args.personas.split(",")
    with LocalRuntime(args.models) as runtime:
        for problem in args.problems:
            report = await measure(problem, runtime.endpoints, args.samples, personas)
            report["config"] = {"models": args.models, "samples": args.samples,
                                "personas": personas}  # fmt: skip
            line = json.dumps(report)
            print(line, flush=True)
            if args.out:
                with args.out.open("a") as handle:
                    handle.write(line + "\n")


if __name__ == "__main__":
    asyncio.run(main())
