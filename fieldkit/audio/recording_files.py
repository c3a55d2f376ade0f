"""A recording on disk, in the study's one format: crash-safe WAV in a plain study, the encrypted
chunk stream (audio/encrypted.py) in an encrypted one.

The format is chosen once, from the study's key (`recording_format`), and everything that writes a
recording — capture, import — goes through its `open_writer`, so no caller branches on
encryption. Recovery after a crash looks at the file itself (`recover_recording_file`), since a
study may hold both kinds while it is being converted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from fieldkit.crypto.stream import PREAMBLE_BYTES, is_encrypted_recording
from fieldkit.crypto.stream import SUFFIX as ENCRYPTED_SUFFIX
from fieldkit.errors import AudioError

if TYPE_CHECKING:
    import numpy as np

    from fieldkit.crypto.keys import DataKey

PLAIN_SUFFIX = ".wav"
_WAV_HEADER_BYTES = 44

Outcome = Literal["intact", "repaired", "tampered", "unreadable", "empty"]


class RecordingWriter(Protocol):
    """What capture needs of a recording file being written."""

    path: Path
    failed: bool  # a write failed: recording must stop

    @property
    def frames(self) -> int: ...

    def write(self, block: np.ndarray) -> None:
        """Append int16 (frames, channels); DiskSpaceError when the disk is full."""

    def sync_if_due(self) -> bool:
        """fsync if the last one is ~2 s ago (called while no audio comes in, too)."""

    def close(self) -> None: ...

    def kept_frames(self) -> int:
        """After close: how many frames the file really holds."""


@dataclass(frozen=True)
class RecordingFormat:
    """How a study's recordings are written: plain WAV, or encrypted with the study's key."""

    key: DataKey | None = field(default=None, repr=False)

    @property
    def encrypted(self) -> bool:
        return self.key is not None

    @property
    def suffix(self) -> str:
        return ENCRYPTED_SUFFIX if self.encrypted else PLAIN_SUFFIX

    def open_writer(self, path: Path, samplerate: int, channels: int) -> RecordingWriter:
        """A new recording file at `path` (never over an existing one), 0600."""
        if self.key is None:
            from fieldkit.audio.writer import CrashSafeWavWriter

            return CrashSafeWavWriter(path, samplerate, channels)
        from fieldkit.audio.encrypted import EncryptedRecordingWriter

        return EncryptedRecordingWriter(path, self.key, samplerate, channels)


PLAIN_WAV = RecordingFormat()


def recording_format(key: DataKey | None) -> RecordingFormat:
    """The format of a study's recordings: encrypted when the study has a data key."""
    return RecordingFormat(key) if key is not None else PLAIN_WAV


@dataclass(frozen=True)
class RecoveredFile:
    """What recovery found in a recording a crash cut off, and kept.

    intact: readable to its end as it was; repaired: a stale WAV header was fixed, or a torn
    last chunk is left out; tampered: part of an encrypted recording fails authentication (the
    audio before it is kept); unreadable: nothing can be kept; empty: no audio was written."""

    path: Path
    frames: int
    samplerate: int
    outcome: Outcome
    problem: str = ""  # one line, for tampered and unreadable

    @property
    def duration_s(self) -> float:
        return self.frames / self.samplerate if self.samplerate else 0.0

    @property
    def repaired(self) -> bool:
        return self.outcome == "repaired"


def recover_recording_file(path: Path, key: DataKey | None) -> RecoveredFile:
    """Make a recording whose writer died readable, and say how much of it is kept. Never raises
    for damage; safe to run again. A WAV gets its header sizes fixed; an encrypted recording is
    authenticated chunk by chunk and nothing in it is rewritten (readers stop at its last complete
    chunk; an altered file stays as it is, for inspection)."""
    path = Path(path)
    if not path.is_file() or holds_no_audio(path):
        return RecoveredFile(path, 0, 0, "empty")
    if is_encrypted_recording(path):
        return _recover_encrypted(path, key)
    from fieldkit.audio.writer import repair_recording

    try:
        result = repair_recording(path)
    except (AudioError, OSError) as error:
        problem = error.one_line() if isinstance(error, AudioError) else str(error)
        return RecoveredFile(path, 0, 0, "unreadable", problem)
    outcome: Outcome = "repaired" if result.repaired else "intact"
    return RecoveredFile(path, result.frames, result.samplerate, outcome)


def _recover_encrypted(path: Path, key: DataKey | None) -> RecoveredFile:
    from fieldkit.crypto.stream import check_recording

    if key is None:
        problem = f"{path.name} is encrypted, but this study has no key to read it"
        return RecoveredFile(path, 0, 0, "unreadable", problem)
    try:
        check = check_recording(path, key)
    except AudioError as error:  # not a whole header: the recording never started
        return RecoveredFile(path, 0, 0, "unreadable", error.one_line())
    if check.ending in ("tampered", "unreadable"):
        return RecoveredFile(path, check.frames, check.samplerate, check.ending, check.message)
    outcome: Outcome = "repaired" if check.torn_bytes else "intact"
    return RecoveredFile(path, check.frames, check.samplerate, outcome)


def holds_no_audio(path: Path) -> bool:
    """The file has no more than a header (a recording that never got its first block)."""
    size = Path(path).stat().st_size
    header = PREAMBLE_BYTES if is_encrypted_recording(path) else _WAV_HEADER_BYTES
    return size <= header
