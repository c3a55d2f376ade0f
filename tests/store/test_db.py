from pathlib import Path

import pytest

from fieldkit.store.db import open_database, schema_version, transaction
from fieldkit.store.migrations import MIGRATIONS


def test_migrations_apply_once_and_record_the_version(tmp_path: Path) -> None:
    db = open_database(tmp_path / "x.db", create=True)
    assert schema_version(db) == len(MIGRATIONS)
    assert {"participants", "interviews", "interview_events", "recordings", "audit_log"} <= set(
        db.table_names()
    )
    db.conn.close()
    again = open_database(tmp_path / "x.db")  # re-opening applies nothing new
    assert schema_version(again) == len(MIGRATIONS)


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    db = open_database(tmp_path / "x.db", create=True)
    with pytest.raises(RuntimeError), transaction(db):
        db["audit_log"].insert({"at": "now", "actor": "a", "action": "x"})
        raise RuntimeError("boom")
    assert db["audit_log"].count == 0


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    import sqlite3

    db = open_database(tmp_path / "x.db", create=True)
    with pytest.raises(sqlite3.IntegrityError):
        db["interviews"].insert({"participant_id": "ghost", "wave": "w", "status": "ended"})


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    from fieldkit.errors import FieldkitError

    db = open_database(tmp_path / "x.db", create=True)
    db.execute("PRAGMA user_version = 99")
    db.conn.close()
    with pytest.raises(FieldkitError, match="newer fieldkit"):
        open_database(tmp_path / "x.db")
