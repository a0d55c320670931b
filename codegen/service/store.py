"""The service's jobs and their reports, in SQLite (WAL) in the codegen user directory.

A job's state and its report land in one transaction, so a job is never half-written; a job
that was queued or running when the service died (even by ``kill -9``) reads ``interrupted``
(reason ``lost``) after the next start, and a retry under its Idempotency-Key runs it again.
Finished jobs survive restarts. Every read that serves a caller names the owner: a job of
another owner is not found (``owner=None`` is the admin's view of every job).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from codegen.service.api import Interruption, JobError, JobKind, JobState, JobView
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


@MIGRATIONS.add
def m002_tenancy_and_summary(db: sqlite3.Connection) -> None:
    """Why a job was interrupted, the run it retries, and what the job list shows."""
    script(
        db,
        """
        ALTER TABLE jobs ADD COLUMN reason TEXT;
        ALTER TABLE jobs ADD COLUMN retry_of TEXT;
        ALTER TABLE jobs ADD COLUMN models TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE jobs ADD COLUMN winner TEXT;
        ALTER TABLE jobs ADD COLUMN winner_model TEXT;
        CREATE INDEX jobs_owner_created ON jobs (owner, created)
        """,
    )


SUMMARY = (
    "id, kind, state, problem, models, winner, winner_model, reason, retry_of, created, "
    "started, finished, error, NULL AS report"
)  # the columns a list shows: everything but the report


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
                "UPDATE jobs SET state = ?, reason = ?, finished = COALESCE(finished, created) "
                "WHERE state IN (?, ?)",
                (JobState.INTERRUPTED, Interruption.LOST, JobState.QUEUED, JobState.RUNNING),
            )
            return done.rowcount

    def insert(self, view: JobView, owner: str, key: str | None, request: str, digest: str) -> None:
        """A new job; when it retries an interrupted one, the key moves over in the same
        transaction (the old job keeps its record, without the key)."""
        with self.lock, Transaction(self.db):
            if view.retry_of is not None:
                self.db.execute(
                    "UPDATE jobs SET idempotency_key = NULL WHERE id = ? AND owner = ?",
                    (view.retry_of, owner),
                )
            self.db.execute(
                "INSERT INTO jobs (id, kind, state, owner, idempotency_key, request_hash, "
                "request, problem, models, retry_of, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (view.id, view.kind, view.state, owner, key, digest, request, view.problem,
                 json.dumps(view.models), view.retry_of, view.created),
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

    def finished(self, view: JobView) -> None:
        """The final state, the report, the error and the summary together, or nothing."""
        self._update(
            view.id,
            state=view.state,
            finished=view.finished,
            report=json.dumps(view.report) if view.report is not None else None,
            error=view.error.model_dump_json() if view.error is not None else None,
            reason=view.reason,
            winner=view.winner,
            winner_model=view.winner_model,
        )

    def get(self, job_id: str, owner: str | None) -> JobView | None:
        """The job, if it exists and belongs to ``owner`` (any owner's for None)."""
        with self.lock:
            row = self.db.execute(
                "SELECT * FROM jobs WHERE id = ? AND (? IS NULL OR owner = ?)",
                (job_id, owner, owner),
            ).fetchone()
        return _view(row) if row is not None else None

    def page(self, owner: str | None, limit: int, offset: int = 0) -> tuple[list[JobView], int]:
        """``owner``'s jobs (everyone's for None), newest first, without their reports, and
        how many there are in all."""
        where, args = ("WHERE owner = ?", (owner,)) if owner is not None else ("", ())
        with self.lock:
            rows = self.db.execute(
                f"SELECT {SUMMARY} FROM jobs {where} ORDER BY created DESC, id LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
            (total,) = self.db.execute(f"SELECT COUNT(*) FROM jobs {where}", args).fetchone()
        return [_view(row) for row in rows], total

    def position(self, job_id: str, owner: str | None) -> int | None:
        """Where the job stands in :meth:`page`'s order (0 = newest), or None if not found."""
        view = self.get(job_id, owner)
        if view is None:
            return None
        where, args = ("AND owner = ?", (owner,)) if owner is not None else ("", ())
        with self.lock:
            (newer,) = self.db.execute(
                f"SELECT COUNT(*) FROM jobs WHERE (created > ? OR (created = ? AND id < ?)) "
                f"{where}",
                (view.created, view.created, view.id, *args),
            ).fetchone()
        return newer

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
        models=json.loads(row["models"] or "[]"),
        winner=row["winner"],
        winner_model=row["winner_model"],
        reason=Interruption(row["reason"]) if row["reason"] else None,
        retry_of=row["retry_of"],
        report=json.loads(row["report"]) if row["report"] else None,
        error=JobError.model_validate_json(row["error"]) if row["error"] else None,
    )
