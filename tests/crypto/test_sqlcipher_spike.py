"""Spike: the sqlcipher3 wheel gives sqlite-utils an encrypted database (key, WAL, FTS5,
migrations) keyed with the study's data key in raw form. Integration into store/ comes later."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlcipher3
import sqlite_utils

from fieldkit.crypto.keys import DataKey

SECRET_WORD = "zanzibarquokka"


def open_encrypted(path: Path, key: DataKey) -> sqlite_utils.Database:
    conn = sqlcipher3.connect(str(path))
    # SQLCipher logs a failed page check to stderr by default: a wrong key must stay one line.
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f'PRAGMA key = "{key.sqlcipher_key()}"')  # before anything reads the file
    return sqlite_utils.Database(conn)


def test_sqlite_utils_works_on_an_sqlcipher_connection(tmp_path: Path) -> None:
    key = DataKey.generate()
    path = tmp_path / "fieldkit.db"
    db = open_encrypted(path, key)
    assert db.execute("PRAGMA cipher_version").fetchone()[0].startswith("4.")
    assert db.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    db["segments"].insert_all(
        [{"id": 1, "text": f"she said {SECRET_WORD} twice"}, {"id": 2, "text": "nothing"}], pk="id"
    )
    db["segments"].enable_fts(["text"], create_triggers=True)
    db["segments"].add_column("speaker", str)  # what a migration does
    db.execute("PRAGMA user_version = 3")
    db.conn.commit()
    assert [row["id"] for row in db["segments"].search(SECRET_WORD)] == [1]

    # While the WAL is live and after closing: no file holds the word or an SQLite header.
    for file in tmp_path.iterdir():
        content = file.read_bytes()
        assert SECRET_WORD.encode() not in content and b"SQLite format 3" not in content
    db.conn.close()

    again = open_encrypted(path, key)
    assert again.execute("PRAGMA user_version").fetchone()[0] == 3
    assert "speaker" in again["segments"].columns_dict
    assert again["segments"].detect_fts() == "segments_fts"
    again.conn.close()


def test_a_wrong_key_fails_on_first_read_and_prints_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fieldkit.db"
    db = open_encrypted(path, DataKey.generate())
    db["t"].insert({"a": 1})
    db.conn.commit()
    db.conn.close()
    capfd.readouterr()

    wrong = open_encrypted(path, DataKey.generate())
    with pytest.raises(sqlcipher3.DatabaseError, match="file is not a database"):
        wrong.execute("SELECT count(*) FROM sqlite_master").fetchone()
    wrong.conn.close()
    out, err = capfd.readouterr()
    assert out == "" and err == ""
