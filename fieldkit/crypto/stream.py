"""Encrypted recordings: a chunked authenticated-encryption stream that survives a crash.

Layout (all integers little-endian, except the counter inside the nonce):

    header   43 bytes  magic "FKENCAUD", version u16 = 1, cipher u8 (1 = ChaCha20-Poly1305),
                       sample format u8 (1 = int16, 2 = float32), sample rate u32, channels u16,
                       reserved u16 = 0, key salt 16 bytes, nonce prefix 7 bytes
    header tag 16 bytes  AEAD tag over an empty message with the header as associated data:
                       a wrong key or an altered header is found before any audio is read
    chunk*   u32 length of the ciphertext, then the ciphertext (interleaved little-endian samples
             of one capture block, ≤ 1 s, plus a 16-byte tag)

Each file has its own key, HKDF-SHA256(data key, salt = the file's key salt), and a random nonce
prefix; a chunk's nonce is prefix ‖ chunk index (u32 big-endian) ‖ flag, the flag being 0 for
audio, 1 for the final chunk and 2 for the header tag. So no nonce repeats under a key, chunks
cannot be reordered, dropped from the middle or moved to another file, and every chunk carries the
header as associated data. `close()` writes an empty final chunk: a file without one was cut off
(crash, power loss) and its last chunk is simply where the writer stopped; data after a final
chunk is tampering. The frame count of a chunk follows from its length, so seeking reads only the
4-byte length fields and decrypts nothing but the chunks asked for.

Chunks go to the file with one unbuffered write each (kill -9 keeps every chunk written) and the
file is fsynced at least every `fsync_every_s` (2 s), so a power loss loses at most that much.
Decrypted audio stays in memory: nothing here writes a temporary file.
"""

from __future__ import annotations

import contextlib
import os
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from fieldkit.crypto.errors import AudioAuthenticationError, EncryptedAudioError
from fieldkit.crypto.files import fsync_folder, write_all
from fieldkit.crypto.keys import DataKey

MAGIC = b"FKENCAUD"
VERSION = 1
SUFFIX = ".fka"  # suggested file name ending for encrypted recordings

_HEADER = struct.Struct("<8sHBBIHH16s7s")
_LENGTH = struct.Struct("<I")
_TAG_BYTES = 16
PREAMBLE_BYTES = _HEADER.size + _TAG_BYTES
_CIPHER_CHACHA20_POLY1305 = 1
_FLAG_AUDIO, _FLAG_FINAL, _FLAG_HEADER = 0, 1, 2
_MAX_CHUNKS = 2**32 - 1  # the counter is 32 bits (and the last index is kept for the final chunk)
_MAX_CHANNELS = 64
_MAX_SAMPLERATE = 768_000

SampleFormat = Literal["int16", "float32"]
_FORMAT_CODES: dict[str, int] = {"int16": 1, "float32": 2}
_FORMAT_NAMES = {code: name for name, code in _FORMAT_CODES.items()}
_STORED_DTYPES: dict[str, np.dtype[Any]] = {"int16": np.dtype("<i2"), "float32": np.dtype("<f4")}

Ending = Literal["complete", "cut-off", "tampered", "unreadable"]


@dataclass(frozen=True)
class StreamHeader:
    samplerate: int
    channels: int
    sample_format: SampleFormat
    key_salt: bytes
    nonce_prefix: bytes

    def pack(self) -> bytes:
        return _HEADER.pack(
            MAGIC,
            VERSION,
            _CIPHER_CHACHA20_POLY1305,
            _FORMAT_CODES[self.sample_format],
            self.samplerate,
            self.channels,
            0,
            self.key_salt,
            self.nonce_prefix,
        )

    @property
    def frame_bytes(self) -> int:
        return self.channels * _STORED_DTYPES[self.sample_format].itemsize

    @property
    def max_chunk_frames(self) -> int:
        return self.samplerate  # one second

    def nonce(self, index: int, flag: int) -> bytes:
        return self.nonce_prefix + index.to_bytes(4, "big") + bytes([flag])


def _file_cipher(key: DataKey, header: StreamHeader) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    return ChaCha20Poly1305(key.derive("audio-stream-v1", salt=header.key_salt))


