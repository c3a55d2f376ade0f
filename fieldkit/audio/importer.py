"""Import a recording made elsewhere (a handheld recorder): validate, then copy into the study.

In a plain study the file is copied byte for byte. In an encrypted study it is decoded and
written as an encrypted recording (.fka) as it is read: no plain copy ever exists in the study
folder, not even for a moment.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fieldkit.audio.reader import AudioInfo, inspect_audio
from fieldkit.errors import AudioError
from fieldkit.private import private_mkdir

if TYPE_CHECKING:
    from fieldkit.crypto.keys import DataKey

MAX_NAME_ATTEMPTS = 999


def import_audio_file(
    src: Path, dest_dir: Path, stem: str, key: DataKey | None = None
) -> tuple[Path, AudioInfo]:
    """Copy `src` to `dest_dir/<stem><ext>` (or `<stem>-2<ext>`, … — never over an existing file);
    with the study's `key`, encrypt it to `dest_dir/<stem>.fka` instead.

    The file is validated first, so nothing is copied when it cannot be read.
    """
    src = Path(src)
    dest_dir = Path(dest_dir)
    if not stem or "/" in stem or os.sep in stem or stem in (".", ".."):
        raise AudioError(f"invalid file name stem {stem!r}", "use letters, digits, '-' and '_'")
    inspect_audio(src)
    private_mkdir(dest_dir, parents=True, exist_ok=True)
    if key is not None:
        return _import_encrypted(src, dest_dir, stem, key)
    extension = src.suffix.lower()
    dest, fd = _create_new_file(dest_dir, stem, extension)
    try:
        with open(fd, "wb") as out, src.open("rb") as source:
            shutil.copyfileobj(source, out, length=1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
    except OSError as error:
        dest.unlink(missing_ok=True)
        raise AudioError(
            f"cannot copy {src.name} into the study: {error.strerror}",
            "check free disk space and permissions",
        ) from error
    return dest, inspect_audio(dest)


def _import_encrypted(src: Path, dest_dir: Path, stem: str, key: DataKey) -> tuple[Path, AudioInfo]:
    from fieldkit.audio.encrypted import encrypt_recording_file
    from fieldkit.crypto.stream import SUFFIX

    def encrypt(candidate: Path) -> AudioInfo:
        try:
            return encrypt_recording_file(src, candidate, key)
        except AudioError as error:
            if isinstance(error.__cause__, FileExistsError):
                raise FileExistsError(candidate) from error  # taken meanwhile: the next name
            raise AudioError(
                f"cannot import {src.name} into the study: {error.message}", error.hint
            ) from error

    return _first_free_name(dest_dir, stem, SUFFIX, encrypt)


def _first_free_name(
    dest_dir: Path, stem: str, extension: str, create: Callable[[Path], AudioInfo]
) -> tuple[Path, AudioInfo]:
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        name = f"{stem}{extension}" if attempt == 1 else f"{stem}-{attempt}{extension}"
        candidate = dest_dir / name
        if candidate.exists():
            continue
        try:
            return candidate, create(candidate)
        except FileExistsError:
            continue
    raise AudioError(
        f"too many files named {stem}* in {dest_dir}", "choose another name for the recording"
    )


def _create_new_file(dest_dir: Path, stem: str, extension: str) -> tuple[Path, int]:
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        name = f"{stem}{extension}" if attempt == 1 else f"{stem}-{attempt}{extension}"
        candidate = dest_dir / name
        try:
            return candidate, os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError as error:
            raise AudioError(
                f"cannot create {candidate}: {error.strerror}", "check the study folder"
            ) from error
    raise AudioError(
        f"too many files named {stem}* in {dest_dir}", "choose another name for the recording"
    )
