"""The selection on a pool of real samples: the embedded 0.5B and 1.5B models at temperature 0.8
on 40 HumanEval tasks (``tests/fixtures/pools/``, built by ``benchmarks.pools.build_pools``),
scored by HumanEval's hidden ``check`` which the ranking never sees.

The pick must beat the best single model's pass@1 by a clear margin, and the confidence must
carry information (Brier below the 0.25 of a constant 0.5). The figures the README quotes come
from ``python -m benchmarks.pools.score``, which runs the same code.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from benchmarks.pools.score import load_pool, score_pool

pytestmark = [pytest.mark.docker, pytest.mark.slow]

POOL = Path(__file__).parent / "fixtures" / "pools" / "humaneval_embedded.json.gz"


def test_the_pick_beats_the_best_single_model_on_real_samples() -> None:
    score = asyncio.run(score_pool(load_pool(POOL), with_tests=True))

    best = max(score.pass_at_1(model) for model in score.models)
    assert len(score.tasks) == 40
    assert score.oracle == pytest.approx(0.925)  # the pool is what the README says it is
    assert score.accuracy >= best + 0.10, score.model_dump_json(indent=1)
    assert score.accuracy > score.random_pick
    assert (score.calibration.brier or 1.0) < 0.25
    picked = [t for t in score.tasks if t.pick is not None]
    right = [t.confidence or 0.0 for t in picked if t.pick]
    wrong = [t.confidence or 0.0 for t in picked if not t.pick]
    assert not wrong or sum(right) / len(right) > sum(wrong) / len(wrong)
