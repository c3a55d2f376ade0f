"""Crash-safe WAV writing and repair of recordings whose writer died.

libsndfile rewrites the WAV header after every write when SFC_SET_UPDATE_HEADER_AUTO is on, and it
does no user-space buffering, so after `kill -9` the file on disk is complete up to the last block
(GUIDE.md, "Crash-safe recording"). An occasional fsync extends that to power loss. Anything that
still has a stale header (another writer, a torn header write) is fixed by `repair_recording`.
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from fieldkit.errors import AudioError, DiskSpaceError

SFC_SET_UPDATE_HEADER_AUTO = 0x1061
# A WAV header counts bytes in 32 bits; stop a little before that.
WAV_MAX_DATA_BYTES = 0xFFFFFFFF - 1024
_SAMPLE_BYTES = 2  # PCM_16
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_NEARLY_NO_SPACE = 64 * 1024  # bytes: less than this free after a failed write means "full"


class CrashSafeWavWriter:
    """WAV PCM_16 that is readable at every moment. Never overwrites an existing file."""

    def __init__(
        self, path: Path, samplerate: int, channels: int, fsync_every_s: float | None = 2.0
    ) -> None:
        import soundfile

        self.path = Path(path)
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.frames = 0
        self.failed = False  # a write failed: part of a block may be in the file uncounted
        self._fsync_every_s = fsync_every_s
        self._last_fsync = time.monotonic()
        self._fd = _create_exclusive(self.path)
        try:
            self._file = soundfile.SoundFile(
                self._fd,
                mode="w",
                samplerate=self.samplerate,
                channels=self.channels,
                format="WAV",
                subtype="PCM_16",
                closefd=False,
            )
        except Exception as error:
            os.close(self._fd)
            self.path.unlink(missing_ok=True)
            raise AudioError(f"cannot create {self.path}: {error}", "check the folder") from error
        _enable_auto_header(self._file)
        self._closed = False

    @property
    def max_frames(self) -> int:
        return WAV_MAX_DATA_BYTES // (_SAMPLE_BYTES * self.channels)

    def write(self, block: np.ndarray) -> None:
        """Append (frames, channels) int16 or float samples; the header is current afterwards."""
        if self._closed:
            raise AudioError(f"{self.path} is already closed", "start a new recording")
        if self.frames + len(block) > self.max_frames:
            raise AudioError(
                f"{self.path.name} reached the 4 GiB WAV size limit",
                "start a new recording to continue",
            )
        try:
            self._file.write(block)
            self.frames += len(block)
            self.sync_if_due()
        except (RuntimeError, OSError) as error:  # soundfile's errors are RuntimeErrors
            self.failed = True
            if self._disk_full(error):
                raise DiskSpaceError(
                    "the disk is full", "free some space on the disk, then record again"
                ) from error
            raise AudioError(f"cannot write {self.path.name}: {error}", "check the disk") from error

    def _disk_full(self, error: BaseException) -> bool:
        """libsndfile only says "System error"; the C errno (kept by cffi) or the free space
        tells a full disk from other failures."""
        import soundfile

        code = error.errno if isinstance(error, OSError) else soundfile._ffi.errno
        return disk_full(code, self.path.parent)

    def sync_if_due(self) -> bool:
        """fsync when the last one is `fsync_every_s` ago (capture also calls this while no
        audio comes in). Returns whether it synced."""
        if self._fsync_every_s is None or self._closed:
            return False
        now = time.monotonic()
        if now - self._last_fsync < self._fsync_every_s:
            return False
        os.fsync(self._fd)
        self._last_fsync = now
        return True

    def kept_frames(self) -> int:
        """The frames the closed file holds. After a failed write (a full disk) part of a block
        may have reached the file: its header is made to match what is there."""
        if not self.failed:
            return self.frames
        return repair_recording(self.path).frames

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._file.close()
            os.fsync(self._fd)
        finally:
            os.close(self._fd)

    def __enter__(self) -> CrashSafeWavWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def disk_full(code: int | None, folder: Path) -> bool:
    """Whether a failed write means a full disk: its errno says so, or hardly any space is left."""
    if code in _DISK_FULL_ERRNOS:
        return True
    try:
        return shutil.disk_usage(folder).free < _NEARLY_NO_SPACE
    except OSError:
        return False


def _create_exclusive(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise AudioError(
            f"{path} already exists; recordings are never overwritten",
            "choose another file name",
        ) from error
    except OSError as error:
        raise AudioError(f"cannot create {path}: {error.strerror}", "check the folder") from error


def _enable_auto_header(sound_file: Any) -> None:
    import soundfile

    soundfile._snd.sf_command(sound_file._file, SFC_SET_UPDATE_HEADER_AUTO, soundfile._ffi.NULL, 1)


@dataclass(frozen=True)
class RepairResult:
    path: Path
    frames: int
    samplerate: int
    channels: int
    duration_s: float
    repaired: bool


@dataclass(frozen=True)
class WavLayout:
    riff_size: int
    samplerate: int
    channels: int
    block_align: int
    data_size_offset: int  # where the data chunk's 32-bit size lives
    data_start: int
    data_size: int


def repair_recording(path: Path) -> RepairResult:
    """Make the RIFF and data sizes of a WAV match the audio actually on disk. Idempotent.

    Only the header is touched: no audio byte is ever removed. A torn last frame (half written)
    is left outside the data chunk.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            file_size = os.fstat(handle.fileno()).st_size
            layout = parse_wav_header(handle.read(64 * 1024), path)
            wanted_data, wanted_riff = _wanted_sizes(layout, handle, file_size)
    except OSError as error:
        raise AudioError(f"cannot read {path}: {error.strerror}", "check the file") from error
    repaired = (wanted_data, wanted_riff) != (layout.data_size, layout.riff_size)
    if repaired:
        _rewrite_sizes(path, layout, wanted_data, wanted_riff)
    frames = wanted_data // layout.block_align
    _check_readable(path, frames)
    return RepairResult(
        path=path,
        frames=frames,
        samplerate=layout.samplerate,
        channels=layout.channels,
        duration_s=frames / layout.samplerate,
        repaired=repaired,
    )


