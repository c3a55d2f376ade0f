"""Only fieldkit databases are opened; migrations run under the write lock, so processes opening
a study at the same moment all succeed."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from fieldkit.services.study import init_study, open_study
from fieldkit.store.db import (
    APPLICATION_ID,
    NotAFieldkitDatabaseError,
    StudyDatabaseError,
    open_database,
    schema_version,
)
from fieldkit.store.migrations import MIGRATIONS
from tests.conftest import CliRun

ROUNDS = 10


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sidecars(path: Path) -> list[Path]:
    return [p for p in path.parent.iterdir() if p.name.startswith(path.name) and p != path]


def pragma(path: Path, name: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"PRAGMA {name}").fetchone()[0])
    finally:
        conn.close()


def other_programs_database(path: Path, wal: bool, user_version: int = 0) -> None:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('not a study')")
    conn.execute(f"PRAGMA user_version={user_version}")
    conn.commit()
    conn.close()


def older_study_database(path: Path, version: int, wal: bool = True, mark: bool = False) -> None:
    """A study database as an earlier fieldkit left it: `version` migrations applied, and (before
    the mark existed) no application_id."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    db = sqlite_utils.Database(conn)
    conn.execute("BEGIN")
    for migration in MIGRATIONS[:version]:
        migration(db)
    conn.execute(f"PRAGMA user_version={version}")
    if mark:
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute("COMMIT")
    conn.close()


# -- what counts as a fieldkit database ----------------------------------------------------------


def make_empty(path: Path) -> None:
    path.write_bytes(b"")


def make_random(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def make_text(path: Path) -> None:
    path.write_text("participant,consent\nP1,yes\n" * 50, encoding="utf-8")


def make_other_sqlite(path: Path) -> None:
    other_programs_database(path, wal=False)


def make_other_wal_sqlite(path: Path) -> None:
    other_programs_database(path, wal=True, user_version=7)


NOT_FIELDKIT = {
    "empty": make_empty,
    "random bytes": make_random,
    "text": make_text,
    "another program's SQLite": make_other_sqlite,
    "another program's SQLite in WAL mode with a user_version": make_other_wal_sqlite,
}


@pytest.mark.parametrize("kind", list(NOT_FIELDKIT))
def test_a_file_that_is_not_a_fieldkit_database_is_refused_and_left_as_it_is(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "fieldkit.db"
    NOT_FIELDKIT[kind](path)
    before = digest(path)
    with pytest.raises(NotAFieldkitDatabaseError) as caught:
        open_database(path)
    assert "not a fieldkit database; to start a new study use fieldkit init" in str(caught.value)
    assert digest(path) == before  # byte for byte
    assert sidecars(path) == []  # no -wal or -shm left beside it


def test_a_zero_byte_study_database_is_one_line_and_untouched(tmp_path: Path, cli: CliRun) -> None:
    root = tmp_path / "s"
    assert cli("init", root).exit_code == 0
    database = root / "fieldkit.db"
    database.write_bytes(b"")
    result = cli("participant", "list", "--study", root)
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert "not a fieldkit database; to start a new study use fieldkit init" in result.stderr
    assert database.stat().st_size == 0 and sidecars(database) == []


def test_only_init_creates_a_database(tmp_path: Path) -> None:
    with pytest.raises(StudyDatabaseError, match="missing"):
        open_database(tmp_path / "fieldkit.db")
    assert list(tmp_path.iterdir()) == []


def test_init_marks_the_database_as_fieldkit_and_leaves_no_scaffolding(tmp_path: Path) -> None:
    study = init_study(tmp_path / "s", title="T", actor="tester")
    study.close()
    database = study.paths.database
    assert pragma(database, "application_id") == APPLICATION_ID
    assert pragma(database, "user_version") == len(MIGRATIONS)
    names = sorted(p.name for p in study.root.iterdir())
    assert names == ["audio", "fieldkit.db", "schedules", "study.toml"]


@pytest.mark.parametrize("version", range(1, len(MIGRATIONS) + 1))
def test_a_study_made_before_the_mark_is_accepted_migrated_and_marked(
    tmp_path: Path, version: int
) -> None:
    root = tmp_path / "s"
    init_study(root, title="T", actor="tester").close()
    older_study_database(root / "fieldkit.db", version)
    study = open_study(root)
    assert schema_version(study.db) == len(MIGRATIONS)
    study.close()
    assert pragma(root / "fieldkit.db", "application_id") == APPLICATION_ID


def test_a_newer_schema_is_still_refused(tmp_path: Path) -> None:
    root = tmp_path / "s"
    init_study(root, title="T", actor="tester").close()
    conn = sqlite3.connect(root / "fieldkit.db")
    conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StudyDatabaseError, match="newer fieldkit"):
        open_study(root)


# -- opening at the same moment ------------------------------------------------------------------


def _open_after_barrier(
    root: str, barrier: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue[str]
) -> None:
    try:
        barrier.wait(timeout=30)
        study = open_study(Path(root), actor="racer")
        study.db["participants"].count  # noqa: B018 - a read through the opened schema
        study.close()
        results.put("ok")
    except BaseException as exc:  # reported to the parent, which asserts on it
        results.put(f"{type(exc).__name__}: {exc}")


def race_to_open(root: Path, processes: int) -> list[str]:
    context = multiprocessing.get_context("fork")  # fast; each child opens its own connection
    barrier = context.Barrier(processes)
    results: multiprocessing.Queue[str] = context.Queue()
    children = [
        context.Process(target=_open_after_barrier, args=(str(root), barrier, results))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=30)
    return outcomes


RACES = {
    "a freshly initialised study": None,
    "an init cut off before its migrations": {"version": 0, "mark": True},
    "a study made before the mark, one migration behind": {"version": len(MIGRATIONS) - 1},
    "a study made before the mark at the first schema": {"version": 1},
    "an old study still in rollback-journal mode": {"version": 1, "wal": False},
}


@pytest.mark.parametrize("case", list(RACES))
def test_processes_opening_a_study_at_once_all_succeed(tmp_path: Path, case: str) -> None:
    failures = []
    for round_number in range(ROUNDS):
        root = tmp_path / f"round{round_number}"
        init_study(root, title="T", actor="tester").close()
        setup = RACES[case]
        if setup is not None:
            older_study_database(root / "fieldkit.db", **setup)
        outcomes = race_to_open(root, processes=3)
        failures += [o for o in outcomes if o != "ok"]
        assert pragma(root / "fieldkit.db", "user_version") == len(MIGRATIONS)
        assert pragma(root / "fieldkit.db", "application_id") == APPLICATION_ID
    assert failures == []
