"""The run store: SQLite in WAL mode, on the driver only.

Schema changes are numbered migration functions (:mod:`codegen.sqlite`). Every write is one
transaction, so a ``kill -9`` leaves either the whole write or none of it: a problem's samples
land together, its tester replies land together, and its candidates and its ``done`` status land
together. Rows are keyed by (run, problem, model, persona, sample), (run, problem, model, index)
and (run, problem, code hash), so a retried write replaces instead of duplicating.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from codegen.bench.config import RunConfig
from codegen.bench.records import (
    CandidateOutcome,
    Evaluation,
    ProblemRecord,
    ProblemStatus,
    RunData,
    SampleRecord,
    SampleStatus,
    TesterRecord,
)
from codegen.errors import BadInput
from codegen.sqlite import Migrations, Transaction, connect, script, utc_now

MIGRATIONS = Migrations()


@MIGRATIONS.add
def m001_initial(db: sqlite3.Connection) -> None:
    script(
        db,
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            config_hash TEXT NOT NULL,
            config TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE problems (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            problem TEXT NOT NULL,
            position INTEGER NOT NULL,
            status TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            attempts INTEGER NOT NULL DEFAULT 0,
            pick TEXT,
            pick_passed INTEGER,
            canonical_s REAL,
            phases TEXT NOT NULL DEFAULT '{}',
            updated_at TEXT NOT NULL,
            PRIMARY KEY (run_id, problem)
        );
        CREATE TABLE samples (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            problem TEXT NOT NULL,
            model TEXT NOT NULL,
            persona TEXT NOT NULL,
            sample INTEGER NOT NULL,
            status TEXT NOT NULL,
            code TEXT,
            code_hash TEXT,
            error TEXT NOT NULL DEFAULT '',
            latency_s REAL,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, problem, model, persona, sample)
        );
        CREATE TABLE candidates (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            problem TEXT NOT NULL,
            code_hash TEXT NOT NULL,
            outcome TEXT NOT NULL,
            PRIMARY KEY (run_id, problem, code_hash)
        );
        """,
    )


@MIGRATIONS.add
def m002_executed_on(db: sqlite3.Connection) -> None:
    """Where a problem was evaluated (local, or a Ray node): runs are compared across both."""
    db.execute("ALTER TABLE problems ADD COLUMN executed_on TEXT NOT NULL DEFAULT ''")


@MIGRATIONS.add
def m003_tester_and_confidence(db: sqlite3.Connection) -> None:
    """The tester's replies (model-written test cases, soft evidence for the pick), and the
    pick's confidence and evidence."""
    script(
        db,
        """
        CREATE TABLE tester_replies (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            problem TEXT NOT NULL,
            model TEXT NOT NULL,
            idx INTEGER NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            error TEXT NOT NULL DEFAULT '',
            latency_s REAL,
            cost_usd REAL NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, problem, model, idx)
        );
        ALTER TABLE problems ADD COLUMN confidence REAL;
        ALTER TABLE problems ADD COLUMN evidence TEXT NOT NULL DEFAULT ''
        """,
    )