def is_encrypted_recording(path: Path) -> bool:
    """Whether the file starts like an encrypted recording (no key needed)."""
    try:
        with Path(path).open("rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


# -- writing -----------------------------------------------------------------------------------


class _StreamFacts:
    """What the header and the frame count say, alike for the writer and the reader."""

    header: StreamHeader
    frames: int

    @property
    def samplerate(self) -> int:
        return self.header.samplerate

    @property
    def channels(self) -> int:
        return self.header.channels

    @property
    def duration_s(self) -> float:
        return self.frames / self.header.samplerate


class EncryptedAudioWriter(_StreamFacts):
    """Writes an encrypted recording that is readable up to its last chunk at every moment.

    Mirrors CrashSafeWavWriter: `write(block)` per capture block, `frames`, `close()`, a context
    manager; never overwrites a file; mode 0600 whatever the umask. Blocks longer than 1 s are
    split, so a chunk never holds more than a second.
    """

    def __init__(
        self,
        path: Path,
        key: DataKey,
        samplerate: int,
        channels: int,
        sample_format: SampleFormat = "int16",
        fsync_every_s: float | None = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _check_format(samplerate, channels, sample_format)
        self.path = Path(path)
        self.header = StreamHeader(
            int(samplerate), int(channels), sample_format, os.urandom(16), os.urandom(7)
        )
        self.frames = 0
        self._chunks = 0
        self._fsync_every_s = fsync_every_s
        self._clock = clock
        self._cipher = _file_cipher(key, self.header)
        self._associated = self.header.pack()
        self._closed = False
        self._failed = False
        self._fd = _create_exclusive(self.path)
        try:
            tag = self._cipher.encrypt(self.header.nonce(0, _FLAG_HEADER), b"", self._associated)
            self._append(self._associated + tag)
            os.fsync(self._fd)
            fsync_folder(self.path.parent)  # the new name survives a power loss too
        except BaseException as error:
            os.close(self._fd)
            self.path.unlink(missing_ok=True)
            if isinstance(error, OSError):
                raise EncryptedAudioError(
                    f"cannot create {self.path}: {error.strerror}", "check the disk"
                ) from error
            raise
        self._last_sync = clock()

    def write(self, block: np.ndarray) -> None:
        """Append (frames, channels) samples (mono may be 1-D): int16, or float in [-1, 1]."""
        if self._closed or self._failed:
            raise EncryptedAudioError(
                f"{self.path.name} is no longer being written", "start a new recording"
            )
        samples = _to_stored(block, self.header)
        step = self.header.max_chunk_frames
        for start in range(0, len(samples), step):
            piece = samples[start : start + step]
            self._write_chunk(piece.tobytes(), _FLAG_AUDIO)
            self.frames += len(piece)
        self.sync_if_due()

    def sync(self) -> None:
        """fsync now: everything written so far survives a power loss."""
        try:
            os.fsync(self._fd)
        except OSError as error:
            raise EncryptedAudioError(
                f"cannot save {self.path.name} to disk: {error.strerror}",
                "check the disk; the audio before this point is kept",
            ) from error
        self._last_sync = self._clock()

    def sync_if_due(self) -> bool:
        """fsync when the last one is `fsync_every_s` ago; the capture loop may also call this
        while no audio comes in. Returns whether it synced."""
        if self._fsync_every_s is None or self._closed:
            return False
        if self._clock() - self._last_sync < self._fsync_every_s:
            return False
        self.sync()
        return True

    def close(self) -> None:
        """Write the final chunk (the recording ended on purpose) and fsync. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._write_chunk(b"", _FLAG_FINAL)
            os.fsync(self._fd)
        except OSError as error:
            raise EncryptedAudioError(
                f"cannot finish {self.path.name}: {error.strerror}",
                "the audio written before is kept; the file will read as cut off",
            ) from error
        finally:
            os.close(self._fd)

    def __enter__(self) -> EncryptedAudioWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write_chunk(self, plaintext: bytes, flag: int) -> None:
        if self._chunks >= _MAX_CHUNKS:
            raise EncryptedAudioError(
                f"{self.path.name} has the most chunks a recording may have",
                "start a new recording to continue",
            )
        # The index is the chunk's place in the file. After a failed write no audio chunk is
        # written again (`_failed`), so a nonce is never reused even though that index is free;
        # only the final chunk may take it, and its flag makes its nonce different.
        index = self._chunks
        ciphertext = self._cipher.encrypt(
            self.header.nonce(index, flag), plaintext, self._associated
        )
        try:
            self._append(_LENGTH.pack(len(ciphertext)) + ciphertext)
        except OSError as error:
            self._failed = True
            raise EncryptedAudioError(
                f"cannot write {self.path.name}: {error.strerror}",
                "check the disk; the audio before this point is kept",
            ) from error
        self._chunks += 1

    def _append(self, data: bytes) -> None:
        end = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            write_all(self._fd, data)
        except OSError:
            # Leave no torn chunk behind (a full disk): the file stays whole up to its last chunk.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, end)
            raise


def _create_exclusive(path: Path) -> int:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError as error:
        raise EncryptedAudioError(
            f"{path} already exists; recordings are never overwritten", "choose another file name"
        ) from error
    except OSError as error:
        raise EncryptedAudioError(
            f"cannot create {path}: {error.strerror}", "check the folder"
        ) from error
    os.fchmod(fd, 0o600)
    return fd


def _check_format(samplerate: int, channels: int, sample_format: str) -> None:
    if sample_format not in _FORMAT_CODES:
        raise EncryptedAudioError(
            f"unknown sample format {sample_format!r}", "use int16 or float32"
        )
    if not 1 <= samplerate <= _MAX_SAMPLERATE or not 1 <= channels <= _MAX_CHANNELS:
        raise EncryptedAudioError(
            f"cannot record {channels} channels at {samplerate} Hz",
            f"use 1–{_MAX_CHANNELS} channels and a rate up to {_MAX_SAMPLERATE} Hz",
        )


def _to_stored(block: np.ndarray, header: StreamHeader) -> np.ndarray:
    samples = np.asarray(block)
    if samples.ndim == 1 and header.channels == 1:
        samples = samples.reshape(-1, 1)
    if samples.ndim != 2 or samples.shape[1] != header.channels:
        raise EncryptedAudioError(
            f"a block of shape {samples.shape} does not fit {header.channels} channel(s)",
            "pass (frames, channels) samples",
        )
    stored = _STORED_DTYPES[header.sample_format]
    if samples.dtype.kind == "f":
        if header.sample_format == "int16":
            samples = np.round(np.clip(samples, -1.0, 1.0) * 32767.0)
    elif samples.dtype == np.int16:
        if header.sample_format == "float32":
            samples = samples.astype(np.float32) / 32768.0
    else:
        raise EncryptedAudioError(
            f"cannot record {samples.dtype} samples", "pass int16 or float samples"
        )
    return np.ascontiguousarray(samples, dtype=stored)


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkRef:
    """Where a chunk is (its length field at `offset`) and which frames it holds."""

    index: int
    offset: int
    length: int  # of the ciphertext
    first_frame: int
    frames: int


class EncryptedAudioReader(_StreamFacts):
    """Reads an encrypted recording into memory, whole or by time, decrypting only what is asked.

    Opening checks the header (magic, version, header tag) and indexes the chunks from their
    length fields. A torn last chunk is left out (`torn_bytes`); a length field that cannot be
    right stops the index (`damaged_at`). Every chunk read is authenticated: one that fails
    raises AudioAuthenticationError after the chunks before it have been yielded.
    """

    def __init__(self, path: Path, key: DataKey) -> None:
        self.path = Path(path)
        try:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError as error:
            raise EncryptedAudioError(
                f"cannot read {self.path}: no such file", "check the path"
            ) from error
        except OSError as error:
            raise EncryptedAudioError(
                f"cannot read {self.path}: {error.strerror}", "check the file"
            ) from error
        try:
            self.header = _read_header(self._fd, self.path)
            self._associated = self.header.pack()
            self._cipher = _file_cipher(key, self.header)
            self._check_header_tag()
            self.chunks: list[ChunkRef] = []
            self.frames = 0
            self.torn_bytes = 0
            self.damaged_at: int | None = None
            self._indexed_to = PREAMBLE_BYTES  # where the chunk after the last indexed one starts
            self._index()
        except BaseException:
            os.close(self._fd)
            raise

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> EncryptedAudioReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ending(self) -> Literal["complete", "cut-off"]:
        """Whether the writer finished the file (final chunk) or stopped (crash, power loss).
        Authenticates the last chunk only."""
        if not self.chunks or self.damaged_at is not None:
            return "cut-off"
        last = self.chunks[-1]
        return "complete" if self._open_chunk(last, _FLAG_FINAL) is not None else "cut-off"

    def chunk_at(self, frame: int) -> int:
        """The index of the chunk that holds `frame` (binary search on the chunk index)."""
        import bisect

        found = bisect.bisect_right(self.chunks, frame, key=lambda chunk: chunk.first_frame)
        return max(0, found - 1)

    def iter_blocks(
        self, start_frame: int = 0, end_frame: int | None = None, dtype: str = "float32"
    ) -> Iterator[np.ndarray]:
        """(frames, channels) blocks from `start_frame` up to `end_frame` (exclusive), one per
        chunk, trimmed at both ends. Only the chunks in the range are read and decrypted."""
        end = self.frames if end_frame is None else min(int(end_frame), self.frames)
        start = max(0, int(start_frame))
        if start < end:
            for chunk in self.chunks[self.chunk_at(start) :]:
                if chunk.first_frame >= end:
                    return
                samples = self._decrypt(chunk)
                low = max(0, start - chunk.first_frame)
                high = min(chunk.frames, end - chunk.first_frame)
                if high > low:
                    yield _convert(samples[low:high], dtype)
        wants_more = end_frame is None or end_frame > self.frames
        if wants_more and self.damaged_at is not None:
            raise self._damage_error(self.damaged_at, self.frames)

    def read_frames(
        self, start_frame: int = 0, end_frame: int | None = None, dtype: str = "float32"
    ) -> np.ndarray:
        blocks = list(self.iter_blocks(start_frame, end_frame, dtype))
        if not blocks:
            return np.zeros((0, self.channels), dtype=np.dtype(dtype))
        return np.concatenate(blocks)

    def read(
        self, start_s: float = 0.0, end_s: float | None = None, dtype: str = "float32"
    ) -> np.ndarray:
        """Samples between two times in seconds (the whole recording by default), in memory."""
        end = None if end_s is None else self.frame_at(end_s)
        return self.read_frames(self.frame_at(start_s), end, dtype)

    def frame_at(self, seconds: float) -> int:
        return max(0, round(float(seconds) * self.samplerate))

    def check(self) -> RecordingCheck:
        """Authenticate every chunk (see check_recording)."""
        kept_frames = 0
        last = len(self.chunks) - 1
        for chunk in self.chunks:
            if self._open_chunk(chunk, _FLAG_AUDIO) is not None:
                kept_frames += chunk.frames
                continue
            final_here = chunk.index == last and self.damaged_at is None
            if final_here and self._open_chunk(chunk, _FLAG_FINAL) is not None:
                return self._finding(kept_frames + chunk.frames, chunk.index, "complete")
            return self._tampered(chunk.index, kept_frames)
        if self.damaged_at is not None:
            return self._tampered(self.damaged_at, kept_frames)
        return self._finding(kept_frames, len(self.chunks), "cut-off")

    # -- inside --

    def _finding(self, frames: int, chunks: int, ending: Ending) -> RecordingCheck:
        seconds = frames / self.samplerate
        if ending == "complete":
            message = f"{self.path.name}: complete, {seconds:.1f} s"
        else:
            torn = " (an incomplete last block was left out)" if self.torn_bytes else ""
            message = (
                f"{self.path.name}: cut off: the recording stopped without being finished "
                f"(a crash or power loss); {seconds:.1f} s kept{torn}"
            )
        return RecordingCheck(
            self.path,
            self.samplerate,
            self.channels,
            frames,
            chunks,
            ending,
            torn_bytes=self.torn_bytes,
            message=message,
        )

    def _tampered(self, bad: int, frames: int) -> RecordingCheck:
        at_s = frames / self.samplerate
        later = self.chunks[bad + 1 :]
        intact = sum(1 for c in later if self._open_chunk(c, _FLAG_AUDIO) is not None)
        message = (
            f"{self.path.name}: chunk {bad} at {at_s:.1f} s fails authentication (the file was "
            f"altered or damaged after it was written); the {at_s:.1f} s before it are kept"
        )
        if intact:
            message += f"; {intact} later chunk(s) still authenticate but are left out"
        return RecordingCheck(
            self.path,
            self.samplerate,
            self.channels,
            frames,
            bad,
            "tampered",
            torn_bytes=self.torn_bytes,
            bad_chunk=bad,
            bad_at_s=at_s,
            intact_after=intact,
            message=message,
        )

    def _check_header_tag(self) -> None:
        tag = os.pread(self._fd, _TAG_BYTES, _HEADER.size)
        nonce = self.header.nonce(0, _FLAG_HEADER)
        if self._decrypt_raw(nonce, tag) is None:
            raise AudioAuthenticationError(
                f"{self.path.name}: its header does not authenticate: the file was altered, or "
                "it was encrypted with another study's key",
                "keep the file for inspection; no audio can be read from it",
            )

    def refresh(self) -> int:
        """Index the chunks written since this reader was opened (or last refreshed), for a
        recording another process is still writing: a chunk is appended in one write, so what
        lies before the file's end is whole, and a chunk still being written is only a torn
        tail for now. Returns the frames readable. Nothing is decrypted here."""
        if self.damaged_at is None:
            self._index()
        return self.frames

    def _index(self) -> None:
        """Index chunks from where indexing stopped to the end of the file: a torn last chunk
        is left out (`torn_bytes`), a length field that cannot be right stops the index
        (`damaged_at`)."""
        size = os.fstat(self._fd).st_size
        max_length = _TAG_BYTES + self.header.max_chunk_frames * self.header.frame_bytes
        offset = self._indexed_to
        self.torn_bytes = 0
        while offset < size:
            remaining = size - offset
            if remaining < _LENGTH.size:
                self.torn_bytes = remaining
                break
            (length,) = _LENGTH.unpack(os.pread(self._fd, _LENGTH.size, offset))
            payload = length - _TAG_BYTES
            if payload < 0 or length > max_length or payload % self.header.frame_bytes:
                self.damaged_at = len(self.chunks)
                break
            if _LENGTH.size + length > remaining:
                self.torn_bytes = remaining
                break
            frames = payload // self.header.frame_bytes
            self.chunks.append(ChunkRef(len(self.chunks), offset, length, self.frames, frames))
            offset += _LENGTH.size + length
            self.frames += frames
        self._indexed_to = offset

    def _decrypt(self, chunk: ChunkRef) -> np.ndarray:
        is_last = chunk.index == len(self.chunks) - 1
        plaintext = self._open_chunk(chunk, _FLAG_AUDIO)
        if plaintext is None and is_last:
            plaintext = self._open_chunk(chunk, _FLAG_FINAL)
        if plaintext is None:
            raise self._damage_error(chunk.index, chunk.first_frame)
        stored = _STORED_DTYPES[self.header.sample_format]
        return np.frombuffer(plaintext, dtype=stored).reshape(-1, self.channels)

    def _open_chunk(self, chunk: ChunkRef, flag: int) -> bytes | None:
        ciphertext = os.pread(self._fd, chunk.length, chunk.offset + _LENGTH.size)
        return self._decrypt_raw(self.header.nonce(chunk.index, flag), ciphertext)

    def _decrypt_raw(self, nonce: bytes, ciphertext: bytes) -> bytes | None:
        from cryptography.exceptions import InvalidTag

        try:
            plaintext: bytes = self._cipher.decrypt(nonce, ciphertext, self._associated)
        except InvalidTag:
            return None
        return plaintext

    def _damage_error(self, index: int, first_frame: int) -> AudioAuthenticationError:
        at_s = first_frame / self.samplerate
        return AudioAuthenticationError(
            f"{self.path.name}: chunk {index} (at {at_s:.1f} s) fails authentication: the file "
            "was altered or damaged after it was written",
            f"the {at_s:.1f} s before it can still be read; keep the file for inspection",
            chunk=index,
            at_s=at_s,
        )


def _read_header(fd: int, path: Path) -> StreamHeader:
    preamble = os.pread(fd, PREAMBLE_BYTES, 0)
    if preamble[: len(MAGIC)] != MAGIC:
        raise EncryptedAudioError(
            f"{path.name} is not an encrypted fieldkit recording", "check the file"
        )
    if len(preamble) < PREAMBLE_BYTES:
        raise EncryptedAudioError(
            f"{path.name} holds no complete header: the recording never started",
            "keep the file for inspection",
        )
    _magic, version, cipher, code, samplerate, channels, _reserved, salt, prefix = _HEADER.unpack(
        preamble[: _HEADER.size]
    )
    if version != VERSION or cipher != _CIPHER_CHACHA20_POLY1305 or code not in _FORMAT_NAMES:
        raise EncryptedAudioError(
            f"{path.name} uses an encrypted format this fieldkit does not know "
            f"(version {version}, cipher {cipher}, sample format {code})",
            "update fieldkit to read it",
        )
    if not 1 <= samplerate <= _MAX_SAMPLERATE or not 1 <= channels <= _MAX_CHANNELS:
        raise AudioAuthenticationError(
            f"{path.name}: its header is damaged ({channels} channels at {samplerate} Hz)",
            "keep the file for inspection; no audio can be read from it",
        )
    sample_format: SampleFormat = "int16" if _FORMAT_NAMES[code] == "int16" else "float32"
    return StreamHeader(samplerate, channels, sample_format, salt, prefix)


def _convert(samples: np.ndarray, dtype: str) -> np.ndarray:
    wanted = np.dtype(dtype)
    if wanted == np.float32:
        if samples.dtype.kind == "f":
            return samples.astype(np.float32)  # a copy: the caller may change it
        scaled: np.ndarray = samples.astype(np.float32) / np.float32(32768.0)
        return scaled
    if wanted == np.int16:
        if samples.dtype.kind == "i":
            return samples.astype(np.int16)
        rounded: np.ndarray = np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
        return rounded
    raise EncryptedAudioError(f"cannot read samples as {dtype}", "use float32 or int16")


def read_encrypted_audio(
    path: Path, key: DataKey, start: float = 0.0, end: float | None = None, dtype: str = "float32"
) -> tuple[np.ndarray, int]:
    """Like audio.reader.read_audio for an encrypted recording: (samples, samplerate)."""
    with EncryptedAudioReader(path, key) as reader:
        return reader.read(start, end, dtype), reader.samplerate


# -- checking and recovering -------------------------------------------------------------------


@dataclass(frozen=True)
class RecordingCheck:
    """What a full authentication pass over a recording found. `frames` are the audio that can
    be trusted: every chunk up to the first that fails authentication (or the torn tail)."""

    path: Path
    samplerate: int
    channels: int
    frames: int
    chunks: int
    ending: Ending
    torn_bytes: int = 0
    bad_chunk: int | None = None
    bad_at_s: float | None = None
    intact_after: int = 0  # chunks after the bad one that still authenticate (not counted)
    message: str = ""

    @property
    def duration_s(self) -> float:
        return self.frames / self.samplerate if self.samplerate else 0.0

    @property
    def complete(self) -> bool:
        return self.ending == "complete"


def check_recording(path: Path, key: DataKey) -> RecordingCheck:
    """Authenticate every chunk and say what can be kept. Never changes the file and never raises
    for damage (only for a missing file or a file that is not an encrypted recording).

    * complete: the writer finished it; cut-off: it stopped (crash, power loss) — every complete
      chunk is kept and a torn last chunk is left out;
    * tampered: a chunk fails authentication (or data follows the final chunk): the chunks before
      it are kept, the rest is reported;
    * unreadable: the header does not authenticate (altered, or another key): nothing is kept.
    """
    try:
        reader = EncryptedAudioReader(path, key)
    except AudioAuthenticationError as error:
        return RecordingCheck(Path(path), 0, 0, 0, 0, "unreadable", message=error.message)
    with reader:
        return reader.check()


def recover_recording(path: Path, key: DataKey) -> RecordingCheck:
    """What crash recovery keeps of an encrypted recording (see check_recording). Nothing is
    rewritten: readers already stop at the last complete chunk, and an altered file stays as it
    is for inspection."""
    return check_recording(path, key)
