"""Converting a study in place between plain and encrypted: `fieldkit encrypt`, `fieldkit decrypt`.

The promise: killed at any moment (kill -9, a flat battery), the study is either the old one or
the new one — never neither, never half — and running the command again finishes the job or
takes back the unfinished part.

How: everything new is built beside the old, nothing old is touched until one atomic step has
switched the study over, and what is old is removed only after that step. A journal says what is
being done, so whatever finds the pieces after a crash knows which belong to which side.

The working folder `.conversion/` (0700) holds, while a conversion runs:

    journal.json          direction, and each recording's old and new stored path
    keys/keyslots.json    (encrypt) the new key slots, until the switch moves them into place
    fieldkit.db           the new database, until it is moved into place
    old.db                the old database, moved aside, until it is removed
    recovery-key-shown    (encrypt) the recovery key has been printed

New recordings are written beside the old ones in audio/ under their new names (`X.wav` →
`X.fka` when encrypting, the reverse when decrypting): nothing in the old database refers to
them, and everything in the new one does.

What makes a study encrypted is its key slot file `keyslots.json`; so **the switch is the one
step that makes it appear (encrypt: renamed into place from keys/) or disappear (decrypt:
removed)**, fsynced with its folder. The database follows in two renames (old one aside, new one
in); in between, whoever opens the study — any command, the app, the transcription worker —
first completes those renames (`settle_on_open`), so the study opens as the new one.

States of `fieldkit encrypt` (decrypt is the mirror image: there the switch removes keyslots.json)

    state                         what opens                what a re-run does
    P0  no .conversion/           the plain study           converts
    P1  journal, building         the plain study, as it    takes it all back (new recordings,
        (keys, recordings, db)    was (new files unused)    staging folder), then converts anew
    --- switch: keyslots.json renamed into place, folder fsynced ---
    E1  keyslots.json, new db     the encrypted study:      moves the db, removes the old copies
        still in .conversion/     opening moves the db in
    E2  new db in place, old      the encrypted study       removes the old copies
        recordings and old.db
        not yet removed
    E3  no .conversion/           the encrypted study       (nothing: already encrypted)

Rules that make every crash point land in one of those states:

* Before the switch, every new file is complete and on disk (each recording closed and fsynced,
  the database checked and fsynced, then their folders fsynced): rolling forward never needs
  anything that may be missing. Nothing old is changed before the switch.
* The journal is written (atomically) before the first new file and removed after the last old
  one, so no unexplained file is ever left: a `.conversion/` without a journal holds only the
  leftovers of a start that never got as far as making anything.
* The database is held exclusively (store/conversion.py) from before the plan is made until the
  old database has been moved aside and overwritten, so no other process can change the old one
  meanwhile, and no write-ahead log of the old one is left for the new one to meet.
* A running conversion holds a lock on `.conversion/`; opening the study meanwhile is refused
  with one line ("being encrypted right now"), and a crashed one (the lock is gone with its
  process) is recognised as such.

Removing: plain copies (the old recordings and database after `encrypt`; the new ones when an
unfinished `decrypt` is taken back) are overwritten with zeros and flushed before they are
unlinked. On SSDs and copy-on-write or journalling file systems the old blocks may survive that;
the README says so. Encrypted leftovers are simply unlinked.

Exports and participant copies in exports/ are plain by nature and stay as they are; the result
lists them, and audio files no recording refers to, so the user can decide.

`FIELDKIT_TEST_CRASH_AT=<point>` (tests only) ends the process at once at one of CRASH_POINTS, as
kill -9 would.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fieldkit.crypto import keys
from fieldkit.crypto.files import folder_lock, fsync_folder, write_private_atomically
from fieldkit.errors import FieldkitError
from fieldkit.paths import StudyPaths
from fieldkit.private import CONVERSION_FOLDER, private_mkdir
from fieldkit.services.study import Study, now_iso
from fieldkit.store.conversion import (
    AuditEntry,
    export_copy,
    held_database,
    recording_paths,
    restore_wal,
)

Direction = Literal["encrypt", "decrypt"]

JOURNAL_FILE = "journal.json"
JOURNAL_FORMAT = "fieldkit-conversion"
JOURNAL_VERSION = 1
STAGED_KEYS = "keys"
STAGED_DATABASE = "fieldkit.db"
OLD_DATABASE = "old.db"
RECOVERY_SHOWN = "recovery-key-shown"

CRASH_ENV = "FIELDKIT_TEST_CRASH_AT"
CRASH_EXIT_CODE = 86
# Where a test may end the process, in the order a conversion passes them. Those before
# "switched" leave the old study; from "switched" on, the new one.
CRASH_POINTS_BEFORE_SWITCH = (
    "journal-written",
    "slots-staged",  # encrypt only
    "recording-converted",  # after the first recording
    "recordings-converted",
    "database-built",
    "before-switch",
)
CRASH_POINTS_AFTER_SWITCH = (
    "switched",
    "database-moved-aside",
    "database-in-place",
    "old-database-removed",
    "recovery-key-shown",  # encrypt only
    "old-recording-removed",  # after the first one
    "cleaned",
)
CRASH_POINTS = CRASH_POINTS_BEFORE_SWITCH + CRASH_POINTS_AFTER_SWITCH

OPEN_WAIT_S = 2.0  # how long opening waits for another opener's brief look at the journal
_NEW_SUFFIX: dict[Direction, str] = {"encrypt": ".fka", "decrypt": ".wav"}
_OVERWRITE_BLOCK = 1024 * 1024
_ZERO_JOURNAL_HEADER = bytes(8)


class ConversionError(FieldkitError):
    """A study cannot be converted now, or a conversion could not finish."""


class ConversionRunningError(ConversionError):
    """Another process is converting the study right now."""


class ConversionUnfinishedError(ConversionError):
    """The switch happened, but removing the old copies failed: a re-run finishes."""


# -- what the faces get back -------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRecording:
    id: int
    old: str  # stored paths (study-relative)
    new: str


@dataclass(frozen=True)
class Converted:
    direction: Direction
    recordings: int  # recordings converted
    missing: tuple[str, ...]  # recordings whose file was not there (rows kept as they were)
    removed: int  # old files removed (recordings and the database)
    not_overwritten: tuple[str, ...]  # plain files that could be removed but not overwritten
    left_plain: tuple[str, ...]  # files in the study folder that stay plain (encrypt)


@dataclass(frozen=True)
class Settled:
    """What a re-run found of an interrupted conversion, and did with it."""

    direction: Direction | None = None
    outcome: Literal["nothing", "rolled back", "finished"] = "nothing"
    recovery_key_shown: bool = True  # False: an encrypt switched, but never printed its key

    @property
    def happened(self) -> bool:
        return self.outcome != "nothing"


Progress = Callable[[int, int, PlannedRecording], None]


# -- the journal -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Journal:
    direction: Direction
    recordings: tuple[PlannedRecording, ...]
    pid: int
    started: str

    def to_bytes(self) -> bytes:
        document = {
            "format": JOURNAL_FORMAT,
            "version": JOURNAL_VERSION,
            "direction": self.direction,
            "pid": self.pid,
            "started": self.started,
            "recordings": [{"id": r.id, "old": r.old, "new": r.new} for r in self.recordings],
        }
        return (json.dumps(document, indent=2) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, path: Path) -> Journal:
        try:
            document = json.loads(data.decode("utf-8"))
            if document.get("format") != JOURNAL_FORMAT:
                raise ValueError("not a conversion journal")
            if document.get("version") != JOURNAL_VERSION:
                raise ValueError(f"unknown version {document.get('version')!r}")
            direction = document["direction"]
            if direction not in ("encrypt", "decrypt"):
                raise ValueError(f"unknown direction {direction!r}")
            recordings = tuple(
                PlannedRecording(int(r["id"]), str(r["old"]), str(r["new"]))
                for r in document["recordings"]
            )
            return cls(direction, recordings, int(document["pid"]), str(document["started"]))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
            raise ConversionError(
                f"the conversion journal {path} is damaged ({error})",
                "restore the study folder from a backup; nothing was changed",
            ) from error


def _read_journal(work: Path) -> Journal | None:
    path = work / JOURNAL_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return Journal.from_bytes(data, path)


# -- opening a study ---------------------------------------------------------------------------


def settle_on_open(paths: StudyPaths) -> str:
    """What opening a study does when it finds `.conversion/` (find_study calls it): refuse
    while a conversion runs; after a crash past the switch, move the new database into place so
    the study opens as the new one. Returns a note for the user ('' when there is nothing to
    say). Cheap: a lock, a small file, at most two renames."""
    work = paths.root / CONVERSION_FOLDER
    with _locked_work(work, OPEN_WAIT_S) as present:
        if not present:
            return ""
        journal = _read_journal(work)
        if journal is None:
            return ""  # a start that made nothing: the next conversion clears it away
        switched = _switched(journal, paths)
        if switched:
            _move_database_into_place(paths, work)
        return _interrupted_note(journal.direction, switched)


def _interrupted_note(direction: Direction, switched: bool) -> str:
    command = f"fieldkit {direction}"
    if direction == "encrypt" and not switched:
        return (
            f"an interrupted `{command}` left unfinished work in {CONVERSION_FOLDER}/; the study "
            f"is still plain. Run `{command}` again to encrypt it (the unfinished part is "
            "taken back first)"
        )
    if direction == "encrypt":
        return (
            f"an interrupted `{command}` encrypted the study, but plain copies of its "
            f"recordings or database are still in the folder: run `{command}` again to remove them"
        )
    if not switched:
        return (
            f"an interrupted `{command}` left plain copies of recordings or the database in the "
            f"study folder; the study is still encrypted. Run `{command}` again to finish, or "
            "`fieldkit encrypt` to remove them and keep the study encrypted"
        )
    return (
        f"an interrupted `{command}` made the study plain, but left encrypted copies in the "
        f"folder: run `{command}` again to remove them"
    )


# -- re-running after a crash ------------------------------------------------------------------


def settle_interrupted(root: Path) -> Settled:
    """Finish (past the switch) or take back (before it) a conversion a crash interrupted, so
    the study is plainly one or the other again. Needs no passphrase."""
    paths = StudyPaths(root)
    work = paths.root / CONVERSION_FOLDER
    if not work.is_dir():
        return Settled()
    with _locked_work(work, OPEN_WAIT_S) as present:
        if not present:
            return Settled()
        journal = _read_journal(work)
        if journal is None:
            _remove_tree(work, overwrite=True)
            fsync_folder(paths.root)
            return Settled()
        if not _switched(journal, paths):
            _roll_back(paths, work, journal)
            return Settled(journal.direction, "rolled back")
        _move_database_into_place(paths, work)
        shown = journal.direction == "decrypt" or (work / RECOVERY_SHOWN).exists()
        _clean_up(paths, work, journal)
        return Settled(journal.direction, "finished", recovery_key_shown=shown)


# -- converting --------------------------------------------------------------------------------


def check_nothing_running(study: Study) -> None:
    """A recording being written or a transcription running would write to the old study while
    it is being replaced: refuse until they have stopped (before anything is asked or changed)."""
    from fieldkit.processes import still_running
    from fieldkit.services.recording import describe_recorder, is_live
    from fieldkit.store.repo import Jobs, Recordings

    for row in Recordings(study.db).with_status("recording"):
        if is_live(study, row):
            raise ConversionError(
                f"a recording is being made by {describe_recorder(row)}; nothing was changed",
                "stop the recording, then run this again",
            )
    for job in Jobs(study.db).with_status("running"):
        if still_running(job.worker_pid, None):
            raise ConversionError(
                f"an interview is being transcribed (process {job.worker_pid}); nothing was "
                "changed",
                "wait for the transcription to finish (or stop it), then run this again",
            )
    from fieldkit.services.transcription import running_worker_pid

    worker = running_worker_pid(study)
    if worker is not None:
        raise ConversionError(
            f"the transcription worker (process {worker}) is working through the queue; "
            "nothing was changed",
            "wait for it to finish, then run this again",
        )


def encrypt_study(
    study: Study,
    passphrase: str,
    show_recovery_key: Callable[[str], None],
    progress: Progress | None = None,
) -> Converted:
    """Encrypt a plain study in place with a new data key guarded by `passphrase` (and a new
    recovery key, handed to `show_recovery_key` as soon as the study is encrypted, before the
    plain copies are removed). `study` is closed; open the study again afterwards."""
    if study.encrypted:
        raise ConversionError(
            f"the study in {study.root} is already encrypted",
            "manage its passphrases with `fieldkit passphrase`",
        )
    keys.check_new_passphrase(passphrase)
    return _convert(study, "encrypt", passphrase, show_recovery_key, progress)


def decrypt_study(study: Study, progress: Progress | None = None) -> Converted:
    """Make an unlocked encrypted study plain again, in place. `study` is closed."""
    if not study.encrypted:
        raise ConversionError(f"the study in {study.root} is not encrypted", "nothing to do")
    if study.data_key is None:
        raise ConversionError(
            f"the study in {study.root} is still locked", "give its passphrase first"
        )
    return _convert(study, "decrypt", None, None, progress)


def _convert(
    study: Study,
    direction: Direction,
    passphrase: str | None,
    show_recovery_key: Callable[[str], None] | None,
    progress: Progress | None,
) -> Converted:
    paths = study.paths
    source_key = study.data_key
    actor = study.actor
    check_nothing_running(study)
    from fieldkit.services.while_recording import stop_all

    stop_all(study)  # background transcribers would write to the old study: they stop here
    study.close()  # the held connection below must be the only one
    work = paths.root / CONVERSION_FOLDER
    try:
        private_mkdir(work)
    except FileExistsError:
        raise ConversionRunningError(
            f"another conversion of the study in {paths.root} is under way, or was interrupted",
            f"run `fieldkit {direction}` again in a moment (it finishes or takes back an "
            "interrupted one first)",
        ) from None
    with _locked_work(work, OPEN_WAIT_S):
        return _convert_locked(
            paths, work, direction, source_key, actor, passphrase, show_recovery_key, progress
        )


def _convert_locked(
    paths: StudyPaths,
    work: Path,
    direction: Direction,
    source_key: keys.DataKey | None,
    actor: str,
    passphrase: str | None,
    show_recovery_key: Callable[[str], None] | None,
    progress: Progress | None,
) -> Converted:
    journal: Journal | None = None
    switched = False
    recovery_key = None
    database_removed: tuple[int, list[str]] = (0, [])
    missing: list[str] = []
    try:
        with held_database(paths.database, source_key) as held:
            try:
                _plan_made, missing, journal, recovery_key = _build(
                    paths, work, direction, held, source_key, actor, passphrase, progress
                )
            except BaseException:
                restore_wal(held)
                raise
            _switch(paths, work, direction)
            switched = True
            crash_point("switched")
            _move_database_into_place(paths, work)
            # Overwritten while still held: a process that opened the old file just before it
            # was moved aside finds nothing it can read, let alone write back.
            database_removed = _remove_old_database(work, overwrite=direction == "encrypt")
    except BaseException as error:
        if not switched:
            written = _read_journal(work)
            if written is not None:
                _roll_back(paths, work, written)
            else:
                _remove_tree(work, overwrite=True)
            raise
        if isinstance(error, Exception):
            raise _unfinished(direction, paths, error) from error
        raise
    try:
        if recovery_key is not None and show_recovery_key is not None:
            show_recovery_key(recovery_key)
            write_private_atomically(work / RECOVERY_SHOWN, b"yes\n")
            crash_point("recovery-key-shown")
        assert journal is not None
        removed, not_overwritten = _clean_up(paths, work, journal)
    except Exception as error:
        raise _unfinished(direction, paths, error) from error
    return Converted(
        direction=direction,
        recordings=len(journal.recordings),
        missing=tuple(missing),
        removed=removed + database_removed[0],
        not_overwritten=tuple(database_removed[1] + not_overwritten),
        left_plain=tuple(_left_plain(paths, journal)) if direction == "encrypt" else (),
    )


def _build(
    paths: StudyPaths,
    work: Path,
    direction: Direction,
    held: sqlite3.Connection,
    source_key: keys.DataKey | None,
    actor: str,
    passphrase: str | None,
    progress: Progress | None,
) -> tuple[list[PlannedRecording], list[str], Journal, str | None]:
    """Everything new, beside the old, complete and on disk: the journal first, then (encrypt)
    the key slots, the recordings under their new names, the database. Returns the plan, the
    recordings whose file is missing, the journal and (encrypt) the new recovery key."""
    plan, missing = _plan(paths, direction, recording_paths(held))
    _check_room(paths, plan, direction)
    journal = Journal(direction, tuple(plan), os.getpid(), now_iso())
    write_private_atomically(work / JOURNAL_FILE, journal.to_bytes())
    fsync_folder(paths.root)
    crash_point("journal-written")

    target_key: keys.DataKey | None = None
    recovery_key: str | None = None
    if direction == "encrypt":
        assert passphrase is not None
        staged_keys = work / STAGED_KEYS
        private_mkdir(staged_keys)
        made = keys.create_key_slots(staged_keys, passphrase)
        target_key, recovery_key = made.data_key, made.recovery_key
        crash_point("slots-staged")

    _convert_recordings(paths, plan, direction, source_key, target_key, progress)
    audit = AuditEntry(
        now_iso(),
        actor,
        "study encrypted" if direction == "encrypt" else "study decrypted",
        {"recordings": len(plan), "missing": len(missing)},
    )
    export_copy(held, work / STAGED_DATABASE, target_key, {r.id: r.new for r in plan}, audit)
    crash_point("database-built")
    for folder in (work, paths.audio, paths.root):
        fsync_folder(folder)
    crash_point("before-switch")
    return plan, missing, journal, recovery_key


def _unfinished(direction: Direction, paths: StudyPaths, error: Exception) -> ConversionError:
    what = error.one_line() if isinstance(error, FieldkitError) else str(error)
    state = "encrypted" if direction == "encrypt" else "plain"
    return ConversionUnfinishedError(
        f"the study in {paths.root} is {state} now, but removing its old copies failed: {what}",
        f"run `fieldkit {direction}` again to finish",
    )


def _plan(
    paths: StudyPaths, direction: Direction, stored: list[tuple[int, str]]
) -> tuple[list[PlannedRecording], list[str]]:
    """Each recording's new name (beside the old one, never over an existing file); recordings
    whose file is missing are left as they are."""
    plan: list[PlannedRecording] = []
    missing: list[str] = []
    taken: set[Path] = set()
    for recording_id, stored_path in stored:
        old = paths.absolute(stored_path)
        if not paths.contains(old):
            raise ConversionError(
                f"recording {stored_path} lies outside the study folder; nothing was changed",
                "move it into the study's audio/ folder first",
            )
        if not old.is_file():
            missing.append(stored_path)
            continue
        new = _free_name(old, _NEW_SUFFIX[direction], taken)
        taken.add(new)
        plan.append(PlannedRecording(recording_id, stored_path, paths.relative(new)))
    return plan, missing


def _check_room(paths: StudyPaths, plan: list[PlannedRecording], direction: Direction) -> None:
    """The new copies are made beside the old ones: refuse at once, rather than part-way, when
    the disk cannot hold them. Decoded audio can be far larger than an MP3 or FLAC file."""
    from fieldkit.audio.reader import inspect_audio
    from fieldkit.storage import NEARLY_FULL_BYTES, DiskFullError, format_size, free_bytes

    needed = paths.database.stat().st_size
    for recording in plan:
        source = paths.absolute(recording.old)
        if direction == "decrypt":
            needed += source.stat().st_size  # the WAV is the same samples, a smaller header
            continue
        try:
            info = inspect_audio(source)
        except FieldkitError as error:
            raise ConversionError(
                f"cannot encrypt recording {recording.old}: {error.message}; nothing was changed",
                error.hint,
            ) from error
        needed += info.frames * info.channels * 2  # 16-bit samples; chunk overhead < 1 %
    free = free_bytes(paths.root)
    if free is not None and free - NEARLY_FULL_BYTES < needed:
        raise DiskFullError(
            f"not enough free space to {direction} the study: the new copies need about "
            f"{format_size(needed)} beside the old ones, and {format_size(free)} is free in "
            f"{paths.root}",
            "free some space on that disk and try again; nothing was changed",
        )


def _free_name(old: Path, suffix: str, taken: set[Path]) -> Path:
    candidate = old.with_suffix(suffix)
    attempt = 1
    while candidate in taken or candidate.exists() or candidate == old:
        attempt += 1
        candidate = old.with_name(f"{old.stem}-{attempt}{suffix}")
    return candidate


def _convert_recordings(
    paths: StudyPaths,
    plan: list[PlannedRecording],
    direction: Direction,
    source_key: keys.DataKey | None,
    target_key: keys.DataKey | None,
    progress: Progress | None,
) -> None:
    from fieldkit.audio.encrypted import decrypt_recording_file, encrypt_recording_file

    for done, recording in enumerate(plan, start=1):
        if progress is not None:
            progress(done, len(plan), recording)
        source, target = paths.absolute(recording.old), paths.absolute(recording.new)
        try:
            if direction == "encrypt":
                assert target_key is not None
                encrypt_recording_file(source, target, target_key)
            else:
                assert source_key is not None
                decrypt_recording_file(source, target, source_key)
        except FieldkitError as error:
            raise ConversionError(
                f"cannot {direction} recording {recording.old}: {error.message}; nothing was "
                "changed",
                error.hint,
            ) from error
        if done == 1:
            crash_point("recording-converted")
    if plan:
        fsync_folder(paths.audio)
    crash_point("recordings-converted")


# -- the switch and what follows ---------------------------------------------------------------


def _switched(journal: Journal, paths: StudyPaths) -> bool:
    has_slots = keys.has_key_slots(paths.root)
    return has_slots if journal.direction == "encrypt" else not has_slots


def _switch(paths: StudyPaths, work: Path, direction: Direction) -> None:
    """The one atomic step: the key slot file appears (encrypt) or goes (decrypt)."""
    slots = keys.slots_path(paths.root)
    with folder_lock(paths.root):  # no `fieldkit passphrase …` change in between
        if direction == "encrypt":
            if slots.exists():
                raise ConversionError(
                    f"{slots} appeared while the study was being encrypted; nothing was changed",
                    "run `fieldkit encrypt` again",
                )
            os.rename(keys.slots_path(work / STAGED_KEYS), slots)
        else:
            os.unlink(slots)
        fsync_folder(paths.root)


def _move_database_into_place(paths: StudyPaths, work: Path) -> None:
    """Old database aside, new one in: two renames, each safe to repeat after a crash."""
    staged, old, live = work / STAGED_DATABASE, work / OLD_DATABASE, paths.database
    if not staged.exists():
        return  # done already
    if live.exists():
        if old.exists():
            raise ConversionError(
                f"{live}, {old} and {staged} all exist: the study folder was changed by hand "
                "during a conversion",
                "restore the study folder from a backup",
            )
        os.rename(live, old)
        fsync_folder(paths.root)
        fsync_folder(work)
        crash_point("database-moved-aside")
    os.rename(staged, live)
    fsync_folder(paths.root)
    fsync_folder(work)
    crash_point("database-in-place")


def _remove_old_database(work: Path, overwrite: bool) -> tuple[int, list[str]]:
    old = work / OLD_DATABASE
    if not old.exists():
        return 0, []
    kept = [] if remove_file(old, overwrite) else [str(old)]
    crash_point("old-database-removed")
    return 1, kept


def _clean_up(paths: StudyPaths, work: Path, journal: Journal) -> tuple[int, list[str]]:
    """After the switch: remove the old copies (overwritten first when they are plain), then
    the working folder, the journal last. Returns (files removed, plain ones not overwritten)."""
    overwrite = journal.direction == "encrypt"
    removed, not_overwritten = _remove_old_database(work, overwrite)
    first = True
    for recording in journal.recordings:
        old = paths.absolute(recording.old)
        if not old.exists():
            continue
        if not remove_file(old, overwrite):
            not_overwritten.append(recording.old)
        removed += 1
        if first:
            crash_point("old-recording-removed")
            first = False
    if journal.recordings:
        fsync_folder(paths.audio)
    _remove_stale_rollback_journal(paths)
    keep = {work / JOURNAL_FILE, work / RECOVERY_SHOWN}  # they explain the rest: last
    for leftover in sorted(work.rglob("*"), reverse=True):  # the key staging folder …
        if leftover in keep:
            continue
        if leftover.is_dir():
            leftover.rmdir()
        else:
            remove_file(leftover, overwrite=False)
    crash_point("cleaned")
    (work / JOURNAL_FILE).unlink(missing_ok=True)
    (work / RECOVERY_SHOWN).unlink(missing_ok=True)  # without the journal it means nothing
    work.rmdir()
    fsync_folder(paths.root)
    return removed, not_overwritten


def _remove_stale_rollback_journal(paths: StudyPaths) -> None:
    """The held connection keeps its rollback journal (header zeroed, never replayed) until it
    closes; after a crash it stays, holding a copy of the old database's first page (the
    schema). Once the switch is past, nothing else makes one: the study runs in WAL mode."""
    journal = paths.database.with_name(paths.database.name + "-journal")
    try:
        with journal.open("rb") as handle:
            header = handle.read(len(_ZERO_JOURNAL_HEADER))
    except OSError:
        return
    if header in (b"", _ZERO_JOURNAL_HEADER):
        remove_file(journal, overwrite=True)


def _roll_back(paths: StudyPaths, work: Path, journal: Journal) -> None:
    """Before the switch: take back everything the conversion made. The old study was never
    touched. New files are plain when decrypting: overwritten before they go."""
    overwrite = journal.direction == "decrypt"
    for recording in journal.recordings:
        new = paths.absolute(recording.new)
        if new.exists():
            remove_file(new, overwrite)
    if journal.recordings:
        fsync_folder(paths.audio)
    _remove_tree(work, overwrite)
    fsync_folder(paths.root)


def _remove_tree(work: Path, overwrite: bool) -> None:
    """The working folder and everything in it; the journal last (it explains the rest)."""
    journal = work / JOURNAL_FILE
    for path in sorted(work.rglob("*"), reverse=True):
        if path == journal:
            continue
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            remove_file(path, overwrite)
    journal.unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):
        work.rmdir()


def _left_plain(paths: StudyPaths, journal: Journal) -> list[str]:
    """Files in the study folder an encrypted study still holds in the clear: exports and
    participant copies (plain by nature), and audio files no recording refers to."""
    referenced = {paths.absolute(r.new) for r in journal.recordings}
    found: list[str] = []
    if paths.exports.is_dir():
        found += [paths.relative(p) for p in sorted(paths.exports.rglob("*")) if p.is_file()]
    if paths.audio.is_dir():
        from fieldkit.crypto.stream import is_encrypted_recording

        for path in sorted(paths.audio.iterdir()):
            if path.is_file() and path not in referenced and not is_encrypted_recording(path):
                found.append(paths.relative(path))
    return found


# -- small pieces ------------------------------------------------------------------------------


def remove_file(path: Path, overwrite: bool) -> bool:
    """Unlink `path`; with `overwrite`, first write zeros over its bytes and flush them to the
    disk. Returns False when the overwrite failed (the file is removed all the same). On SSDs
    and copy-on-write file systems the old blocks may survive an overwrite."""
    overwritten = True
    if overwrite:
        try:
            _overwrite(path)
        except OSError:
            overwritten = False
    path.unlink(missing_ok=True)
    return overwritten


def _overwrite(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        remaining = os.fstat(fd).st_size
        zeros = bytes(_OVERWRITE_BLOCK)
        while remaining > 0:
            remaining -= os.write(fd, zeros[: min(remaining, _OVERWRITE_BLOCK)])
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _locked_work(work: Path, wait_s: float) -> Iterator[bool]:
    """Hold the working folder's lock (a running conversion holds it throughout). Yields False
    when the folder is gone (a conversion finished meanwhile). ConversionRunningError when it
    is still held after `wait_s`."""
    try:
        fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        yield False
        return
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _running_error(work) from None
                time.sleep(0.05)
        try:
            present = os.path.samestat(os.fstat(fd), os.stat(work))
        except FileNotFoundError:
            present = False
        yield present
    finally:
        os.close(fd)  # releases the lock


def _running_error(work: Path) -> ConversionRunningError:
    try:
        journal = _read_journal(work)
    except ConversionError:
        journal = None
    doing = {"encrypt": "encrypted", "decrypt": "decrypted"}.get(
        journal.direction if journal else "", "converted"
    )
    by = f" (process {journal.pid})" if journal else ""
    return ConversionRunningError(
        f"the study in {work.parent} is being {doing} right now{by}",
        "wait for it to finish, then try again",
    )


def crash_point(name: str) -> None:
    """Tests only: with FIELDKIT_TEST_CRASH_AT=<name>, end the process here at once, as kill -9
    would (no clean-up, no flushing of Python's buffers)."""
    if os.environ.get(CRASH_ENV) == name:
        os._exit(CRASH_EXIT_CODE)
