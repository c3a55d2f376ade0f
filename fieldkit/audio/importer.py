"""Import a recording made elsewhere (a handheld recorder): validate, then copy into the study."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from fieldkit.audio.reader import AudioInfo, inspect_audio
from fieldkit.errors import AudioError
from fieldkit.private import private_mkdir

MAX_NAME_ATTEMPTS = 999


def import_audio_file(src: Path, dest_dir: Path, stem: str) -> tuple[Path, AudioInfo]:
    """Copy `src` to `dest_dir/<stem><ext>` (or `<stem>-2<ext>`, … — never over an existing file).

    The file is validated first, so nothing is copied when it cannot be read.
    """
    src = Path(src)
    dest_dir = Path(dest_dir)
    if not stem or "/" in stem or os.sep in stem or stem in (".", ".."):
        raise AudioError(f"invalid file name stem {stem!r}", "use letters, digits, '-' and '_'")
    inspect_audio(src)
    private_mkdir(dest_dir, parents=True, exist_ok=True)
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
