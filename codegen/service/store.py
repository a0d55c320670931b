"""The service's jobs and their reports, in SQLite (WAL) in the codegen user directory.

A job's state and its report land in one transaction, so a job is never half-written; a job
that was queued or running when the service died (even by ``kill -9``) reads ``interrupted``
after the next start, and can be submitted again. Finished jobs survive restarts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from codegen.service.api import JobError, JobKind, JobState, JobView
from codegen.sqlite import Migrations, Transaction, connect, script

MIGRATIONS = Migrations()


@MIGRATIONS.add
def m001_jobs(db: sqlite3.Connection) -> None:
    script(
        db,
        """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            state TEXT NOT NULL,
            owner TEXT NOT NULL,
            idempotency_key TEXT,
            request_hash TEXT NOT NULL,
            request TEXT NOT NULL,
            problem TEXT NOT NULL DEFAULT '',
            report TEXT,
            error TEXT,
            created REAL NOT NULL,
            started REAL,
            finished REAL
        );
        CREATE UNIQUE INDEX jobs_idempotency ON jobs (owner, idempotency_key)
            WHERE idempotency_key IS NOT NULL;
        CREATE INDEX jobs_created ON jobs (created)
        """,
    )


class JobStore:
    """One connection, used from the event loop's thread and ``asyncio.to_thread`` alike."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = connect(self.path, MIGRATIONS)
        self.lock = threading.Lock()

    def close(self) -> None:
        self.db.close()

    def interrupt_unfinished(self) -> int:
        """At start-up: what was queued or running when the service died is interrupted."""
        with self.lock, Transaction(self.db):
            done = self.db.execute(
                "UPDATE jobs SET state = ?, finished = COALESCE(finished, created) "
                "WHERE state IN (?, ?)",
                (JobState.INTERRUPTED, JobState.QUEUED, JobState.RUNNING),
            )
            return done.rowcount

    def insert(self, view: JobView, owner: str, key: str | None, request: str, digest: str) -> None:
        with self.lock, Transaction(self.db):
            self.db.execute(
                "INSERT INTO jobs (id, kind, state, owner, idempotency_key, request_hash, "
                "request, problem, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (view.id, view.kind, view.state, owner, key, digest, request, view.problem,
                 view.created),
            )  # fmt: skip

    def by_idempotency_key(self, owner: str, key: str) -> tuple[JobView, str] | None:
        """The job submitted before under this key, and the hash of its request."""
        with self.lock:
            row = self.db.execute(
                "SELECT * FROM jobs WHERE owner = ? AND idempotency_key = ?", (owner, key)
            ).fetchone()
        return (_view(row), row["request_hash"]) if row is not None else None

    def started(self, job_id: str, when: float) -> None:
        self._update(job_id, state=JobState.RUNNING, started=when)

    def finished(
        self,
        job_id: str,
        state: JobState,
        when: float,
        report: dict[str, Any] | None = None,
        error: JobError | None = None,
    ) -> None:
        """The final state, the report and the error together, or nothing."""
        self._update(
            job_id,
            state=state,
            finished=when,
            report=json.dumps(report) if report is not None else None,
            error=error.model_dump_json() if error is not None else None,
        )

    def get(self, job_id: str) -> JobView | None:
        with self.lock:
            row = self.db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _view(row) if row is not None else None

    def recent(self, limit: int = 50) -> list[JobView]:
        """The newest jobs, without their reports (the list a page shows)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT id, kind, state, problem, created, started, finished, error, "
                "NULL AS report FROM jobs ORDER BY created DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [_view(row) for row in rows]

    def _update(self, job_id: str, **fields: Any) -> None:
        names = ", ".join(f"{name} = ?" for name in fields)
        with self.lock, Transaction(self.db):
            self.db.execute(f"UPDATE jobs SET {names} WHERE id = ?", (*fields.values(), job_id))


def _view(row: sqlite3.Row) -> JobView:
    return JobView(
        id=row["id"],
        kind=JobKind(row["kind"]),
        state=JobState(row["state"]),
        created=row["created"],
        started=row["started"],
        finished=row["finished"],
        problem=row["problem"],
        report=json.loads(row["report"]) if row["report"] else None,
        error=JobError.model_validate_json(row["error"]) if row["error"] else None,
    )
