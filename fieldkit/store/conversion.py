"""The database side of converting a study between plain and encrypted (services/conversion.py).

`held_database` takes the study database away from everyone else for the conversion: it is
refused while any other connection is open (the app, a command, the transcription worker), and
no connection can start until it ends. It also checkpoints the write-ahead log into the file and
removes it, so the file alone is the whole database and no `fieldkit.db-wal` is left behind for
the new database to meet when it takes the old one's name.

`export_copy` writes the converted copy with SQLCipher's `sqlcipher_export` (encrypted → plain
or plain → encrypted, every table, index, trigger and the full-text index), then applies the
changes that belong to the conversion (recordings' new file names, the audit entry) and checks
the copy before anything switches to it.

Both sides go through sqlcipher3, whose connection reads a plain file too when no key is given.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldkit.private import create_private_file
from fieldkit.store.db import APPLICATION_ID, StudyDatabaseError, database_error

if TYPE_CHECKING:
    from fieldkit.crypto.keys import DataKey

# How long to wait for another connection to let go before saying the study is in use.
HOLD_TIMEOUT_MS = 2000
_ATTACHED = "converted"


class DatabaseInUseError(StudyDatabaseError):
    """Another process has the study database open."""


def in_use_error() -> DatabaseInUseError:
    return DatabaseInUseError(
        "the study is open in another fieldkit (the app, a command or the transcription "
        "worker); nothing was changed",
        "close it (quit the app, wait for the command), then run this again",
    )


@dataclass(frozen=True)
class AuditEntry:
    """The conversion's own line in the converted copy's audit log (never a secret)."""

    at: str
    actor: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)


@contextmanager
def held_database(path: Path, key: DataKey | None) -> Iterator[sqlite3.Connection]:
    """The study database, held exclusively until the block ends (see the module docstring).
    `key`: the data key of an encrypted study, None for a plain one."""
    conn = _connect(path, key)
    try:
        conn.execute(f"PRAGMA busy_timeout = {HOLD_TIMEOUT_MS}")
        # Once taken, a lock is kept until the connection closes, never dropped between
        # statements.
        conn.execute("PRAGMA main.locking_mode = EXCLUSIVE")
        try:
            # Leaving WAL mode needs every other connection gone: the test that no one else
            # has the study open. It checkpoints the log into the file and removes it.
            mode = conn.execute("PRAGMA main.journal_mode = DELETE").fetchone()[0]
            # A study already in rollback-journal mode: take the exclusive lock explicitly.
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise in_use_error() from None
            raise database_error(exc, path) from None
        if str(mode).lower() != "delete":
            raise in_use_error()
        yield conn
    finally:
        conn.close()


def restore_wal(held: sqlite3.Connection) -> None:
    """Put the held database back in WAL mode when a conversion is given up before its switch
    (opening it would do so too; this leaves the file as fieldkit keeps it). Never after the
    switch: the log would be made under the study database's name, beside the new database."""
    with contextlib.suppress(sqlite3.Error):
        held.execute("PRAGMA main.journal_mode = WAL")


def table_counts(conn: sqlite3.Connection, schema: str = "main") -> dict[str, int]:
    """Rows per table (the full-text index's own tables included)."""
    names = [
        row[0]
        for row in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND rootpage > 0"
        )
    ]
    return {
        name: int(conn.execute(f'SELECT count(*) FROM {schema}."{name}"').fetchone()[0])
        for name in names
    }


