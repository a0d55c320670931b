"""Dedupe by normalised AST: same program → one candidate with every proposer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.generation.dedupe import CandidatePool, dedupe, fingerprint
from codegen.generation.types import Proposal

BASE = '''def total(xs: list[int]) -> int:
    """Sum of xs."""
    acc = 0
    for x in xs:
        acc += x
    return acc
'''


def _proposal(model: str, sample: int = 0) -> Proposal:
    return Proposal(model=model, persona="simplest", sample=sample, latency_s=0.1)


@pytest.mark.parametrize(
    "variant",
    [
        # formatting and comments
        "def total(xs: list[int]) -> int:\n    acc=0  # start\n    for x in xs:\n"
        "        acc+=x\n\n    return (acc)\n",
        # docstring differs or is missing
        'def total(xs):\n    """Other words."""\n    acc = 0\n    for x in xs:\n'
        "        acc += x\n    return acc\n",
        # local names differ, annotations dropped
        "def total(xs):\n    s = 0\n    for item in xs:\n        s += item\n    return s\n",
        # annotated local
        "def total(xs):\n    s: int = 0\n    for item in xs:\n        s += item\n    return s\n",
    ],
)
def test_equivalent_spellings_share_a_fingerprint(variant: str) -> None:
    assert fingerprint(variant) == fingerprint(BASE)


@pytest.mark.parametrize(
    "different",
    [
        "def total(xs):\n    return sum(xs)\n",
        # parameter name is visible to callers: kept
        "def total(ys):\n    acc = 0\n    for x in ys:\n        acc += x\n    return acc\n",
        # a constant differs
        "def total(xs):\n    acc = 1\n    for x in xs:\n        acc += x\n    return acc\n",
        # a global is read, not a local
        "def total(xs):\n    for x in xs:\n        acc += x\n    return acc\n",
    ],
)
def test_different_programs_differ(different: str) -> None:
    assert fingerprint(different) != fingerprint(BASE)


def test_unparseable_code_is_an_error() -> None:
    with pytest.raises(SyntaxError):
        fingerprint("def total(:\n")


def test_dedupe_keeps_every_proposer_in_arrival_order() -> None:
    variant = BASE.replace("acc", "running")
    other = "def total(xs):\n    return sum(xs)\n"
    candidates = dedupe(
        [(BASE, _proposal("a")), (other, _proposal("b")), (variant, _proposal("c", 3))]
    )
    assert [c.code for c in candidates] == [BASE, other]
    assert [p.model for p in candidates[0].proposers] == ["a", "c"]
    assert candidates[0].proposers[1].sample == 3
    assert [p.model for p in candidates[1].proposers] == ["b"]


def test_pool_reports_new_programs() -> None:
    pool = CandidatePool()
    assert pool.add(BASE, _proposal("a")) is True
    assert pool.add(BASE.replace("acc", "t"), _proposal("b")) is False
    assert len(pool) == 1


_idents = st.from_regex(r"[a-z]{1,6}", fullmatch=True).filter(
    lambda n: n not in {"xs", "total", "sum", "if", "in", "is", "or", "and", "not", "for", "as"}
)


@settings(max_examples=60, deadline=None)
@given(acc=_idents, item=_idents, comment=st.text("abc xyz", max_size=20))
def test_renaming_locals_never_changes_the_fingerprint(acc: str, item: str, comment: str) -> None:
    if acc == item:
        return
    source = (
        f"def total(xs):\n    {acc} = 0  # {comment}\n    for {item} in xs:\n"
        f"        {acc} += {item}\n    return {acc}\n"
    )
    assert fingerprint(source) == fingerprint(BASE)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=30))
def test_proposers_are_conserved(choices: list[int]) -> None:
    programs = [f"def f(x):\n    return x + {k}\n" for k in range(5)]
    pairs = [(programs[k], _proposal(f"m{i}", i)) for i, k in enumerate(choices)]
    candidates = dedupe(pairs)
    assert len(candidates) == len(set(choices))
    assert sum(len(c.proposers) for c in candidates) == len(choices)
    assert sorted(p.sample for c in candidates for p in c.proposers) == list(range(len(choices)))
