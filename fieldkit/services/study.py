"""Opening and creating a study; the audit trail every change writes to."""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldkit.config import (
    DEFAULT_SCHEDULE,
    StudyConfig,
    config_to_toml,
    default_config,
    load_config,
)
from fieldkit.crypto import keys
from fieldkit.crypto.errors import (
    CryptoError,
    KeySlotsMissingError,
    PassphraseSlotDamagedError,
    WrongPassphraseError,
)
from fieldkit.errors import FieldkitError, NotAStudyError
from fieldkit.paths import StudyPaths, shipped_schedule
from fieldkit.private import (
    CONVERSION_FOLDER,
    copy_private,
    open_private,
    private_mkdir,
    tighten_study,
)
from fieldkit.store.db import (
    create_database,
    failure_message,
    looks_encrypted,
    open_database,
    transaction,
)
from fieldkit.store.repo import AuditLog

if TYPE_CHECKING:
    import sqlite_utils

    from fieldkit.core.schedule import Schedule

# Asked for only when the study turns out to be encrypted: plain studies never ask.
PassphraseSource = Callable[[], str]

RESET_HINT = "the recovery key still opens the study and sets a new one: fieldkit passphrase reset"
WRONG_PASSPHRASE_HINT = (
    "try again; if it is lost, the recovery key opens the study: fieldkit passphrase reset"
)


class StudyLockedError(CryptoError):
    """The study is encrypted and its data key has not been given yet."""


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


