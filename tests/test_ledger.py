"""The candidate ledger: one record per distinct program, the one place equal programs merge."""

from __future__ import annotations

import pytest

from codegen.evaluation.ledger import Ledger
from codegen.generation.dedupe import fingerprint
from codegen.generation.types import Candidate, Proposal
from sandbox import RunResult, Verdict

ONE = "def f(x):\n    return x + 1\n"
ONE_REFORMATTED = "def f(x):\n    # the same program\n    return (x + 1)\n"
TWO = "def f(x):\n    return 1 + x\n"


def _proposed(code: str, *models: str) -> Candidate:
    proposers = [Proposal(model=m, persona="simplest", sample=i, latency_s=0.1)
                 for i, m in enumerate(models)]  # fmt: skip
    return Candidate(code=code, fingerprint=fingerprint(code), proposers=proposers)


def test_equal_programs_are_one_record_with_every_proposer_and_vote() -> None:
    ledger = Ledger()
    first = ledger.propose([_proposed(ONE, "a"), _proposed(TWO, "b")], "initial")
    again = ledger.propose([_proposed(ONE_REFORMATTED, "b", "c")], "dispute")
    repaired = ledger.propose([_proposed("def f(x):\n    return x\n", "a")], "repair", "c2")
    assert first == ["c1", "c2"] and again == [] and repaired == ["r1"]
    record = ledger["c1"]
    assert record.code == ONE and record.round == "initial"
    assert record.votes == 3 and record.authors == ["a", "b", "c"]
    assert record.author == "a[simplest] +2"
    assert ledger["r1"].repair_of == "c2" and ledger["r1"].round == "repair"
    assert [r.id for r in ledger] == ["c1", "c2", "r1"]


def test_given_candidates_keep_the_callers_ids_and_votes() -> None:
    ledger = Ledger()
    ids = ledger.give({"x.py": ONE, "copy.py": ONE, "y.py": TWO}, votes={"y.py": 4},
                      authors={"x.py": ["m1", "m2"]})  # fmt: skip
    assert ids == ["x.py", "copy.py", "y.py"] and len(ledger) == 3  # named apart: kept apart
    assert [ledger[c].votes for c in ids] == [2, 1, 4]
    assert ledger["x.py"].authors == ["m1", "m2"] and ledger["x.py"].round == "given"
    with pytest.raises(ValueError, match="given twice"):
        ledger.give({"x.py": TWO})
    ledger.give({"broken.py": "def f(:\n", "nul.py": "x = 1\0\n"})  # the tests say why
    assert ledger["broken.py"].fingerprint != ledger["nul.py"].fingerprint


def test_runs_are_read_and_corrected_in_the_records() -> None:
    ledger = Ledger()
    ledger.give({"a": ONE, "b": TWO})
    runs = ledger.runs
    assert dict(runs) == {} and ledger.passing() == {}
    runs["a"] = RunResult(verdict=Verdict.PASSED)
    assert ledger["a"].passed and ledger.passing() == {"a": ONE} and list(runs) == ["a"]
    runs["a"] = RunResult(verdict=Verdict.FAILED, message="failed while being timed")
    assert not ledger["a"].passed and ledger["a"].run is runs["a"]
    with pytest.raises(KeyError):
        runs["b"]