class Store:
    """``Store(path)``: opens (creating and migrating) the database."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = connect(self.path, MIGRATIONS)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _transaction(self) -> Transaction:
        return Transaction(self.db)

    # -- runs -----------------------------------------------------------------------------
    def open_run(self, name: str, config: RunConfig) -> int:
        """The id of run ``name``, created when new; a name already used by a different
        configuration is refused, so results are never mixed."""
        key = config.key()
        row = self.db.execute(
            "SELECT id, config_hash, config FROM runs WHERE name = ?", (name,)
        ).fetchone()
        if row is not None:
            if row["config_hash"] != key:
                stored, now = json.loads(row["config"]), config.model_dump(mode="json")
                changed = ", ".join(k for k in now if stored.get(k) != now[k]) or "format"
                raise BadInput(
                    f"run {name!r} exists with a different configuration ({changed} changed); "
                    "choose another --run-name"
                )
            return int(row["id"])
        with self._transaction():
            cursor = self.db.execute(
                "INSERT INTO runs (name, config_hash, config, created_at) VALUES (?, ?, ?, ?)",
                (name, key, config.model_dump_json(), utc_now()),
            )
        return int(cursor.lastrowid or 0)

    def run_id(self, name: str) -> int:
        row = self.db.execute("SELECT id FROM runs WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = ", ".join(self.run_names()) or "none yet"
            raise BadInput(
                f"no run named {name!r} in {self.path} (runs: {known}); "
                "for a run stored elsewhere, give --db FILE"
            )
        return int(row["id"])

    def run_names(self) -> list[str]:
        return [r["name"] for r in self.db.execute("SELECT name FROM runs ORDER BY id")]

    # -- problems -------------------------------------------------------------------------
    def add_problems(self, run_id: int, names: Iterable[str]) -> None:
        with self._transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO problems (run_id, problem, position, status, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(run_id, n, i, ProblemStatus.PENDING, utc_now()) for i, n in enumerate(names)],
            )

    def statuses(self, run_id: int) -> dict[str, ProblemStatus]:
        rows = self.db.execute("SELECT problem, status FROM problems WHERE run_id = ?", (run_id,))
        return {r["problem"]: ProblemStatus(r["status"]) for r in rows}

    def mark(self, run_id: int, problem: str, status: ProblemStatus, message: str = "") -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE problems SET status = ?, message = ?, attempts = attempts + 1, "
                "updated_at = ? WHERE run_id = ? AND problem = ?",
                (status, message[:500], utc_now(), run_id, problem),
            )

    # -- samples --------------------------------------------------------------------------
    def samples(self, run_id: int, problem: str) -> list[SampleRecord]:
        rows = self.db.execute(
            "SELECT * FROM samples WHERE run_id = ? AND problem = ? "
            "ORDER BY model, persona, sample",
            (run_id, problem),
        )
        return [_sample(row) for row in rows]

    def save_samples(self, run_id: int, problem: str, records: Iterable[SampleRecord]) -> None:
        """Insert or replace, all in one transaction."""
        rows = [
            (
                run_id,
                problem,
                r.model,
                r.persona,
                r.sample,
                r.status,
                r.code,
                r.code_hash,
                r.error[:500],
                r.latency_s,
                r.prompt_tokens,
                r.completion_tokens,
                r.cost_usd,
            )  # fmt: skip
            for r in records
        ]
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO samples (run_id, problem, model, persona, sample, status, "
                "code, code_hash, error, latency_s, prompt_tokens, completion_tokens, cost_usd) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    # -- tester replies -------------------------------------------------------------------
    def tester_replies(self, run_id: int, problem: str) -> list[TesterRecord]:
        rows = self.db.execute(
            "SELECT * FROM tester_replies WHERE run_id = ? AND problem = ? ORDER BY model, idx",
            (run_id, problem),
        )
        return [_tester(row) for row in rows]

    def save_tester_replies(
        self, run_id: int, problem: str, records: Iterable[TesterRecord]
    ) -> None:
        """Insert or replace, all in one transaction."""
        rows = [
            (run_id, problem, r.model, r.index, r.text, r.error[:500], r.latency_s, r.cost_usd)
            for r in records
        ]
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO tester_replies (run_id, problem, model, idx, text, error, "
                "latency_s, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    # -- evaluations ----------------------------------------------------------------------
    def save_evaluation(
        self, run_id: int, problem: str, evaluation: Evaluation, phases: dict[str, float]
    ) -> None:
        """The candidates and the problem's ``done`` status, in one transaction."""
        # No pick: the ensemble gives no answer, which counts as a failure.
        pick = evaluation.candidates.get(evaluation.pick or "")
        pick_passed = int(pick is not None and pick.passed)
        with self._transaction():
            self.db.execute(
                "DELETE FROM candidates WHERE run_id = ? AND problem = ?", (run_id, problem)
            )
            self.db.executemany(
                "INSERT INTO candidates (run_id, problem, code_hash, outcome) VALUES (?, ?, ?, ?)",
                [
                    (run_id, problem, code_hash, outcome.model_dump_json())
                    for code_hash, outcome in evaluation.candidates.items()
                ],
            )
            self.db.execute(
                "UPDATE problems SET status = ?, message = ?, attempts = attempts + 1, pick = ?, "
                "pick_passed = ?, confidence = ?, evidence = ?, canonical_s = ?, phases = ?, "
                "executed_on = ?, updated_at = ? WHERE run_id = ? AND problem = ?",
                (
                    ProblemStatus.DONE,
                    "; ".join(evaluation.notes)[:500],
                    evaluation.pick,
                    pick_passed,
                    evaluation.confidence if evaluation.pick else None,
                    evaluation.evidence if evaluation.pick else "",
                    evaluation.canonical_s,
                    json.dumps(phases),
                    evaluation.executed_on,
                    utc_now(),
                    run_id,
                    problem,
                ),  # fmt: skip
            )

    # -- reading a whole run --------------------------------------------------------------
    def load(self, name: str) -> RunData:
        run_id = self.run_id(name)
        run = self.db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        samples: dict[str, list[SampleRecord]] = {}
        for row in self.db.execute(
            "SELECT * FROM samples WHERE run_id = ? ORDER BY model, persona, sample", (run_id,)
        ):
            samples.setdefault(row["problem"], []).append(_sample(row))
        tester: dict[str, list[TesterRecord]] = {}
        for row in self.db.execute(
            "SELECT * FROM tester_replies WHERE run_id = ? ORDER BY model, idx", (run_id,)
        ):
            tester.setdefault(row["problem"], []).append(_tester(row))
        candidates: dict[str, dict[str, CandidateOutcome]] = {}
        for row in self.db.execute("SELECT * FROM candidates WHERE run_id = ?", (run_id,)):
            outcome = CandidateOutcome.model_validate_json(row["outcome"])
            candidates.setdefault(row["problem"], {})[row["code_hash"]] = outcome
        problems = [
            ProblemRecord(
                problem=row["problem"],
                position=row["position"],
                status=ProblemStatus(row["status"]),
                message=row["message"],
                attempts=row["attempts"],
                pick=row["pick"],
                pick_passed=None if row["pick_passed"] is None else bool(row["pick_passed"]),
                confidence=row["confidence"],
                evidence=row["evidence"],
                canonical_s=row["canonical_s"],
                phases=json.loads(row["phases"]),
                executed_on=row["executed_on"],
                samples=samples.get(row["problem"], []),
                tester=tester.get(row["problem"], []),
                candidates=candidates.get(row["problem"], {}),
            )
            for row in self.db.execute(
                "SELECT * FROM problems WHERE run_id = ? ORDER BY position", (run_id,)
            )
        ]
        return RunData(
            name=run["name"],
            config_hash=run["config_hash"],
            config=json.loads(run["config"]),
            created_at=run["created_at"],
            problems=problems,
        )


def _sample(row: sqlite3.Row) -> SampleRecord:
    return SampleRecord(
        model=row["model"],
        persona=row["persona"],
        sample=row["sample"],
        status=SampleStatus(row["status"]),
        code=row["code"],
        code_hash=row["code_hash"],
        error=row["error"],
        latency_s=row["latency_s"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        cost_usd=row["cost_usd"],
    )


def _tester(row: sqlite3.Row) -> TesterRecord:
    return TesterRecord(
        model=row["model"],
        index=row["idx"],
        text=row["text"],
        error=row["error"],
        latency_s=row["latency_s"],
        cost_usd=row["cost_usd"],
    )