@dataclass
class Study:
    """An open study: its folder, settings and (one per thread) database connection.

    An encrypted study (it has a key slot file) is locked until it is given its data key — from a
    passphrase, the recovery key, or a parent process over a pipe. The key stays in memory only,
    so every thread can open its own connection."""

    paths: StudyPaths
    config: StudyConfig
    actor: str
    # How many of the study's files and folders opening it made owner-only (the faces say so).
    permissions_tightened: int = 0
    # What an interrupted `fieldkit encrypt`/`decrypt` left, for the faces to say ('' usually).
    conversion_note: str = ""
    encrypted: bool = False
    _key: keys.DataKey | None = field(default=None, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def root(self) -> Path:
        return self.paths.root

    @property
    def locked(self) -> bool:
        return self.encrypted and self._key is None

    @property
    def data_key(self) -> keys.DataKey | None:
        """The data key of an unlocked encrypted study (None for a plain one). Hand it to a child
        process over a pipe only (fieldkit.crypto.handoff), never in argv or the environment."""
        return self._key

    def unlock(self, passphrase: str) -> None:
        """Take the data key from the key slot the passphrase opens. Reads keyslots.json only:
        a wrong passphrase leaves the database unopened."""
        self._require_encrypted()
        try:
            key = keys.unlock(self.root, passphrase)
        except PassphraseSlotDamagedError as error:
            raise PassphraseSlotDamagedError(error.message, RESET_HINT) from None
        except WrongPassphraseError as error:
            raise WrongPassphraseError(error.message, WRONG_PASSPHRASE_HINT) from None
        self._key = key

    def unlock_with_recovery_key(self, recovery_key: str) -> None:
        self._require_encrypted()
        self._key = keys.unlock_with_recovery_key(self.root, recovery_key)

    def use_key(self, key: keys.DataKey) -> None:
        """A data key handed over by the process that unlocked the study."""
        self._require_encrypted()
        if not keys.verify_data_key(self.root, key):
            raise CryptoError(
                f"the key given does not belong to the study in {self.root}",
                "open the study with its passphrase",
            )
        self._key = key

    def _require_encrypted(self) -> None:
        if not self.encrypted:
            raise FieldkitError(
                f"the study in {self.root} is not encrypted: it has no passphrase or key",
                "open it without one",
            )

    def forget_key(self) -> None:
        self.close()
        self._key = None

    @property
    def db(self) -> sqlite_utils.Database:
        # SQLite connections belong to one thread: workers get their own.
        db = getattr(self._local, "db", None)
        if db is None:
            if self.locked:
                raise StudyLockedError(
                    f"the study in {self.root} is encrypted and still locked",
                    "give its passphrase first",
                )
            db = open_database(self.paths.database, key=self._key)
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
        from fieldkit.core.schedule import load_schedule  # YAML loads only when a schedule is read

        return load_schedule(self.schedule_path())

    def schedule_path(self) -> Path:
        return self.paths.absolute(self.config.schedule)


def explain_failure(exc: BaseException, study_root: Path) -> FieldkitError | None:
    """What a database or file-system error met while working on the study means, as the one
    line the CLI prints or the app notifies (disk full, read-only, busy, damaged …); None for an
    error that is a bug."""
    return failure_message(exc, StudyPaths(study_root).database)


def find_study(root: Path, actor: str | None = None) -> Study:
    """The study in `root`, not yet opened: settings read, encryption detected, database untouched.
    An encrypted study comes back locked (see `unlock_study`)."""
    paths = StudyPaths(root)
    if not paths.config.is_file():
        raise NotAStudyError(
            f"{root} is not a fieldkit study (no {paths.config.name})",
            "create one with `fieldkit init DIR`, or name one with --study DIR or $FIELDKIT_STUDY",
        )
    tightened = tighten_study(paths)  # before SQLite makes its -wal/-shm with the db file's mode
    conversion_note = _settle_conversion(paths)  # before the database and key slots are looked at
    config = load_config(paths.config)
    if not paths.database.is_file():
        raise NotAStudyError(
            f"{root} has a study.toml but no {paths.database.name}",
            "restore the database from a backup, or run `fieldkit init` in a new folder",
        )
    encrypted = study_is_encrypted(paths)
    return Study(
        paths=paths,
        config=config,
        actor=actor or default_actor(),
        permissions_tightened=tightened,
        encrypted=encrypted,
        conversion_note=conversion_note,
    )


def _settle_conversion(paths: StudyPaths) -> str:
    """A conversion to or from encrypted is running (refused) or was interrupted: see
    services/conversion.py. The usual case costs one stat."""
    if not (paths.root / CONVERSION_FOLDER).is_dir():
        return ""
    from fieldkit.services.conversion import settle_on_open

    return settle_on_open(paths)


def study_is_encrypted(paths: StudyPaths) -> bool:
    """A study is encrypted when it has a key slot file. A database that looks encrypted without
    one means the file was lost: say so rather than "not a database"."""
    if keys.has_key_slots(paths.root):
        return True
    if looks_encrypted(paths.database):
        raise KeySlotsMissingError(
            f"the study in {paths.root} looks encrypted (its database has no plain SQLite "
            f"header), but its key slot file {keys.SLOTS_FILE} is missing: neither a passphrase "
            "nor the recovery key can open the study without that file",
            f"restore {keys.SLOTS_FILE} from a backup of the study folder (it holds no secret in "
            "the clear, so it is safe to back up with the study); if the study was never "
            "encrypted, fieldkit.db is damaged: restore it from a backup. Nothing was changed",
        )
    return False


def open_study(
    root: Path,
    actor: str | None = None,
    passphrase: PassphraseSource | None = None,
    key: keys.DataKey | None = None,
) -> Study:
    """Open the study in `root`, or say clearly that it is not one.

    An encrypted study is unlocked with `key` (handed over by a parent process) or else with the
    passphrase `passphrase()` returns (asked for only then). A wrong passphrase is refused before
    the database is opened."""
    study = find_study(root, actor)
    if study.encrypted:
        if key is not None:
            study.use_key(key)
        elif passphrase is not None:
            study.unlock(passphrase())
        else:
            raise StudyLockedError(
                f"the study in {root} is encrypted and no passphrase was given",
                "give it with --passphrase-file FILE or $FIELDKIT_PASSPHRASE",
            )
    study.db  # noqa: B018 - opens and migrates now, so a broken database fails early
    return study


def unlock_study(study: Study, passphrase: str) -> None:
    """Unlock a locked study (the app's passphrase screen), then check that its key opens the
    database — a connection opened and closed again in the calling thread."""
    study.unlock(passphrase)
    try:
        open_database(study.paths.database, key=study.data_key).conn.close()
    except BaseException:
        study.forget_key()
        raise


def init_study(
    root: Path,
    title: str | None = None,
    actor: str | None = None,
) -> Study:
    """Create a study folder: study.toml, database, audio/ and the shipped schedule.

    All or nothing: if any step fails (a full disk, say), what this call made is removed again,
    so a second `fieldkit init` can start afresh."""
    study, _recovery_key = _init(root, title, actor, passphrase=None)
    return study


def init_encrypted_study(
    root: Path,
    passphrase: PassphraseSource,
    title: str | None = None,
    actor: str | None = None,
) -> tuple[Study, str]:
    """Create an encrypted study (as `init_study`): a new data key in a passphrase slot and a
    recovery slot, and the database encrypted with it. Returns the open study and the recovery
    key, to be shown once and never stored. The passphrase is asked for only after the folder
    has been checked."""
    study, recovery_key = _init(root, title, actor, passphrase)
    assert recovery_key is not None
    return study, recovery_key


def _init(
    root: Path, title: str | None, actor: str | None, passphrase: PassphraseSource | None
) -> tuple[Study, str | None]:
    paths = StudyPaths(root)
    if paths.config.exists() or paths.database.exists() or keys.has_key_slots(root):
        raise FieldkitError(f"{root} already holds a study", "choose an empty or new folder")
    if root.exists() and not root.is_dir():
        raise FieldkitError(f"{root} is a file, not a folder", "choose another path")
    secret = passphrase() if passphrase is not None else None
    if secret is not None:
        keys.check_new_passphrase(secret)
    made: list[Path] = []  # undone in reverse order on failure
    study: Study | None = None
    tightened = tighten_study(paths)  # a folder that was there already becomes owner-only too
    recovery_key: str | None = None
    data_key: keys.DataKey | None = None
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
        if secret is not None:
            new_keys = keys.create_key_slots(root, secret)
            made.append(keys.slots_path(root))
            data_key, recovery_key = new_keys.data_key, new_keys.recovery_key
        # Refuses to replace a database made meanwhile.
        if data_key is None:
            create_database(paths.database)
        else:
            create_database(paths.database, key=data_key)
        made.extend([paths.database, *_database_sidecars(paths.database)])
        with open_private(paths.config, "x", encoding="utf-8") as out:  # never replace one
            made.append(paths.config)
            out.write(config_to_toml(config))
        study = Study(
            paths=paths,
            config=config,
            actor=actor or default_actor(),
            permissions_tightened=tightened,
            encrypted=data_key is not None,
            _key=data_key,
        )
        with study.transaction():
            if study.encrypted:
                study.audit("study created", title=config.title, encrypted=True)
            else:
                study.audit("study created", title=config.title)
    except BaseException:
        if study is not None:
            study.close()
        _remove(made)
        raise
    return study, recovery_key


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
