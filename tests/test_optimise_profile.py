"""The line profile optimise shows the models: a call longer than the budget is cut short, so
a busy machine (or a huge input) gives a shorter profile, never none. In-process sandbox: the
profile is plain code run through `call`, the same job on every backend."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

from codegen.optimise.profile import BUDGET_S, Profile, profile
from codegen.optimise.target import load_target
from sandbox.unsafe_local import UnsafeLocalSandbox
from tests.test_optimise import SLOW


def _profile(tmp_path: Path, inputs: list[tuple]) -> Profile:
    module = tmp_path / "slow.py"
    module.write_text(SLOW)
    target = load_target(f"{module}::has_duplicates")

    async def work() -> Profile:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the in-process backend's notice
            async with UnsafeLocalSandbox() as sandbox:
                return await profile(target.problem, target.code, inputs, sandbox, "described")

    return asyncio.run(work())


def test_a_call_past_the_budget_is_cut_short_and_still_profiled(tmp_path: Path) -> None:
    # 200,000 distinct values: ~2·10^10 traced comparisons, hours, were the call not cut
    measured = _profile(tmp_path, [(list(range(200_000)),), ([1, 1],)])
    assert measured.cut and measured.calls == 1  # the second input is never reached
    assert f"1 call(s) (the last stopped at the {BUDGET_S:g} s budget)" in measured.text
    inner = next(c for c in measured.lines if c.hits > 1000)
    assert "if nums[i] == nums[j]:" in measured.text and inner.hits > 1000


def test_calls_within_the_budget_are_all_profiled(tmp_path: Path) -> None:
    measured = _profile(tmp_path, [([3, 1, 2, 3],), ([1, 2],)])
    assert not measured.cut and measured.calls == 2
    assert "2 call(s) on described" in measured.text