def parse_wav_header(head: bytes, path: Path) -> WavLayout:
    """Where the audio of a WAV starts and how it is laid out, from the file's first bytes
    (AudioError when they hold no whole RIFF/fmt/data header)."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise AudioError(
            f"cannot repair {path.name}: not a WAV recording (no RIFF/WAVE header)",
            "the recording may never have started; keep the file for inspection",
        )
    riff_size = struct.unpack_from("<I", head, 4)[0]
    position = 12
    fmt: tuple[int, int, int] | None = None
    while position + 8 <= len(head):
        chunk_id = head[position : position + 4]
        size = struct.unpack_from("<I", head, position + 4)[0]
        if chunk_id == b"fmt " and position + 8 + 16 <= len(head):
            channels, samplerate = struct.unpack_from("<HI", head, position + 10)
            block_align = struct.unpack_from("<H", head, position + 20)[0]
            fmt = (channels, samplerate, block_align)
        elif chunk_id == b"data":
            if fmt is None or fmt[2] == 0:
                break
            return WavLayout(riff_size, fmt[1], fmt[0], fmt[2], position + 4, position + 8, size)
        position += 8 + size + (size & 1)
    raise AudioError(
        f"cannot repair {path.name}: no readable format/data chunk in its header",
        "keep the file for inspection; it cannot be recovered automatically",
    )


def _wanted_sizes(layout: WavLayout, handle: BinaryIO, file_size: int) -> tuple[int, int]:
    """(data size, RIFF size) that describe what is really in the file."""
    available = file_size - layout.data_start
    whole_frames = max(0, available - available % layout.block_align)
    claimed_end = layout.data_start + layout.data_size
    if layout.data_size == 0 or claimed_end > file_size:
        return whole_frames, layout.data_start - 8 + whole_frames
    trailing = file_size - claimed_end
    if trailing < layout.block_align:
        # Header is current (at most a torn frame follows).
        riff_ok = layout.riff_size == claimed_end - 8 + (layout.data_size & 1)
        return layout.data_size, layout.riff_size if riff_ok else claimed_end - 8
    if _chunk_follows(handle, claimed_end + (layout.data_size & 1), file_size):
        # A finished file with chunks after the audio (e.g. LIST): nothing is stale.
        return layout.data_size, layout.riff_size
    return whole_frames, layout.data_start - 8 + whole_frames


def _chunk_follows(handle: BinaryIO, position: int, file_size: int) -> bool:
    handle.seek(position)
    header = handle.read(8)
    if len(header) < 8:
        return False
    chunk_id, size = header[:4], struct.unpack_from("<I", header, 4)[0]
    printable = all(32 <= byte < 127 for byte in chunk_id)
    return printable and position + 8 + size <= file_size


def _rewrite_sizes(path: Path, layout: WavLayout, data_size: int, riff_size: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(4)
        handle.write(struct.pack("<I", riff_size))
        handle.seek(layout.data_size_offset)
        handle.write(struct.pack("<I", data_size))
        handle.flush()
        os.fsync(handle.fileno())


def _check_readable(path: Path, frames: int) -> None:
    import soundfile

    try:
        info = soundfile.info(str(path))
    except Exception as error:
        raise AudioError(
            f"cannot read {path.name} after repair: {error}", "keep it for inspection"
        ) from error
    if info.frames != frames:
        raise AudioError(
            f"{path.name}: header repaired to {frames} frames but readers see {info.frames}",
            "keep the file for inspection",
        )
