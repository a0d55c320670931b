"""Calibrate the pick's confidence on scored pools, tuning on one split and reporting both.

Reads what ``python -m benchmarks.pools.score POOL --json FILE`` wrote (every task's pick, its
truth and the evidence counted behind the winner) and prints, for each split, the pick accuracy
and the reliability table of :func:`codegen.ranking.confidence.confidence` (Brier, ECE, bins).
With ``--fit``, it also fits the weights of the log-odds sum on the tuning split (L2-penalised
logistic regression, the same features as the product) and reports those weights on both splits:
that is how the product's weights were chosen, and how they are checked on a split they never saw.

    .venv/bin/python -m benchmarks.pools.calibrate SCORE.json [...] [--held-out FRESH.json] [--fit]

The split is by position: the even-numbered tasks of each file tune, the odd-numbered ones are
held out; files given after ``--held-out`` (pools never tuned on) are held out whole.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codegen.bench.metrics import Reliability, reliability
from codegen.ranking.confidence import (
    FEATURES,
    WEIGHTS,
    Evidence,
    confidence,
    features,
    support,
)

Row = tuple[Evidence, bool]  # the winner's evidence, and whether the pick is right
PENALTY = 1.0  # L2 on the weights (not the intercept): 20 tasks cannot carry more
# Too few wrong winners fail model-written tests to fit these: they are set (docs/confidence.md)
FIXED = {name: WEIGHTS[name] for name in ("same_model_votes", "agreed_failed", "tests_short")}


def load_runs(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every run in a file (with and without model-written tests), by a name for the table."""
    runs = json.loads(path.read_text())
    return {
        f"{path.stem}, {'with' if run['with_tests'] else 'without'} tests": run["tasks"]
        for run in runs
    }


def rows(tasks: Sequence[dict[str, Any]]) -> list[Row]:
    return [
        (Evidence.model_validate(t["counted"]), bool(t["pick"]))
        for t in tasks
        if t["pick"] is not None and t.get("counted")
    ]


def fit(
    data: Sequence[Row], penalty: float = PENALTY, fixed: Mapping[str, float] = FIXED
) -> dict[str, float]:
    """Logistic regression by Newton's method, the ``fixed`` weights held as they are (an
    offset); weights keyed like :data:`FEATURES`, plus the bias."""
    free = [name for name in FEATURES if name not in fixed]
    table = [features(e) for e, _ in data]
    x = np.array([[1.0, *(f[name] for name in free)] for f in table])
    offset = np.array([sum(w * f[name] for name, w in fixed.items()) for f in table])
    y = np.array([1.0 if right else 0.0 for _, right in data])
    w = np.zeros(x.shape[1])
    ridge = np.diag([0.0] + [penalty] * (x.shape[1] - 1))
    for _ in range(100):
        p = 1 / (1 + np.exp(-(x @ w + offset)))
        gradient = x.T @ (p - y) + ridge @ w
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + ridge + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    fitted = {name: float(v) for name, v in zip(free, w[1:], strict=True)}
    return {
        "bias": float(w[0]),
        **{name: fixed.get(name, fitted.get(name, 0.0)) for name in FEATURES},
    }


def table(name: str, tasks: Sequence[dict[str, Any]], predict: Callable[[Evidence], float]) -> str:
    data = rows(tasks)
    picked = sum(bool(t["pick"]) for t in tasks)
    calibration: Reliability = reliability([(predict(e), right) for e, right in data])
    lines = [
        f"**{name}**: {len(tasks)} tasks, pick {picked / len(tasks):.3f} "
        f"({picked} right, {sum(t['pick'] is None for t in tasks)} without a passing candidate), "
        f"Brier {_fmt(calibration.brier)}, ECE {_fmt(calibration.ece)}",
        "",
        "| confidence | picks | mean confidence | right |",
        "|---|---|---|---|",
    ]
    for b in calibration.bins:
        if b.count:
            lines.append(
                f"| {b.low:.1f}–{b.high:.1f} | {b.count} | {b.mean_confidence:.2f} "
                f"| {b.accuracy:.2f} |"
            )
    nothing = [predict(e) for (e, _), t in zip(data, _with_pick(tasks), strict=True)
               if not t["oracle"]]  # fmt: skip
    if nothing:
        lines += ["", f"Tasks where no candidate is right: confidence {_list(nothing)}."]
    return "\n".join(lines)


def _with_pick(tasks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in tasks if t["pick"] is not None and t.get("counted")]


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _list(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in sorted(values))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "scores", type=Path, nargs="+",
        help="files written by score --json: their even tasks tune, their odd ones are held out",
    )  # fmt: skip
    parser.add_argument(
        "--held-out", type=Path, nargs="*", default=[],
        help="files written by score --json on pools never tuned on: held out whole",
    )  # fmt: skip
    parser.add_argument(
        "--fit", action="store_true", help="also refit the weights on the tune split"
    )
    args = parser.parse_args(argv)
    tune: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    splits: dict[str, list[dict[str, Any]]] = {}
    for path in args.scores:
        for name, tasks in load_runs(path).items():
            splits[f"{name}: even tasks (tune)"] = tasks[0::2]
            splits[f"{name}: odd tasks (held out)"] = tasks[1::2]
            tune += tasks[0::2]
            held += tasks[1::2]
    for path in args.held_out:
        for name, tasks in load_runs(path).items():
            splits[f"{name}: every task (held out)"] = tasks
            held += tasks
    if len(splits) > 2:
        splits["all tune"] = tune
        splits["all held out"] = held
    print("## The product's confidence\n")
    for name, tasks in splits.items():
        print(table(name, tasks, confidence) + "\n")
    if args.fit:
        weights = fit([row for row in rows(tune) if support(row[0]) != "unconfirmed"])
        print("## Refitted on the tune split\n")
        print(", ".join(f"{k} {v:+.2f}" for k, v in weights.items()) + "\n")
        for name, tasks in splits.items():
            print(table(name, tasks, lambda e: confidence(e, weights)) + "\n")


if __name__ == "__main__":
    main()
