"""The docstring's examples, mutated, join the differential inputs of every evaluation; a rule the
examples state, which random inputs never reach, then shows as a finding. The real Docker
sandbox, through the evaluation's own call path."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from codegen.evaluation import rank_candidates
from codegen.evaluation.workload import draw, with_mutations
from codegen.problems import load_problem
from codegen.ranking import InputSet
from sandbox import Sandbox, UnsafeLocalSandbox

STUB = '''def first_repeat(s: str) -> str:
    """The character whose second occurrence comes first; "" when none repeats.

    >>> first_repeat("abca")
    'a'
    >>> first_repeat("xyz")
    ''
    """
    ...
'''
# Right: the earliest second occurrence. Wrong: the first character that repeats at all. They
# differ only when two characters repeat ("abba"), which short random strings seldom do.
RIGHT = """def first_repeat(s):
    seen = set()
    for c in s:
        if c in seen:
            return c
        seen.add(c)
    return ''
"""
WRONG = """def first_repeat(s):
    for c in s:
        if s.count(c) > 1:
            return c
    return ''
"""


def _problem(tmp_path: Path):  # noqa: ANN202
    stub = tmp_path / "first_repeat.py"
    stub.write_text(STUB)
    return load_problem(stub)


def test_the_examples_mutations_follow_the_drawn_inputs(tmp_path: Path) -> None:
    problem = _problem(tmp_path)
    drawn = asyncio.run(_draw(problem))
    count, mutated = len(drawn.differential.args), drawn.mutated
    assert 0 < mutated < count
    tail = drawn.differential.args[count - mutated :]
    assert all(len(args) == 1 and isinstance(args[0], str) for args in tail)
    assert len({repr(a) for a in drawn.differential.args}) == count  # none twice
    assert ("abcca",) in tail or ("abbca",) in tail  # a character doubled: two repeat


async def _draw(problem):  # noqa: ANN001, ANN202
    async with UnsafeLocalSandbox() as sandbox:  # the test's own problem: drawn in-process
        return await draw(problem, sandbox)


def test_mutations_need_examples_and_an_entry_point_they_fit(tmp_path: Path) -> None:
    problem = _problem(tmp_path)
    assert with_mutations(problem.model_copy(update={"example_args": ()}), InputSet()) == (
        InputSet(),
        0,
    )
    two_args = problem.model_copy(update={"example_args": ("('ab', 1)",)})
    _, count = with_mutations(two_args, InputSet())
    assert count == 0  # first_repeat takes one argument: ('ab', 2) is no call of it


@pytest.mark.docker
def test_a_rule_only_the_mutated_examples_reach_shows_as_a_finding(tmp_path: Path) -> None:
    problem = _problem(tmp_path)

    async def ranked():  # noqa: ANN202
        async with Sandbox(workers=2) as sandbox:
            return await rank_candidates(
                problem, {"right": RIGHT, "wrong": WRONG}, sandbox, rounds=3, growth=False
            )

    report = asyncio.run(ranked())
    used = report.differential_inputs
    assert all(c.passed for c in report.candidates)  # both pass the examples
    assert report.findings, "the two should part on some mutated example"
    first_mutated = used.count - used.mutated
    assert all(f.input_index >= first_mutated for f in report.findings)  # drawn ones agree
    assert any(f.input_index < used.count for f in report.findings)  # (after: timing inputs)
    assert report.clusters is not None and len(report.clusters.clusters) == 2
