"""Encrypted recordings as audio: the chunked stream of fieldkit.crypto.stream behind the same
faces a WAV recording has.

* capture writes through `EncryptedRecordingWriter` (a full disk is a DiskSpaceError, as with WAV);
* `reader.read_blocks` and `reader.inspect_audio` read through `encrypted_blocks` and
  `inspect_encrypted`;
* `encrypt_recording_file` turns any audio file into an encrypted recording (import, and the
  conversion of a plain study), `decrypt_recording_file` the reverse (converting a study back).

Decrypted audio stays in memory: nothing here writes a temporary file.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fieldkit.audio.reader import AudioBlocks, AudioInfo, read_blocks, rebatched, resampled
from fieldkit.audio.writer import disk_full
from fieldkit.crypto.errors import EncryptedAudioError
from fieldkit.crypto.stream import EncryptedAudioReader, EncryptedAudioWriter, SampleFormat
from fieldkit.errors import AudioError, DiskSpaceError

if TYPE_CHECKING:
    from fieldkit.crypto.keys import DataKey

ENCRYPTED_FORMAT = "FIELDKIT-ENCRYPTED"  # AudioInfo.format of an encrypted recording
CONVERT_BLOCK_S = 1.0  # one chunk per second when a whole file is encrypted
# Sources finer than 16-bit PCM keep their resolution (float32); the rest is stored as int16,
# which is exact for 16-bit PCM and finer than any lossy codec delivers.
_FINE_SUBTYPES = frozenset({"PCM_24", "PCM_32", "FLOAT", "DOUBLE"})


def require_key(path: Path, key: DataKey | None) -> DataKey:
    if key is None:
        raise EncryptedAudioError(
            f"{Path(path).name} is an encrypted recording: only its own study, unlocked, can "
            "read it",
            "open the study it belongs to with its passphrase",
        )
    return key


# -- reading -----------------------------------------------------------------------------------


def inspect_encrypted(path: Path, key: DataKey | None) -> AudioInfo:
    """What an encrypted recording holds (its header is authenticated; no audio is decrypted)."""
    with EncryptedAudioReader(path, require_key(path, key)) as reader:
        return AudioInfo(
            path=Path(path),
            samplerate=reader.samplerate,
            channels=reader.channels,
            frames=reader.frames,
            duration_s=reader.duration_s,
            format=ENCRYPTED_FORMAT,
        )


def encrypted_blocks(
    path: Path,
    key: DataKey | None,
    start: float,
    end: float | None,
    samplerate: int | None,
    block_s: float,
) -> AudioBlocks:
    """reader.read_blocks for an encrypted recording: only the chunks in [start, end) are read
    and decrypted, into memory."""
    reader = EncryptedAudioReader(path, require_key(path, key))
    last = None if end is None else reader.frame_at(end)
    pieces = reader.iter_blocks(reader.frame_at(start), last, "float32")
    rate = reader.samplerate
    if samplerate is not None and samplerate != rate:
        pieces, rate = resampled(pieces, rate, samplerate), samplerate
    block = max(1, round(block_s * rate))
    return AudioBlocks(rate, reader.channels, rebatched(pieces, block), closer=reader.close)


class GrowingEncryptedRecording:
    """An encrypted recording being written (reader.follow_blocks): re-indexed as it grows,
    each chunk authenticated when it is read."""

    def __init__(self, path: Path, key: DataKey | None) -> None:
        self._reader = EncryptedAudioReader(path, require_key(path, key))
        self.samplerate = self._reader.samplerate
        self.channels = self._reader.channels

    def refresh(self) -> int:
        return self._reader.refresh()

    def read(self, start: int, end: int) -> np.ndarray:
        return self._reader.read_frames(start, end, "float32")

    def check_end(self) -> None:
        for _ in self._reader.iter_blocks(self._reader.frames, None):
            pass  # nothing is left to read: this raises if the stream is damaged after it

    def close(self) -> None:
        self._reader.close()


# -- writing -----------------------------------------------------------------------------------


class EncryptedRecordingWriter:
    """What capture writes in an encrypted study (the RecordingWriter of recording_files).

    One chunk per capture block (≤ 1 s), fsync at least every 2 s; a failed write leaves the file
    whole up to its last chunk, so what it holds is exactly `frames`."""

    def __init__(
        self,
        path: Path,
        key: DataKey,
        samplerate: int,
        channels: int,
        sample_format: SampleFormat = "int16",
        fsync_every_s: float | None = 2.0,
    ) -> None:
        self.path = Path(path)
        self.failed = False
        self._stream = EncryptedAudioWriter(
            self.path, key, samplerate, channels, sample_format, fsync_every_s=fsync_every_s
        )

    @property
    def frames(self) -> int:
        return self._stream.frames

    @property
    def samplerate(self) -> int:
        return self._stream.samplerate

    @property
    def channels(self) -> int:
        return self._stream.channels

    @property
    def max_frames(self) -> int:
        return sys.maxsize  # 2^32 chunks: years of audio, unlike a WAV's 4 GiB

    def write(self, block: np.ndarray) -> None:
        try:
            self._stream.write(block)
        except EncryptedAudioError as error:
            self.failed = True
            cause = error.__cause__
            if isinstance(cause, OSError) and disk_full(cause.errno, self.path.parent):
                raise DiskSpaceError(
                    "the disk is full", "free some space on the disk, then record again"
                ) from error
            raise

    def sync_if_due(self) -> bool:
        return self._stream.sync_if_due()

    def close(self) -> None:
        self._stream.close()

    def kept_frames(self) -> int:
        return self._stream.frames

    def __enter__(self) -> EncryptedRecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- whole files -------------------------------------------------------------------------------


def encrypt_recording_file(source: Path, target: Path, key: DataKey) -> AudioInfo:
    """Decode an audio file (WAV, FLAC, MP3 …) and write it as a new encrypted recording at
    `target` (never over an existing file). Only encrypted chunks are ever written; if anything
    fails, `target` is removed and the source is untouched. 16-bit PCM is kept bit for bit.

    For importing audio into an encrypted study and for converting a plain study."""
    source, target = Path(source), Path(target)
    sample_format = _stored_format(source)
    with read_blocks(source, block_s=CONVERT_BLOCK_S) as blocks:
        writer = EncryptedRecordingWriter(
            target, key, blocks.samplerate, blocks.channels, sample_format, fsync_every_s=None
        )
        try:
            for block in blocks:
                writer.write(_to_int16(block) if sample_format == "int16" else block)
            writer.close()  # the final chunk, and an fsync
        except BaseException:
            with contextlib.suppress(EncryptedAudioError, OSError):
                writer.close()
            target.unlink(missing_ok=True)
            raise
    return inspect_encrypted(target, key)


def decrypt_recording_file(source: Path, target: Path, key: DataKey) -> AudioInfo:
    """Write an encrypted recording's audio as a new WAV at `target` (16-bit PCM, bit for bit,
    or 32-bit float for a recording stored as float), 0600, never over an existing file; on
    failure `target` is removed. For converting an encrypted study back to a plain one: the
    caller decides where plain audio may be written."""
    import soundfile

    source, target = Path(source), Path(target)
    with EncryptedAudioReader(source, key) as reader:
        int16 = reader.header.sample_format == "int16"
        fd = _create_private(target)
        try:
            with soundfile.SoundFile(
                fd,
                mode="w",
                samplerate=reader.samplerate,
                channels=reader.channels,
                format="WAV",
                subtype="PCM_16" if int16 else "FLOAT",
                closefd=False,
            ) as out:
                for block in reader.iter_blocks(dtype="int16" if int16 else "float32"):
                    out.write(block)
            os.fsync(fd)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)
    return AudioInfo(
        target,
        reader.samplerate,
        reader.channels,
        reader.frames,
        reader.duration_s,
        "WAV",
    )


def _stored_format(source: Path) -> SampleFormat:
    import soundfile

    try:
        subtype = soundfile.info(str(source)).subtype
    except Exception:  # not for libsndfile: a compressed format PyAV decodes
        return "int16"
    return "float32" if subtype in _FINE_SUBTYPES else "int16"


def _to_int16(block: np.ndarray) -> np.ndarray:
    """float32 samples as int16 on the scale the readers use (x / 32768): exact for audio that
    came from 16-bit PCM."""
    scaled = np.round(np.asarray(block, dtype=np.float64) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def _create_private(path: Path) -> int:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError as error:
        raise AudioError(
            f"{path} already exists; recordings are never overwritten", "choose another file name"
        ) from error
    except OSError as error:
        raise AudioError(f"cannot create {path}: {error.strerror}", "check the folder") from error
    os.fchmod(fd, 0o600)
    return fd
