"""Open a study database: WAL, foreign keys, busy timeout, migrations applied."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from fieldkit.errors import FieldkitError
from fieldkit.store.migrations import MIGRATIONS


def open_database(path: Path, create: bool = False) -> sqlite_utils.Database:
    """One connection for the calling thread. Apply pending migrations."""
    if not create and not path.exists():
        raise FieldkitError(f"the study database {path} is missing", "run `fieldkit init` again")
    try:
        conn = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
    except sqlite3.DatabaseError as exc:
        raise FieldkitError(
            f"cannot open the study database {path}: {exc}", "restore it from a backup"
        ) from None
    db = sqlite_utils.Database(conn)
    migrate(db)
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database) -> None:
    """Apply numbered migrations in order; each in its own transaction, recorded in user_version."""
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise FieldkitError(
            f"this study was written by a newer fieldkit (schema {current})", "upgrade fieldkit"
        )
    for number, migration in enumerate(MIGRATIONS[current:], start=current + 1):
        with transaction(db):
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """Writes that belong together commit together or not at all."""
    conn = db.conn
    if conn.in_transaction:  # nested: the outer transaction decides
        yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
