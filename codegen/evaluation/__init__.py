"""One evaluation path for solve, rank and bench: candidates in, a ranking out, the evidence
gathered in the sandbox and judged by the pure rule (:mod:`codegen.ranking`).

    Evaluation(problem, sandbox, Policy(judges=..., rounds=...))             policy.py
      .ledger.propose(...)      one record per distinct program, however many  ledger.py
      .ledger.give(...)         wrote it (or the caller's own ids, as given)
      .verify(ids)              every candidate against the visible tests, at once   verify.py
      .set_aside_examples()     call examples nobody satisfies are soft      ranking.soft_tests
      .rank()                   differential calls, then the timing workload,   behaviour.py
                                screened and timed in interleaved rounds,   workload, timing.py
                                the jury beside them, then ranking.rank()          pipeline.py

``rank_candidates`` verifies and ranks in one call (``codegen rank``, ``codegen bench``);
``codegen solve`` keeps one Evaluation across its generation and repair rounds, over its own
ledger: what the run reports is read from the same records the ranking was built from.
"""

from typing import TYPE_CHECKING

from codegen.evaluation.events import Event
from codegen.evaluation.report import DEFAULT_ROUNDS, InputsUsed, RankingRun
from codegen.evaluation.verify import read_candidates, verify  # light, and a module's name
from codegen.lazy import lazy_getattr

if TYPE_CHECKING:
    from codegen.evaluation.pipeline import Evaluation, rank_candidates
    from codegen.evaluation.workload import Workload, timing_workload

# The path itself (the sandbox, hypothesis, the jury) is loaded when first asked for, so that
# reading a report is light.
_LAZY = {
    "Evaluation": "pipeline", "rank_candidates": "pipeline",
    "Workload": "workload", "timing_workload": "workload",
}  # fmt: skip


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "DEFAULT_ROUNDS",
    "Evaluation",
    "Event",
    "InputsUsed",
    "RankingRun",
    "Workload",
    "rank_candidates",
    "read_candidates",
    "timing_workload",
    "verify",
]
