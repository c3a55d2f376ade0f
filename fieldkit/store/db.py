"""Open a study database: WAL, foreign keys, busy timeout, migrations applied under the write lock.

Only `fieldkit init` creates a database (`create_database`). Opening refuses a file that is not a
fieldkit database (empty, not SQLite, or another program's SQLite file) and leaves it exactly as it
was. Every SQLite failure a user can meet (full disk, read-only study, locked, damaged) becomes one
clear FieldkitError in `database_error`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlite_utils

from fieldkit.errors import FieldkitError
from fieldkit.private import create_private_file
from fieldkit.storage import (
    disk_full_error,
    is_nearly_full,
    is_read_only_mount,
    os_error,
    read_only_error,
)
from fieldkit.store.migrations import MIGRATIONS

if TYPE_CHECKING:
    from fieldkit.crypto.keys import DataKey

# Written into the database header at init ("FKDB"): this file is a fieldkit study database.
APPLICATION_ID = 0x464B4442
BUSY_TIMEOUT_S = 10.0
# Studies made before APPLICATION_ID existed are recognised by the first migration's tables.
FOUNDATION_TABLES = frozenset(
    {"participants", "interviews", "interview_events", "recordings", "audit_log"}
)
# The first 16 bytes of every plain SQLite file; an SQLCipher file starts with random salt.
SQLITE_HEADER = b"SQLite format 3\x00"


class StudyDatabaseError(FieldkitError):
    """The study database cannot be opened, read or written."""


class NotAFieldkitDatabaseError(StudyDatabaseError):
    """fieldkit.db is empty, not SQLite, or another program's database."""


class DatabaseKeyError(StudyDatabaseError):
    """An encrypted database opened with a key that does not fit it."""


def connect(path: Path, key: DataKey | None = None) -> sqlite3.Connection:
    """The one place a connection is made: autocommit (transactions are explicit), usable from the
    thread that owns the Study's thread-local slot, waiting up to BUSY_TIMEOUT_S for a lock.

    With `key` the database is SQLCipher (an encrypted study); the connection behaves like a
    sqlite3 one, exceptions included (store/cipher.py)."""
    if key is None:
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None
        )
    else:
        from fieldkit.store.cipher import connect_encrypted

        conn = connect_encrypted(path, key, timeout=BUSY_TIMEOUT_S)
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def open_database(
    path: Path, create: bool = False, key: DataKey | None = None
) -> sqlite_utils.Database:
    """One connection for the calling thread, with pending migrations applied.

    `create=True` (fieldkit init only) makes the database first when there is none. `key`: the
    study's data key when the study is encrypted.
    """
    if create and not path.exists():
        create_database(path, key=key)
    if not path.is_file():
        raise StudyDatabaseError(
            f"the study database {path} is missing", "restore it from a backup"
        )
    try:
        conn = connect(path, key)
    except sqlite3.Error as exc:
        raise database_error(exc, path) from None
    try:
        check_fieldkit_database(conn, path, encrypted=key is not None)
        ensure_wal(conn)
        # No sqlite-utils plugins: no other package's code runs on a study's connection (and
        # looking for plugins scans every installed package's entry points: ~9 ms a start).
        db = sqlite_utils.Database(conn, execute_plugins=False)
        migrate(db)
    except sqlite3.Error as exc:
        conn.close()
        raise database_error(exc, path) from None
    except BaseException:
        conn.close()
        raise
    return db


def create_database(path: Path, key: DataKey | None = None) -> None:
    """Make a new, fully migrated study database at `path`, which must not exist; encrypted with
    `key` when given.

    Built under a private name and linked into place when complete, so no other process ever
    sees a half-made database, and an existing file is never replaced."""
    building = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        create_private_file(building, exclusive=False)  # 0600: SQLite's -wal/-shm follow it
        conn = connect(building, key)
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # our private file: nobody to race with
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            migrate(sqlite_utils.Database(conn, execute_plugins=False))
        finally:
            conn.close()  # checkpoints the WAL into the file and removes it
        _link_into_place(building, path)
    except sqlite3.Error as exc:
        raise database_error(exc, path) from None
    finally:
        for leftover in (building, *_sidecars(building)):
            leftover.unlink(missing_ok=True)


