"""Where participant's copies are written and where returned ones are looked for.

The folder is remembered per study without a setting of its own: it is the folder of the last
copy written or returned copy read, as the study's records of sends and returns already hold
them. A new study starts with <study>/exports/participant-copies."""

from __future__ import annotations

from pathlib import Path

from fieldkit.errors import FieldkitError
from fieldkit.services.study import Study
from fieldkit.store.approvals import Approvals

DEFAULT_COPY_FOLDER = "participant-copies"  # inside the study's exports folder


def copy_folder(study: Study) -> Path:
    """The folder of the last participant's copy written or read back, else the default."""
    stored = Approvals(study.db).latest_copy_path()
    if stored:
        return study.paths.absolute(stored).parent
    return study.paths.exports / DEFAULT_COPY_FOLDER


def default_copy_name(participant_id: str, wave: str, fmt: str, folder: Path | None = None) -> str:
    """PID_wave.docx; when `folder` already holds that name (a copy sent again), PID_wave-2.docx,
    PID_wave-3.docx … so that nothing is overwritten. IDs and waves are file-name safe."""
    stem = f"{participant_id}_{wave}"
    name = f"{stem}.{fmt}"
    number = 1
    while folder is not None and (folder / name).exists():
        number += 1
        name = f"{stem}-{number}.{fmt}"
    return name


def make_copy_folder(folder: Path) -> None:
    """Create the folder a copy is about to be written to (the user agreed to it)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FieldkitError(
            f"could not create the folder {folder}: {error.strerror or error}",
            "choose another folder",
        ) from None
