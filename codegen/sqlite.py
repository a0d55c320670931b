"""SQLite as codegen keeps its databases (the bench store, the service's jobs): WAL mode, one
transaction per write (so a ``kill -9`` leaves a whole write or none), and schema changes as
numbered migration functions, each recorded in ``_migrations`` once applied (as simonw/llm
does)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

Migration = Callable[[sqlite3.Connection], None]


class Migrations(list[tuple[str, Migration]]):
    """A database's migrations in order; ``@migrations.add`` registers one by its name."""

    def add(self, function: Migration) -> Migration:
        self.append((function.__name__, function))
        return function

    def apply(self, db: sqlite3.Connection) -> list[str]:
        """Apply the migrations not yet recorded, each with its record in one transaction."""
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
        applied = []
        for name, function in self:
            if name in done:
                continue
            with Transaction(db):
                function(db)
                db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, utc_now()))
            applied.append(name)
        return applied


def connect(path: str | Path, migrations: Migrations) -> sqlite3.Connection:
    """Open (creating and migrating) a database: WAL, rows by name, durable against a killed
    process, foreign keys on."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    migrations.apply(db)
    return db


class Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on an exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


def script(db: sqlite3.Connection, sql: str) -> None:
    """Statement by statement: ``executescript`` would commit the migration's transaction."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