def _link_into_place(building: Path, path: Path) -> None:
    try:
        os.link(building, path)  # fails if path exists: an existing study is never replaced
    except FileExistsError:
        raise StudyDatabaseError(
            f"{path} already exists", "choose an empty or new folder"
        ) from None
    except OSError:  # a file system without hard links (FAT on a USB stick)
        if path.exists():
            raise StudyDatabaseError(
                f"{path} already exists", "choose an empty or new folder"
            ) from None
        os.replace(building, path)


def _sidecars(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def check_fieldkit_database(conn: sqlite3.Connection, path: Path, encrypted: bool = False) -> None:
    """Refuse anything but a fieldkit database, reading only (nothing is written to the file).

    fieldkit databases carry APPLICATION_ID; those made before it existed have a schema version
    and the first migration's tables (`migrate` then writes the mark). `encrypted`: `conn` was
    opened with a key, so "not a database" means first of all that the key does not fit."""
    wal = _sidecars(path)[0]
    if path.stat().st_size == 0 and not (wal.exists() and wal.stat().st_size > 0):
        raise _not_fieldkit(path, "it is empty: 0 bytes")
    try:
        application_id = _pragma(conn, "application_id")
        version = _pragma(conn, "user_version")
    except sqlite3.DatabaseError as exc:
        if _primary_code(exc) == sqlite3.SQLITE_NOTADB:
            if encrypted:
                raise _key_does_not_fit(path) from None
            # (An encrypted database opened without a key lands here too: the study knows it
            # is encrypted from its key slot file before it opens anything.)
            raise _not_fieldkit(path, "it is not an SQLite file") from None
        raise
    if application_id == APPLICATION_ID:
        return
    if application_id == 0 and version > 0 and _table_names(conn) >= FOUNDATION_TABLES:
        return  # a study made before the mark existed
    raise _not_fieldkit(path, "it is another program's SQLite file")


def _not_fieldkit(path: Path, why: str) -> NotAFieldkitDatabaseError:
    return NotAFieldkitDatabaseError(
        f"{path} is not a fieldkit database; to start a new study use fieldkit init "
        f"({why}; the file was left as it is)",
        "if it held your study, restore fieldkit.db from a backup",
    )


def has_plain_sqlite_header(path: Path) -> bool:
    """Whether plain SQLite can read the file (it starts with the plain SQLite header).

    Asked through SQLite itself, never by opening and closing the file: closing any descriptor
    of a database file drops every POSIX lock this process holds on it, its open connections'
    included, and another process closing its own connection would then take ours for gone and
    delete the write-ahead log and its index under them (SQLite defers such closes for its own
    connections)."""
    try:
        probe = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return False
    try:
        probe.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        return _primary_code(exc) != sqlite3.SQLITE_NOTADB  # busy, locked …: the header is fine
    finally:
        probe.close()
    return True


def looks_encrypted(path: Path) -> bool:
    """Whether `path` looks like an SQLCipher database: not empty, no plain SQLite header, and
    whole pages (a text file or a torn copy in its place does not look like one)."""
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return size > 0 and size % 512 == 0 and not has_plain_sqlite_header(path)


def _key_does_not_fit(path: Path) -> DatabaseKeyError:
    if has_plain_sqlite_header(path):
        return DatabaseKeyError(
            f"{path} is not encrypted, yet the study folder has a key slot file (keyslots.json): "
            "the two do not belong together",
            "restore the study folder from a backup; nothing was changed",
        )
    return DatabaseKeyError(
        f"the study's key does not open {path}: it and keyslots.json do not belong together "
        "(one of them was replaced, or restored from another backup)",
        "restore fieldkit.db and keyslots.json from the same backup; nothing was changed",
    )


def _pragma(conn: sqlite3.Connection, name: str) -> int:
    return int(conn.execute(f"PRAGMA {name}").fetchone()[0])


def _table_names(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def ensure_wal(conn: sqlite3.Connection) -> None:
    """Put the database in WAL mode (it persists in the file, so usually it already is).

    Switching needs a moment of exclusive access, and SQLite answers "database is locked" at once
    rather than waiting, so a second process opening at the same moment retries here."""
    if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.02)


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database) -> None:
    """Apply the missing numbered migrations, reading `user_version` under the write lock.

    Two processes opening a study at once: the first takes the lock and migrates, the second
    waits for the lock, then reads the new version and has nothing left to do."""
    target = len(MIGRATIONS)
    if _check_version(schema_version(db)) < target:
        with transaction(db):
            current = _check_version(schema_version(db))
            if current < target:  # else another process migrated while we waited for the lock
                for migration in MIGRATIONS[current:]:
                    migration(db)
                db.execute(f"PRAGMA user_version = {target}")
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    if _pragma(db.conn, "application_id") != APPLICATION_ID:
        _mark_as_fieldkit(db)


