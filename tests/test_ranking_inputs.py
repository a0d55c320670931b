"""Differential inputs: deterministic, plain, bounded, and the problem's strategy wins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Literal, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.errors import BadInput
from codegen.problems import load_problem, problem_from_text
from codegen.problems.model import is_plain
from codegen.ranking.drawing import LARGE, SMALL, strategy_for
from codegen.ranking.inputs import draw_here, input_size, largest, timing_here

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def stub_problem(tmp_path: Path, stub: str):
    path = tmp_path / "stub.py"
    path.write_text(stub)
    (tmp_path / "test_x.py").write_text("from solution import f\n")
    return load_problem(path, tests=[tmp_path / "test_x.py"])


def test_type_hint_inputs_are_small_plain_and_deterministic() -> None:
    problem = load_problem(EXAMPLES / "sum_squares")
    first = draw_here(problem, n=25, seed_value=3)
    assert first.origin == "type hints" and len(first.args) == 25
    assert first == draw_here(problem, n=25, seed_value=3)
    assert first != draw_here(problem, n=25, seed_value=4)
    assert len({repr(a) for a in first.args}) == 25  # distinct
    for (nums,) in first.args:
        assert isinstance(nums, list) and len(nums) <= SMALL.max_size
        assert all(isinstance(x, int) and abs(x) <= SMALL.max_int for x in nums)
    assert any(x < 0 for (nums,) in first.args for x in nums)  # the edge case it exists for


def test_draws_are_identical_in_another_process() -> None:
    code = (
        "from codegen.problems import load_problem\n"
        "from codegen.ranking.inputs import draw_here\n"
        f"print(repr(draw_here(load_problem({str(EXAMPLES / 'two_sum')!r}), n=15).args))\n"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    here = draw_here(load_problem(EXAMPLES / "two_sum"), n=15)
    assert other.stdout.strip() == repr(here.args)


def test_problem_strategy_overrides_type_hints() -> None:
    drawn = draw_here(load_problem(EXAMPLES / "two_sum"), n=20)
    assert drawn.origin == "strategies.py"
    assert all(abs(x) <= 50 and len(nums) <= 12 for nums, _ in drawn.args for x in nums)
    timing = timing_here(load_problem(EXAMPLES / "two_sum"), k=3)
    assert [target for _, target in timing.args] == [5000] * 3  # its large_inputs
    assert all(len(nums) >= 150 for nums, _ in timing.args)


def test_timing_inputs_are_the_largest_draws() -> None:
    problem = load_problem(EXAMPLES / "sum_squares")
    timing = timing_here(problem, k=3, pool=20)
    pool = draw_here(problem, n=20).args
    assert len(timing.args) == 3
    assert min(len(n) for (n,) in timing.args) >= LARGE.min_size
    assert min(len(n) for (n,) in timing.args) > max(len(n) for (n,) in pool)


def test_largest_prefers_distinct_sizes() -> None:
    inputs = [([1] * 5,), ([2] * 9,), ([3] * 9,), ([0],), ([4] * 7,)]
    assert largest(inputs, 2) == [([3] * 9,), ([4] * 7,)]  # not two lists of 9
    assert len(largest(inputs, 10)) == 5
    assert input_size(([1, 2], "abc", {"k": -4})) == (7, 3 + 3 + 1 + 4)


@pytest.mark.parametrize(
    ("stub", "reason"),
    [
        ("def f(x):\n    ...\n", "parameter x has no type hint"),
        ("def f(*, x: int):\n    ...\n", "parameter x is keyword-only"),
        ("def f(x: Unknown):\n    ...\n", "cannot evaluate the type hint 'Unknown'"),
        ("from typing import Any\ndef f(x: Any):\n    ...\n", "typed Any"),
    ],
)
def test_no_inputs_gives_a_reason(tmp_path: Path, stub: str, reason: str) -> None:
    drawn = draw_here(stub_problem(tmp_path, stub))
    assert drawn.args == [] and drawn.origin == "none"
    assert reason in drawn.reason


def test_text_task_has_no_inputs(tmp_path: Path) -> None:
    (tmp_path / "test_f.py").write_text("from solution import f\n")
    problem = problem_from_text("Write f.", entry="f", tests=[tmp_path / "test_f.py"])
    assert "no stub" in draw_here(problem).reason


def test_stub_imports_and_defaults(tmp_path: Path) -> None:
    stub = (
        "from typing import Optional\nimport collections.abc as abc\n\n"
        "def f(a: Optional[dict[str, int]], b: abc.Sequence[tuple[int, str]], c: int = 3):\n"
        "    ...\n"
    )
    drawn = draw_here(stub_problem(tmp_path, stub), n=20)
    assert drawn.origin == "type hints" and len(drawn.args) == 20
    assert all(len(args) == 2 for args in drawn.args)  # c has a default: left out
    assert any(a is None for a, _ in drawn.args) and any(isinstance(a, dict) for a, _ in drawn.args)
    assert all(isinstance(pair, tuple) for _, b in drawn.args for pair in b)


def test_bad_strategy_file(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "problem.py").write_text(
        'def f(x: int) -> int:\n    """\n    >>> f(1)\n    1\n    """\n'
    )
    (folder / "strategies.py").write_text("inputs = 3\n")
    with pytest.raises(BadInput, match="strategies.py: must define `inputs`"):
        draw_here(load_problem(folder))
    (folder / "strategies.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(BadInput, match="strategies.py: failed to run: RuntimeError: boom"):
        draw_here(load_problem(folder))
    (folder / "strategies.py").write_text(
        "from hypothesis import strategies as st\ninputs = st.just(1)\n"
    )
    assert "not an argument tuple" in draw_here(load_problem(folder)).reason


HINTS = [
    int,
    float,
    str,
    bool,
    list[list[int]],
    tuple[int, ...],
    tuple[int, str],
    dict[str, list[float]],
    set[int],
    frozenset[str],
    Optional[int],  # noqa: UP045 - the old spelling must work too
    int | None,
    Literal["a", "b"],
]


@pytest.mark.parametrize("hint", HINTS, ids=str)
def test_strategy_for_gives_plain_bounded_values(hint: object) -> None:
    @settings(max_examples=30, deadline=None, database=None)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        value = data.draw(strategy_for(hint, SMALL))
        assert is_plain(value)
        assert input_size(value)[0] <= SMALL.max_size * 10

    check()


def test_is_plain() -> None:
    assert is_plain([1, (2.5, "x"), {"k": {None, True}}, b"b"])
    assert not is_plain([object()])
    assert not is_plain({"k": lambda: 1})