def recording_paths(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(id, stored path) of every recording, in id order."""
    return [
        (int(row[0]), str(row[1]))
        for row in conn.execute("SELECT id, path FROM recordings ORDER BY id")
    ]


def export_copy(
    held: sqlite3.Connection,
    target: Path,
    target_key: DataKey | None,
    new_paths: Mapping[int, str],
    audit: AuditEntry,
) -> None:
    """Write the held database as a new database at `target` (which must not exist): encrypted
    with `target_key`, or plain without one. Recordings get the paths `new_paths` gives (by
    recording id); `audit` is appended. The copy is checked (integrity, every table's rows) and
    left in WAL mode, closed and flushed to disk. On failure `target` may be left half-made: the
    caller removes its working files."""
    create_private_file(target)  # 0600 before SQLite writes to it; its sidecars follow the mode
    try:
        expected = table_counts(held)
        version = int(held.execute("PRAGMA main.user_version").fetchone()[0])
        # SQLCipher 4's settings for the copy, whatever a later SQLCipher's defaults may be.
        held.execute("PRAGMA cipher_default_compatibility = 4")
        secret = target_key.sqlcipher_key() if target_key is not None else ""
        held.execute(f"ATTACH DATABASE ? AS {_ATTACHED} KEY ?", (str(target), secret))
        try:
            held.execute(f"SELECT sqlcipher_export('{_ATTACHED}')")
            # sqlcipher_export copies the schema and rows, not the header's numbers.
            held.execute(f"PRAGMA {_ATTACHED}.user_version = {version}")
            held.execute(f"PRAGMA {_ATTACHED}.application_id = {APPLICATION_ID}")
            held.execute("BEGIN IMMEDIATE")
            for recording_id, path in new_paths.items():
                held.execute(
                    f"UPDATE {_ATTACHED}.recordings SET path = ? WHERE id = ?",
                    (path, recording_id),
                )
            held.execute(
                f"INSERT INTO {_ATTACHED}.audit_log (at, actor, action, detail) "
                "VALUES (?, ?, ?, ?)",
                (audit.at, audit.actor, audit.action, json.dumps(audit.detail, sort_keys=True)),
            )
            held.execute("COMMIT")
        finally:
            if held.in_transaction:
                held.execute("ROLLBACK")
            held.execute(f"DETACH DATABASE {_ATTACHED}")
        expected["audit_log"] = expected.get("audit_log", 0) + 1
        _check_copy(target, target_key, expected, version, new_paths)
    except sqlite3.Error as exc:
        raise database_error(exc, target) from None
    _fsync_file(target)


def _check_copy(
    target: Path,
    key: DataKey | None,
    expected: dict[str, int],
    version: int,
    new_paths: Mapping[int, str],
) -> None:
    """Open the copy as the study will (its own connection, its key) and compare."""
    conn = _connect(target, key)
    try:
        problems = []
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            problems.append("it fails SQLite's integrity check")
        if int(conn.execute("PRAGMA user_version").fetchone()[0]) != version:
            problems.append("its schema version differs")
        counts = table_counts(conn)
        for name, rows in expected.items():
            if counts.get(name) != rows:
                problems.append(f"table {name} has {counts.get(name)} rows, not {rows}")
        stored = dict(recording_paths(conn))
        if any(stored.get(rid) != path for rid, path in new_paths.items()):
            problems.append("the recordings' new file names are not all in it")
        if problems:
            raise StudyDatabaseError(
                f"the converted copy of the database is not right ({'; '.join(problems)}); "
                "nothing was changed",
                "report this as a bug; the study is as it was",
            )
        conn.execute("PRAGMA journal_mode = WAL")  # as every study database is
    finally:
        conn.close()  # the last connection: the log is checkpointed into the file and removed


def _connect(path: Path, key: DataKey | None) -> sqlite3.Connection:
    from fieldkit.store.cipher import CipherConnection, connect_encrypted, translated_errors

    if key is not None:
        return connect_encrypted(path, key, timeout=HOLD_TIMEOUT_MS / 1000)
    import sqlcipher3  # reads a plain file when it is given no key; has sqlcipher_export

    with translated_errors():
        raw = sqlcipher3.connect(
            str(path),
            timeout=HOLD_TIMEOUT_MS / 1000,
            check_same_thread=False,
            isolation_level=None,
        )
    conn = CipherConnection(raw)
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn  # type: ignore[return-value]


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return int(code) & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
