"""Owner-only files and folders: what fieldkit writes can be read by its user alone.

A study holds voices, whole transcripts and the identifier list, so every folder fieldkit makes
is 0700 and every file 0600. The modes are set explicitly, whatever the umask: a umask only takes
bits away, and a user's may be the usual 022. The process-level umask the faces set
(`owner_only_umask`) is a second line only, for files a library creates on its own.

SQLite gives its -wal and -shm files the database file's mode, so a database made 0600 keeps
its companions 0600 too. Writers that open a file by name (python-docx, zipfile, SQLite) get a
handle from `open_private`, or a file made 0600 beforehand, so no byte is ever written to a
file others could read.

`tighten_study` takes group and other permissions off fieldkit's own files and folders in a
study made before this (or copied with loose modes): the study folder, study.toml, the database
and its companions, the key slots, and everything in audio/, logs/, exports/,
schedules/ and .conversion/ (a conversion's working folder).
Other files a user keeps in the study folder are left alone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from fieldkit.paths import DATABASE_FILE, STUDY_FILE, StudyPaths

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
OWNER_ONLY_UMASK = 0o077
_GROUP_AND_OTHER = 0o077

# fieldkit's own names in a study folder (crypto.keys.SLOTS_FILE is "keyslots.json"; a test
# checks the two agree, so this module need not load the cryptography library to know it).
STUDY_OWN_FILES = (
    STUDY_FILE,
    DATABASE_FILE,
    f"{DATABASE_FILE}-wal",
    f"{DATABASE_FILE}-shm",
    f"{DATABASE_FILE}-journal",
    "keyslots.json",
    ".transcribe.lock",
)
# Where `fieldkit encrypt` / `decrypt` build the converted study (services/conversion.py).
CONVERSION_FOLDER = ".conversion"
STUDY_OWN_FOLDERS = ("audio", "logs", "exports", "schedules", CONVERSION_FOLDER)


# -- creating ------------------------------------------------------------------------------------


def private_mkdir(path: Path, parents: bool = False, exist_ok: bool = False) -> None:
    """`Path.mkdir`, with every folder it makes 0700 (a folder that was already there is left as
    it is: it may be the user's, outside the study)."""
    path = Path(path)
    missing: list[Path] = []
    if parents:
        for folder in (path, *path.parents):
            if folder.exists():
                break
            missing.append(folder)
        missing.reverse()
    else:
        missing = [path]
    for folder in missing:
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            if folder == path and not exist_ok:
                raise
            if not folder.is_dir():
                raise
            continue  # made meanwhile by someone else: theirs, left as it is
        os.chmod(folder, PRIVATE_DIR_MODE)  # mkdir's mode is only what the umask lets through
    if not missing and not exist_ok:
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))


def private_opener(path: str | os.PathLike[str], flags: int) -> int:
    """For `open(..., opener=private_opener)`: a new file is 0600, and so is one being
    replaced."""
    fd = os.open(path, flags | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_private(
    path: Path, mode: str = "w", encoding: str | None = None, newline: str | None = None
) -> IO[Any]:
    """`open(path, mode)` for writing ("w", "x", "a", with or without "b"); the file is 0600
    before anything is written to it."""
    if not any(letter in mode for letter in "wxa"):
        raise ValueError(f"open_private is for writing, not mode {mode!r}")
    if "b" in mode:
        return open(path, mode, opener=private_opener)
    return open(path, mode, encoding=encoding, newline=newline, opener=private_opener)


def write_private_text(
    path: Path,
    text: str,
    encoding: str = "utf-8",
    newline: str | None = None,
    exclusive: bool = False,
) -> None:
    """`Path.write_text`, 0600; `exclusive=True` never replaces an existing file."""
    with open_private(path, "x" if exclusive else "w", encoding=encoding, newline=newline) as out:
        out.write(text)


def write_private_bytes(path: Path, data: bytes, exclusive: bool = False) -> None:
    """`Path.write_bytes`, 0600; `exclusive=True` never replaces an existing file."""
    with open_private(path, "xb" if exclusive else "wb") as out:
        out.write(data)


def create_private_file(path: Path, exclusive: bool = True) -> None:
    """An empty 0600 file, for a writer that then opens it by name and keeps its mode (SQLite)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    os.close(private_opener(path, flags))


def copy_private(source: Path, target: Path) -> None:
    """Copy the bytes of `source` into a new 0600 file `target` (never over an existing one)."""
    with Path(source).open("rb") as src, open_private(target, "xb") as out:
        shutil.copyfileobj(src, out)


@contextlib.contextmanager
def owner_only_umask() -> Iterator[None]:
    """While it lasts, whatever this process creates without an explicit mode is owner-only.
    The faces (the command line, the app) wrap their work in it; the old umask comes back at the
    end, so a test that runs a command in-process is left as it was."""
    previous = os.umask(OWNER_ONLY_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def set_owner_only_umask() -> None:
    """For the processes that run for fieldkit alone (transcription worker, live-guard engine)."""
    os.umask(OWNER_ONLY_UMASK)


# -- tightening what is already there ------------------------------------------------------------


def tighten_study(paths: StudyPaths) -> int:
    """Take group and other permissions off fieldkit's own files and folders in the study.
    Returns how many were changed (0 when all were private already, the usual case).

    Cheap: one scan of the known folders. Files fieldkit may not change (another user's, a
    read-only disk) are skipped: opening the study then fails or works as it would have."""
    root = paths.root
    if not root.is_dir():
        return 0
    tightened = _tighten(root)
    for name in STUDY_OWN_FILES:
        tightened += _tighten(root / name)
    for name in STUDY_OWN_FOLDERS:
        tightened += tighten_tree(root / name)
    return tightened


def tighten_tree(folder: Path) -> int:
    """`folder` and everything in it (symbolic links are neither followed nor changed)."""
    if not folder.is_dir() or folder.is_symlink():
        return 0
    tightened = _tighten(folder)
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            tightened += _tighten_mode(entry.path, mode)
            if stat.S_ISDIR(mode):
                pending.append(Path(entry.path))
    return tightened


def _tighten(path: Path) -> int:
    try:
        mode = path.lstat().st_mode
    except OSError:
        return 0  # not there: nothing to do
    if stat.S_ISLNK(mode):
        return 0
    return _tighten_mode(path, mode)


def _tighten_mode(path: str | Path, mode: int) -> int:
    if not mode & _GROUP_AND_OTHER or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return 0
    try:
        os.chmod(path, stat.S_IMODE(mode) & ~_GROUP_AND_OTHER)
    except OSError:  # not ours, or a read-only disk: left as it is
        return 0
    return 1


# -- what to tell the user ----------------------------------------------------------------------


def tightened_note(count: int) -> str:
    return (
        f"tightened permissions on {count} of fieldkit's files and folders in the study so only "
        "you can read them"
    )


def outside_study_note(path: Path, paths: StudyPaths, folder: bool = False) -> str | None:
    """What to say about a file (or a folder of files) written outside the study; None inside."""
    if paths.contains(path):
        return None
    readable = "its files are" if folder else "it is"
    return (
        f"{path} is outside the study folder: {readable} readable only by you, but not "
        "protected by the study (e.g. encryption)"
    )
