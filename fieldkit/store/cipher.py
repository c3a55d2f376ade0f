"""Encrypted study databases: SQLCipher through the `sqlcipher3` wheel, behind sqlite3's face.

sqlcipher3 is a copy of Python's sqlite3 module built against SQLCipher, so its connections work
with sqlite-utils — but its exceptions are its own classes, not sqlite3's. The rest of fieldkit
(and sqlite-utils itself) catches `sqlite3.Error`, `sqlite3.OperationalError` …, so the connection
here is wrapped: every call that can fail raises the sqlite3 exception of the same name, with the
same SQLite error code. Everything else is passed through unchanged.

Imported only when a study is encrypted: plain studies never load sqlcipher3.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import sqlcipher3
from sqlcipher3 import dbapi2 as cipher_dbapi

from fieldkit.crypto.keys import DataKey

# SQLCipher's settings are pinned, so a later SQLCipher with new defaults still opens the file.
CIPHER_COMPATIBILITY = 4


def connect_encrypted(path: Path, key: DataKey, timeout: float) -> sqlite3.Connection:
    """A connection to the encrypted database at `path`, keyed and ready.

    The key is set before anything reads the file. A wrong key is not noticed here but on the
    first read ("file is not a database", SQLITE_NOTADB), which the caller turns into a clear
    message. SQLCipher's own error logging is switched off first, so a wrong key prints nothing.
    """
    with translated_errors():
        raw = sqlcipher3.connect(
            str(path), timeout=timeout, check_same_thread=False, isolation_level=None
        )
    conn = CipherConnection(raw)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f'PRAGMA key = "{key.sqlcipher_key()}"')
        conn.execute(f"PRAGMA cipher_compatibility = {CIPHER_COMPATIBILITY}")
        # Sorting and temporary tables stay in memory: decrypted rows never reach a temp file.
        conn.execute("PRAGMA temp_store = MEMORY")
    except BaseException:
        raw.close()
        raise
    return cast(sqlite3.Connection, conn)


def translate(error: cipher_dbapi.Error) -> sqlite3.Error:
    """The sqlite3 exception that `error` stands for, with its SQLite error code and name."""
    kind = getattr(sqlite3, type(error).__name__, sqlite3.DatabaseError)
    if not (isinstance(kind, type) and issubclass(kind, sqlite3.Error)):
        kind = sqlite3.DatabaseError
    translated = kind(*error.args)
    for name in ("sqlite_errorcode", "sqlite_errorname"):
        if hasattr(error, name):
            setattr(translated, name, getattr(error, name))
    return translated


@contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except cipher_dbapi.Error as error:
        raise translate(error).with_traceback(error.__traceback__) from None


class CipherCursor:
    """A sqlcipher3 cursor that fails with sqlite3's exceptions."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def execute(self, *args: Any) -> CipherCursor:
        with translated_errors():
            self._raw.execute(*args)
        return self

    def executemany(self, *args: Any) -> CipherCursor:
        with translated_errors():
            self._raw.executemany(*args)
        return self

    def executescript(self, *args: Any) -> CipherCursor:
        with translated_errors():
            self._raw.executescript(*args)
        return self

    def fetchone(self) -> Any:
        with translated_errors():
            return self._raw.fetchone()

    def fetchmany(self, *args: Any) -> list[Any]:
        with translated_errors():
            return cast(list[Any], self._raw.fetchmany(*args))

    def fetchall(self) -> list[Any]:
        with translated_errors():
            return cast(list[Any], self._raw.fetchall())

    def __iter__(self) -> CipherCursor:
        return self

    def __next__(self) -> Any:
        with translated_errors():
            return next(self._raw)

    def __getattr__(self, name: str) -> Any:  # description, lastrowid, rowcount, close …
        return getattr(self._raw, name)


class CipherConnection:
    """A sqlcipher3 connection that fails with sqlite3's exceptions (see the module's docstring).
    Attributes it does not define (in_transaction, create_function, close …) are the raw
    connection's."""

    def __init__(self, raw: Any) -> None:
        object.__setattr__(self, "_raw", raw)

    def execute(self, *args: Any) -> CipherCursor:
        with translated_errors():
            return CipherCursor(self._raw.execute(*args))

    def executemany(self, *args: Any) -> CipherCursor:
        with translated_errors():
            return CipherCursor(self._raw.executemany(*args))

    def executescript(self, *args: Any) -> CipherCursor:
        with translated_errors():
            return CipherCursor(self._raw.executescript(*args))

    def cursor(self, *args: Any) -> CipherCursor:
        with translated_errors():
            return CipherCursor(self._raw.cursor(*args))

    def commit(self) -> None:
        with translated_errors():
            self._raw.commit()

    def rollback(self) -> None:
        with translated_errors():
            self._raw.rollback()

    def close(self) -> None:
        with translated_errors():
            self._raw.close()

    def __enter__(self) -> CipherConnection:
        return self

    def __exit__(self, *exc_info: Any) -> bool:
        with translated_errors():
            return bool(self._raw.__exit__(*exc_info))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __setattr__(self, name: str, value: Any) -> None:  # isolation_level, text_factory …
        setattr(self._raw, name, value)