def _check_version(version: int) -> int:
    if version > len(MIGRATIONS):
        raise StudyDatabaseError(
            f"this study was written by a newer fieldkit (schema {version})", "upgrade fieldkit"
        )
    return version


def _mark_as_fieldkit(db: sqlite_utils.Database) -> None:
    """Write the mark into a study made before it existed; a read-only study stays unmarked
    (it is still recognised by its tables) rather than refusing to open for reading."""
    try:
        with transaction(db):
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    except sqlite3.OperationalError as exc:
        if _primary_code(exc) != sqlite3.SQLITE_READONLY:
            raise


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
        with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# -- what a failure means ----------------------------------------------------------------------


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def _is_busy(exc: sqlite3.Error) -> bool:
    return _primary_code(exc) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def database_file(db: sqlite_utils.Database) -> Path | None:
    """The file behind a connection (None for an in-memory database)."""
    try:
        for _, name, file in db.conn.execute("PRAGMA database_list"):
            if name == "main" and file:
                return Path(file)
    except sqlite3.Error:
        pass
    return None


def failure_message(exc: BaseException, path: Path) -> FieldkitError | None:
    """A SQLite or OS error met while working on the study whose database is `path`, as one
    FieldkitError; None for anything else (a bug, which should show its traceback)."""
    if isinstance(exc, FieldkitError):
        return exc
    if isinstance(exc, sqlite3.Error):
        return database_error(exc, path)
    if isinstance(exc, OSError):
        return os_error(exc, path.parent)
    return None


def database_error(exc: sqlite3.Error, path: Path) -> FieldkitError:
    """The one place a SQLite failure becomes a message: what happened, and what to do."""
    folder = path.parent
    code = _primary_code(exc)
    if code == sqlite3.SQLITE_FULL:
        return disk_full_error(folder)
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR):
        # SQLite says "unable to open" or "disk I/O error" for a full disk or a read-only
        # folder too (it cannot create its -wal/-shm files there): look at the disk to tell.
        if is_read_only_mount(folder) or code == sqlite3.SQLITE_READONLY:
            return read_only_error(folder, path)
        if is_nearly_full(folder):
            return disk_full_error(folder)
        if code == sqlite3.SQLITE_CANTOPEN:
            if not folder.is_dir():
                return StudyDatabaseError(
                    f"the study folder {folder} is gone", "check the disk is still connected"
                )
            if not os.access(folder, os.W_OK | os.X_OK) or not os.access(path, os.R_OK | os.W_OK):
                return read_only_error(folder, path)
        return StudyDatabaseError(
            f"the study database {path} could not be read or written ({exc})",
            "check the disk is still connected and working, and try again; nothing was changed",
        )
    if _is_busy(exc):
        return StudyDatabaseError(
            "the study database is busy: another fieldkit (the app, the transcription worker or "
            "a second terminal) is holding it",
            "wait for it to finish and try again; nothing was changed",
        )
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StudyDatabaseError(
            f"the study database {path} is damaged ({exc})",
            "restore fieldkit.db from a backup (the recordings in audio/ are separate files)",
        )
    return StudyDatabaseError(
        f"the study database could not be written ({exc})",
        "nothing was changed; check the disk and that no other program holds the study, "
        "and try again",
    )
