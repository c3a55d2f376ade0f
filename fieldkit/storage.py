"""What a failed write means to the user: the disk is full, or the study is read-only, and where.

The database adapter (fieldkit.store.db) and the faces turn SQLite and OS errors into these, so a
full disk always says "the disk is full" with the free space and the folder, and a read-only study
says so and how to make it writable, whichever part of fieldkit hit the problem.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from fieldkit.errors import FieldkitError

# Below this, an I/O error while writing is taken to be the disk filling up (SQLite reports a full
# disk as a plain I/O error when it cannot even create its shared-memory file).
NEARLY_FULL_BYTES = 1024 * 1024


class DiskFullError(FieldkitError):
    """The disk holding the study has no room left."""


class ReadOnlyStudyError(FieldkitError):
    """The study folder or its database may not be written (permissions or a read-only mount)."""


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size} byte" if size == 1 else f"{size} bytes"
    value, unit = size / 1024, "KB"
    for bigger in ("MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


def free_bytes(folder: Path) -> int | None:
    """Free space for us in `folder` (or its nearest existing parent), None if unknown."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def is_nearly_full(folder: Path) -> bool:
    free = free_bytes(folder)
    return free is not None and free < NEARLY_FULL_BYTES


def disk_full_error(folder: Path) -> DiskFullError:
    free = free_bytes(folder)
    room = f"{format_size(free)} free" if free is not None else "no room"
    return DiskFullError(
        f"the disk is full: {room} in {folder}",
        "free some space on that disk (or move the study folder to a disk with room) and try "
        "again; nothing was changed",
    )


def is_read_only_mount(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _with_sidecars(file: Path | None) -> list[Path]:
    """A database file and the -wal/-shm files SQLite keeps beside it (made with the database's
    permissions, so a read-only database leaves read-only ones behind)."""
    if file is None:
        return []
    return [file, *(file.with_name(file.name + suffix) for suffix in ("-wal", "-shm"))]


def read_only_error(folder: Path, file: Path | None = None) -> ReadOnlyStudyError:
    """Say which part is read-only (the mount, the folder, or one file) and how to fix it."""
    if is_read_only_mount(folder):
        return ReadOnlyStudyError(
            f"the study folder {folder} is on a read-only disk or mount",
            "remount it read-write, or copy the study folder to a writable disk, and try again",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        return ReadOnlyStudyError(
            f"the study folder {folder} is read-only: you may not write in it",
            f"give yourself write permission (chmod -R u+w '{folder}') or ask its owner, "
            "and try again",
        )
    locked = [p for p in _with_sidecars(file) if p.exists() and not os.access(p, os.W_OK)]
    if locked:
        quoted = " ".join(f"'{p}'" for p in locked)
        what = (
            f"{locked[0]} is read-only"
            if len(locked) == 1
            else f"{', '.join(p.name for p in locked)} in {folder} are read-only"
        )
        return ReadOnlyStudyError(
            what, f"give yourself write permission (chmod u+w {quoted}) and try again"
        )
    return ReadOnlyStudyError(
        f"the study in {folder} is read-only",
        "check that you may write to the study folder and every file in it, and try again",
    )


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True


def os_error(exc: OSError, study_root: Path | None = None) -> FieldkitError:
    """One clear line for an OSError met while working on a study."""
    where = Path(exc.filename) if exc.filename else None
    folder = study_root or (where.parent if where is not None else Path.cwd())
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return disk_full_error(folder)
    if exc.errno == errno.EROFS:
        return read_only_error(folder, where)
    if (
        exc.errno in (errno.EACCES, errno.EPERM)
        and study_root is not None
        and where is not None
        and _inside(where, study_root)
    ):
        return read_only_error(study_root, where)
    place = f" ({exc.filename})" if exc.filename else ""
    return FieldkitError(f"{exc.strerror or exc}{place}", "nothing more was written")
