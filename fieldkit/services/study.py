"""Opening and creating a study; the audit trail every change writes to."""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from fieldkit.config import (
    DEFAULT_SCHEDULE,
    StudyConfig,
    config_to_toml,
    default_config,
    load_config,
)
from fieldkit.core.schedule import Schedule, load_schedule
from fieldkit.errors import FieldkitError, NotAStudyError
from fieldkit.paths import StudyPaths, shipped_schedule
from fieldkit.private import copy_private, open_private, private_mkdir, tighten_study
from fieldkit.store.db import create_database, failure_message, open_database, transaction
from fieldkit.store.repo import AuditLog


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


@dataclass
class Study:
    """An open study: its folder, settings and (one per thread) database connection."""

    paths: StudyPaths
    config: StudyConfig
    actor: str
    # How many of the study's files and folders opening it made owner-only (the faces say so).
    permissions_tightened: int = 0
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def root(self) -> Path:
        return self.paths.root

    @property
    def db(self) -> sqlite_utils.Database:
        # SQLite connections belong to one thread: workers get their own.
        db = getattr(self._local, "db", None)
        if db is None:
            db = open_database(self.paths.database)
            self._local.db = db
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        with transaction(self.db) as db:
            yield db

    def audit(
        self,
        action: str,
        participant_id: str | None = None,
        interview_id: int | None = None,
        **detail: Any,
    ) -> None:
        """Append to the audit log (call inside the change's own transaction)."""
        AuditLog(self.db).append(
            now_iso(), self.actor, action, participant_id, interview_id, detail
        )

    def schedule(self) -> Schedule:
        return load_schedule(self.schedule_path())

    def schedule_path(self) -> Path:
        return self.paths.absolute(self.config.schedule)


def explain_failure(exc: BaseException, study_root: Path) -> FieldkitError | None:
    """What a database or file-system error met while working on the study means, as the one
    line the CLI prints or the app notifies (disk full, read-only, busy, damaged …); None for an
    error that is a bug."""
    return failure_message(exc, StudyPaths(study_root).database)


def open_study(root: Path, actor: str | None = None) -> Study:
    """Open the study in `root`, or say clearly that it is not one."""
    paths = StudyPaths(root)
    if not paths.config.is_file():
        raise NotAStudyError(
            f"{root} is not a fieldkit study (no {paths.config.name})",
            "create one with `fieldkit init DIR`, or name one with --study DIR or $FIELDKIT_STUDY",
        )
    tightened = tighten_study(paths)  # before SQLite makes its -wal/-shm with the db file's mode
    config = load_config(paths.config)
    if not paths.database.is_file():
        raise NotAStudyError(
            f"{root} has a study.toml but no {paths.database.name}",
            "restore the database from a backup, or run `fieldkit init` in a new folder",
        )
    study = Study(paths=paths, config=config, actor=actor or default_actor())
    study.permissions_tightened = tightened
    study.db  # noqa: B018 - opens and migrates now, so a broken database fails early
    return study


def init_study(root: Path, title: str | None = None, actor: str | None = None) -> Study:
    """Create a study folder: study.toml, database, audio/ and the shipped schedule.

    All or nothing: if any step fails (a full disk, say), what this call made is removed again,
    so a second `fieldkit init` can start afresh."""
    paths = StudyPaths(root)
    if paths.config.exists() or paths.database.exists():
        raise FieldkitError(f"{root} already holds a study", "choose an empty or new folder")
    if root.exists() and not root.is_dir():
        raise FieldkitError(f"{root} is a file, not a folder", "choose another path")
    made: list[Path] = []  # undone in reverse order on failure
    study: Study | None = None
    tightened = tighten_study(paths)  # a folder that was there already becomes owner-only too
    try:
        for folder in (root, paths.audio, paths.schedules):
            if not folder.exists():
                private_mkdir(folder, parents=True)
                made.append(folder)
        config = default_config(title or root.resolve().name)
        schedule = paths.schedules / DEFAULT_SCHEDULE
        if not schedule.exists():  # a schedule already there is the user's: kept as it is
            made.append(schedule)
            copy_private(shipped_schedule(DEFAULT_SCHEDULE), schedule)
        create_database(paths.database)  # refuses to replace a database made meanwhile
        made.extend([paths.database, *_database_sidecars(paths.database)])
        with open_private(paths.config, "x", encoding="utf-8") as out:  # never replace one
            made.append(paths.config)
            out.write(config_to_toml(config))
        study = Study(paths=paths, config=config, actor=actor or default_actor())
        study.permissions_tightened = tightened
        with study.transaction():
            study.audit("study created", title=config.title)
    except BaseException:
        if study is not None:
            study.close()
        _remove(made)
        raise
    return study


def _database_sidecars(database: Path) -> list[Path]:
    return [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")]


def _remove(made: list[Path]) -> None:
    """Take back what a failed init made (newest first), leaving anything else alone."""
    for path in reversed(made):
        with contextlib.suppress(OSError):
            if path.is_dir():
                path.rmdir()  # only if empty: never a folder with something of the user's in it
            else:
                path.unlink(missing_ok=True)
