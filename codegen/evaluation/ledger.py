"""Everything known about each candidate of one problem, in one record per program, and the
ledger that holds them: the one place where equal programs become one candidate.

A record is written by the step that learns something (the generation round that proposed it,
the sandbox run against the tests, the set-aside examples, a timing job it failed in) and read
by the rest: the pure ranking's evidence, solve's report and progress, the repair round. No
step keeps its own copy, so none can fall out of step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from codegen.generation.dedupe import fingerprint
from codegen.generation.types import Candidate, Proposal
from sandbox import RunResult

# Where a candidate came from: solve's rounds, or given (`codegen rank`, bench, the service's
# /rank): written by someone else, ranked as it is.
Round = Literal["initial", "repair", "dispute", "given"]
PREFIX: dict[Round, str] = {"initial": "c", "repair": "r", "dispute": "d", "given": "g"}


@dataclass
class CandidateRecord:
    """One distinct program and what is known about it so far."""

    id: str
    code: str
    fingerprint: str
    round: Round = "given"
    repair_of: str | None = None  # the candidate whose failure the repair round showed
    proposers: list[Proposal] = field(default_factory=list)  # the replies that wrote it
    votes: int = 1  # proposals behind it (given candidates: as the caller counted them)
    authors: list[str] = field(default_factory=list)  # the model of each of those proposals
    run: RunResult | None = None  # against the visible tests (None until verified)
    excused: str = ""  # why some of its call examples were set aside, when they were
    hidden: RunResult | None = None  # against the hidden tests, when the policy asks (bench)

    @property
    def author(self) -> str:
        """Who wrote it, as progress shows it: the first proposer and how many more."""
        if not self.proposers:
            return self.authors[0] if self.authors else self.round
        first, more = self.proposers[0], len(self.proposers) - 1
        return f"{first.model}[{first.persona}]" + (f" +{more}" if more else "")

    @property
    def passed(self) -> bool:
        return self.run is not None and self.run.passed


class Ledger:
    """The records of one problem's candidates, by id, in the order they came."""

    def __init__(self) -> None:
        self.records: dict[str, CandidateRecord] = {}
        self._by_fingerprint: dict[str, CandidateRecord] = {}

    def __getitem__(self, cid: str) -> CandidateRecord:
        return self.records[cid]

    def __iter__(self) -> Iterator[CandidateRecord]:
        return iter(list(self.records.values()))

    def __len__(self) -> int:
        return len(self.records)

    def propose(
        self, candidates: Sequence[Candidate], round: Round, repair_of: str | None = None
    ) -> list[str]:
        """Generated programs: a program seen before (by normalised AST) only gains the new
        proposers and their votes; returns the ids of the new ones."""
        new = []
        for candidate in candidates:
            known = self._by_fingerprint.get(candidate.fingerprint)
            if known is not None:
                known.proposers.extend(candidate.proposers)
                known.votes += len(candidate.proposers)
                known.authors.extend(p.model for p in candidate.proposers)
                continue
            count = sum(r.round == round for r in self.records.values()) + 1
            record = CandidateRecord(
                id=f"{PREFIX[round]}{count}",
                code=candidate.code,
                fingerprint=candidate.fingerprint,
                round=round,
                repair_of=repair_of,
                proposers=list(candidate.proposers),
                votes=len(candidate.proposers),
                authors=[p.model for p in candidate.proposers],
            )
            self._keep(record)
            new.append(record.id)
        return new

    def give(
        self,
        candidates: Mapping[str, str],
        votes: Mapping[str, int] | None = None,
        authors: Mapping[str, Sequence[str]] | None = None,
    ) -> list[str]:
        """Programs under the caller's ids, each kept as given (two ids of one program stay
        two candidates: the caller named them). ``votes``: how many proposals wrote each;
        ``authors``: which model wrote each of those (their number is then the votes)."""
        for cid, code in candidates.items():
            models = list((authors or {}).get(cid, []))
            count = (votes or {}).get(cid) or len(models) or 1
            self._keep(CandidateRecord(cid, code, _fingerprint(code), votes=count, authors=models))
        return list(candidates)

    def _keep(self, record: CandidateRecord) -> None:
        if record.id in self.records:
            raise ValueError(f"candidate id {record.id!r} given twice")
        self.records[record.id] = record
        self._by_fingerprint.setdefault(record.fingerprint, record)

    def sources(self, ids: Sequence[str] | None = None) -> dict[str, str]:
        chosen = self.records if ids is None else {cid: self.records[cid] for cid in ids}
        return {cid: record.code for cid, record in chosen.items()}

    def passing(self) -> dict[str, str]:
        return {cid: r.code for cid, r in self.records.items() if r.passed}

    @property
    def runs(self) -> RunsView:
        """Each verified candidate's run, as a mapping that writes through to its record."""
        return RunsView(self)


def _fingerprint(code: str) -> str:
    """A given program may not parse (the tests then say so): its text stands for its AST."""
    try:
        return fingerprint(code)
    except (SyntaxError, ValueError):
        return "text:" + hashlib.sha256(code.encode(errors="replace")).hexdigest()[:16]


class RunsView(MutableMapping[str, RunResult]):
    """The ledger's runs by id: what the timing step reads and corrects (a candidate that fails
    while timed), written straight into the records."""

    def __init__(self, ledger: Ledger) -> None:
        self._records = ledger.records

    def __getitem__(self, cid: str) -> RunResult:
        run = self._records[cid].run
        if run is None:
            raise KeyError(cid)
        return run

    def __setitem__(self, cid: str, run: RunResult) -> None:
        self._records[cid].run = run

    def __delitem__(self, cid: str) -> None:
        self._records[cid].run = None

    def __iter__(self) -> Iterator[str]:
        return (cid for cid, record in self._records.items() if record.run is not None)

    def __len__(self) -> int:
        return sum(record.run is not None for record in self._records.values())
