"""Reading audio files: libsndfile (soundfile) for WAV/FLAC/OGG/MP3, PyAV (FFmpeg) for M4A/AAC and
anything else, and fieldkit's encrypted recordings (with the study's key). PyAV also does
resampling, so no extra dependency is needed for that.

`read_blocks` is the one place a recording's samples are read; `read_audio` and `inspect_audio`
take the same `key`. `follow_blocks` reads a recording while another process is still writing
it (fieldkit's crash-safe WAV or encrypted stream) and hands over exactly what `read_blocks` gives
for the finished file. Decrypted audio stays in memory: nothing here writes a file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from fieldkit.errors import AudioError

if TYPE_CHECKING:
    from fieldkit.crypto.keys import DataKey

UNREADABLE_HINT = (
    "fieldkit reads WAV, FLAC, OGG, MP3 and M4A/AAC; convert other files with "
    "`ffmpeg -i FILE out.wav`, or check that the file is complete"
)


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    samplerate: int
    channels: int
    frames: int
    duration_s: float
    format: str


def inspect_audio(path: Path, key: DataKey | None = None) -> AudioInfo:
    """What is in an audio file; AudioError when it is missing, empty, unreadable or unsupported.
    An encrypted recording needs its study's `key`."""
    path = Path(path)
    _require_nonempty_file(path)
    if _is_encrypted(path):
        from fieldkit.audio.encrypted import inspect_encrypted

        info = inspect_encrypted(path, key)
    else:
        info = _inspect_with_soundfile(path) or _inspect_with_pyav(path)
    if info.frames <= 0 or info.samplerate <= 0 or info.channels <= 0:
        raise AudioError(f"cannot read {path.name}: it holds no audio", UNREADABLE_HINT)
    return info


BLOCK_S = 10.0  # what read_blocks hands over at a time unless asked otherwise


class AudioBlocks(Iterator[np.ndarray]):
    """float32 (frames, channels) blocks of a recording, with their rate and channel count.
    Use it in a `with` block (or read it to the end) so the file is closed."""

    def __init__(
        self,
        samplerate: int,
        channels: int,
        blocks: Iterator[np.ndarray],
        closer: Callable[[], object] | None = None,
    ) -> None:
        self.samplerate = samplerate
        self.channels = channels
        self._blocks = blocks
        self._closer = closer  # closes the file even when no block was ever asked for

    def __next__(self) -> np.ndarray:
        return next(self._blocks)

    def __enter__(self) -> AudioBlocks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        close = getattr(self._blocks, "close", None)
        if close is not None:
            close()
        if self._closer is not None:
            self._closer()


def read_blocks(
    path: Path,
    start: float = 0.0,
    end: float | None = None,
    samplerate: int | None = None,
    block_s: float = BLOCK_S,
    key: DataKey | None = None,
) -> AudioBlocks:
    """The one place a recording's samples are read: seconds [start, end) as float32
    (frames, channels) blocks of about `block_s`, streamed, so memory does not grow with the
    recording. With `samplerate`, the audio is resampled to it.

    Any audio file fieldkit reads, or an encrypted recording decrypted with the study's `key`
    (in memory only). Problems with the file raise AudioError, here or while iterating; a
    part of an encrypted recording that fails authentication raises once the blocks before it
    have been handed over.
    """
    path = Path(path)
    _require_nonempty_file(path)
    start = max(0.0, float(start))
    block_s = max(0.01, float(block_s))
    if _is_encrypted(path):
        from fieldkit.audio.encrypted import encrypted_blocks

        return encrypted_blocks(path, key, start, end, samplerate, block_s)
    blocks = _soundfile_blocks(path, start, end, samplerate, block_s)
    if blocks is None:
        blocks = _pyav_blocks(path, start, end, samplerate, block_s)
    return blocks


FOLLOW_POLL_S = 0.5  # how often follow_blocks looks for more audio


class GrowingRecording(Protocol):
    """A recording file another process is still appending to, read by frame."""

    samplerate: int
    channels: int

    def refresh(self) -> int:
        """The frames written so far (whole frames: never one still being written)."""

    def read(self, start: int, end: int) -> np.ndarray:
        """float32 (frames, channels) samples of frames [start, end), all written already."""

    def check_end(self) -> None:
        """Once the writer has finished: raise AudioError if the file is damaged after the
        frames read (as read_blocks would, after the blocks before the damage)."""

    def close(self) -> None: ...


def follow_blocks(
    path: Path,
    finished: Callable[[], bool],
    start: float = 0.0,
    samplerate: int | None = None,
    block_s: float = BLOCK_S,
    key: DataKey | None = None,
    poll_s: float = FOLLOW_POLL_S,
) -> AudioBlocks:
    """`read_blocks` for a recording that fieldkit's recorder (in another process) is still
    writing: float32 blocks of at most `block_s` from `start`, handed over as the file grows.
    When no new audio is there it waits `poll_s` and looks again; the blocks end once
    `finished()` has returned True (the writer closed the file, or died) and everything
    written before that has been handed over.

    The samples are exactly those `read_blocks` gives for the finished file (the same decoding,
    the same resampling), however the file grew. Only the recorder's own formats can be
    followed: a crash-safe WAV (16-bit PCM) or an encrypted recording, with the study's `key`.
    """
    path = Path(path)
    block_s = max(0.01, float(block_s))
    if _is_encrypted(path):
        from fieldkit.audio.encrypted import GrowingEncryptedRecording

        source: GrowingRecording = GrowingEncryptedRecording(path, key)
    else:
        source = GrowingWav.open(path, finished, poll_s)
    rate = source.samplerate
    first = max(0, round(max(0.0, float(start)) * rate))
    pieces = _followed(source, first, finished, poll_s, max(1, round(block_s * rate)))
    if samplerate is not None and samplerate != rate:
        pieces, rate = resampled(pieces, rate, samplerate), samplerate
    return AudioBlocks(rate, source.channels, pieces, closer=source.close)


def _followed(
    source: GrowingRecording,
    position: int,
    finished: Callable[[], bool],
    poll_s: float,
    block: int,
) -> Iterator[np.ndarray]:
    while True:
        done = finished()  # asked first: everything written before it said so is read below
        available = source.refresh()
        while position < available:
            end = min(available, position + block)
            yield source.read(position, end)
            position = end
        if done:
            source.check_end()
            return
        time.sleep(poll_s)


class GrowingWav:
    """A crash-safe WAV (16-bit PCM) being written: its frames are counted from the file's size,
    since the recorder only ever appends audio after the header (which it rewrites in place)."""

    def __init__(self, path: Path, fd: int, samplerate: int, channels: int, data_start: int):
        self.path = path
        self.samplerate = samplerate
        self.channels = channels
        self._fd = fd
        self._data_start = data_start
        self._frame_bytes = 2 * channels

    @classmethod
    def open(cls, path: Path, finished: Callable[[], bool], poll_s: float) -> GrowingWav:
        """Wait (while the writer is at work) for the file's header, then follow it."""
        from fieldkit.audio.writer import parse_wav_header

        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            raise AudioError(f"cannot read {path}: {error.strerror}", "check the path") from error
        try:
            while True:
                done = finished()
                try:
                    layout = parse_wav_header(os.pread(fd, 64 * 1024, 0), path)
                    break
                except AudioError:
                    if done:
                        raise AudioError(
                            f"cannot read {path.name}: it holds no WAV header", UNREADABLE_HINT
                        ) from None
                time.sleep(poll_s)
            if layout.block_align != 2 * layout.channels or layout.samplerate <= 0:
                raise AudioError(
                    f"cannot follow {path.name}: not a 16-bit PCM recording", UNREADABLE_HINT
                )
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, layout.samplerate, layout.channels, layout.data_start)

    def refresh(self) -> int:
        size = os.fstat(self._fd).st_size
        return max(0, size - self._data_start) // self._frame_bytes

    def read(self, start: int, end: int) -> np.ndarray:
        count = max(0, end - start) * self._frame_bytes
        data = os.pread(self._fd, count, self._data_start + start * self._frame_bytes)
        samples = np.frombuffer(data[: len(data) - len(data) % self._frame_bytes], dtype="<i2")
        scaled: np.ndarray = samples.reshape(-1, self.channels).astype(np.float32) / np.float32(
            32768.0
        )
        return scaled

    def check_end(self) -> None:
        """Nothing to check: a WAV has no authentication, and a torn last frame is left out."""

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def read_audio(
    path: Path,
    start: float = 0.0,
    end: float | None = None,
    samplerate: int | None = None,
    key: DataKey | None = None,
) -> tuple[np.ndarray, int]:
    """Samples between `start` and `end` seconds as float32 (frames, channels), and their rate,
    in memory (for ranges: long recordings are read block by block with read_blocks).

    With `samplerate`, the audio is resampled to it. An encrypted recording needs `key`.
    """
    with read_blocks(path, start, end, samplerate, key=key) as blocks:
        parts = [] if end is not None and end <= start else list(blocks)
        if not parts:
            return np.zeros((0, blocks.channels), dtype=np.float32), blocks.samplerate
        data = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return np.ascontiguousarray(data, dtype=np.float32), blocks.samplerate


def iter_audio_blocks(path: Path, samplerate: int) -> Iterator[np.ndarray]:
    """Decode a whole file as float32 (frames, source channels) blocks at `samplerate`, in small
    blocks (a virtual microphone hands them on at their own pace)."""
    with read_blocks(path, samplerate=samplerate, block_s=0.1) as blocks:
        yield from blocks


def remix(block: np.ndarray, channels: int) -> np.ndarray:
    """Fit (frames, n) samples to `channels`: mono is the mean, mono → many is a copy per channel,
    otherwise the first channels are kept (two-channel interviews stay one speaker per channel)."""
    have = block.shape[1]
    if have == channels:
        return block
    if channels == 1:
        return np.asarray(block.mean(axis=1, keepdims=True, dtype=np.float32))
    if have == 1:
        return np.repeat(block, channels, axis=1)
    if have > channels:
        return block[:, :channels]
    extra = np.repeat(block[:, -1:], channels - have, axis=1)
    return np.concatenate([block, extra], axis=1)


def _is_encrypted(path: Path) -> bool:
    from fieldkit.crypto.stream import is_encrypted_recording

    return is_encrypted_recording(path)


def _require_nonempty_file(path: Path) -> None:
    if not path.exists():
        raise AudioError(f"cannot read {path}: no such file", "check the path")
    if not path.is_file():
        raise AudioError(f"cannot read {path}: not a file", "give an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"cannot read {path.name}: the file is empty", UNREADABLE_HINT)


def _inspect_with_soundfile(path: Path) -> AudioInfo | None:
    import soundfile

    try:
        info = soundfile.info(str(path))
    except Exception:  # libsndfile cannot read it: let PyAV try
        return None
    return AudioInfo(
        path=path,
        samplerate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        duration_s=float(info.frames) / info.samplerate if info.samplerate else 0.0,
        format=str(info.format),
    )


def _inspect_with_pyav(path: Path) -> AudioInfo:
    av = _import_av()
    try:
        with av.open(str(path)) as container:
            stream = _audio_stream(container, path)
            first = _first_decoded_frame(container, stream, path)
            duration = _pyav_duration(container, stream)
            rate = int(stream.rate or first.sample_rate)
            return AudioInfo(
                path=path,
                samplerate=rate,
                channels=int(first.layout.nb_channels),
                frames=round(duration * rate),
                duration_s=duration,
                format=str(stream.codec_context.name).upper(),
            )
    except av.error.FFmpegError as error:
        raise _unreadable(path, error) from error


def _first_decoded_frame(container: Any, stream: Any, path: Path) -> Any:
    # Decoding one frame proves the codec really works, not just that a header parses.
    for frame in container.decode(stream):
        return frame
    raise AudioError(f"cannot read {path.name}: it holds no audio", UNREADABLE_HINT)


def _pyav_duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000  # AV_TIME_BASE
    return 0.0


def _soundfile_blocks(
    path: Path, start: float, end: float | None, samplerate: int | None, block_s: float
) -> AudioBlocks | None:
    """Blocks at the file's own rate through libsndfile, or None when it cannot (or need not)
    read the file: then PyAV decides."""
    import soundfile

    try:
        handle = soundfile.SoundFile(str(path))
    except Exception:  # not for libsndfile (or damaged)
        return None
    try:
        rate = int(handle.samplerate)
        if samplerate is not None and samplerate != rate:
            handle.close()
            return None  # resampling is PyAV's job
        first = min(round(start * rate), handle.frames)
        last = handle.frames if end is None else min(round(end * rate), handle.frames)
        handle.seek(first)
    except Exception:
        handle.close()
        return None
    frames = max(0, last - first)
    pieces = _soundfile_pieces(handle, path, frames, max(1, round(block_s * rate)))
    return AudioBlocks(rate, int(handle.channels), pieces, closer=handle.close)


def _soundfile_pieces(handle: Any, path: Path, frames: int, block: int) -> Iterator[np.ndarray]:
    with handle:
        while frames > 0:
            try:
                data = handle.read(min(block, frames), dtype="float32", always_2d=True)
            except Exception as error:  # damaged part-way
                raise _unreadable(path, error) from error
            if len(data) == 0:
                return
            frames -= len(data)
            yield data


def _pyav_blocks(
    path: Path, start: float, end: float | None, samplerate: int | None, block_s: float
) -> AudioBlocks:
    av = _import_av()
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise _unreadable(path, error) from error
    try:
        stream = _audio_stream(container, path)
        rate = int(samplerate or stream.rate)
        channels = int(stream.layout.nb_channels)
        if start > 0 and stream.time_base is not None:
            container.seek(int(start / stream.time_base), stream=stream)
    except BaseException as error:
        container.close()
        if isinstance(error, av.error.FFmpegError):
            raise _unreadable(path, error) from error
        raise
    decoded = _pyav_pieces(container, stream, path, rate, start, end)
    block = max(1, round(block_s * rate))
    return AudioBlocks(rate, channels, rebatched(decoded, block), closer=container.close)


def _pyav_pieces(
    container: Any, stream: Any, path: Path, rate: int, start: float, end: float | None
) -> Iterator[np.ndarray]:
    """Decoded, resampled audio from `start` (the seek lands on the packet before it) to `end`."""
    av = _import_av()
    resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=rate)
    skip: int | None = None  # frames before `start` in what the seek landed on
    left = None if end is None else max(0, round((end - start) * rate))
    with container:
        try:
            for frame in container.decode(stream):
                if skip is None:
                    first_time = float(frame.time) if frame.time is not None else 0.0
                    skip = max(0, round((start - first_time) * rate))
                for out in resampler.resample(frame):
                    samples, skip, left = _trimmed(_planar_to_frames(out), skip, left)
                    if len(samples):
                        yield samples
                if left == 0:
                    return
            for out in resampler.resample(None):
                samples, skip, left = _trimmed(_planar_to_frames(out), skip or 0, left)
                if len(samples):
                    yield samples
        except av.error.FFmpegError as error:
            raise _unreadable(path, error) from error


def _trimmed(
    samples: np.ndarray, skip: int, left: int | None
) -> tuple[np.ndarray, int, int | None]:
    """Drop `skip` frames from the front and keep at most `left`; returns what is still to skip
    and to keep."""
    dropped = min(skip, len(samples))
    samples = samples[dropped:]
    if left is not None:
        samples = samples[:left]
        left -= len(samples)
    return samples, skip - dropped, left


def rebatched(pieces: Iterator[np.ndarray], block: int) -> Iterator[np.ndarray]:
    """Join small pieces (decoder frames, encrypted chunks) into blocks of `block` frames (the
    last may be shorter). Closing it closes the source."""
    pending: list[np.ndarray] = []
    count = 0
    try:
        for piece in pieces:
            pending.append(piece)
            count += len(piece)
            if count >= block:
                yield np.concatenate(pending) if len(pending) > 1 else pending[0]
                pending, count = [], 0
        if pending:
            yield np.concatenate(pending) if len(pending) > 1 else pending[0]
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


def resampled(pieces: Iterator[np.ndarray], rate: int, to_rate: int) -> Iterator[np.ndarray]:
    """float32 (frames, channels) pieces at `rate`, resampled to `to_rate` in memory (one PyAV
    resampler per channel, so any channel count works). Closing it closes the source."""
    av = _import_av()
    resamplers: list[Any] = []
    try:
        for piece in pieces:
            if not resamplers:
                resamplers = [
                    av.AudioResampler(format="fltp", layout="mono", rate=to_rate)
                    for _ in range(piece.shape[1])
                ]
            out = _resample_piece(av, resamplers, piece, rate)
            if len(out):
                yield out
        if resamplers:
            out = _resample_piece(av, resamplers, None, rate)
            if len(out):
                yield out
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


def _resample_piece(av: Any, resamplers: list[Any], piece: np.ndarray | None, rate: int) -> Any:
    columns = []
    for channel, resampler in enumerate(resamplers):
        frame = None
        if piece is not None:
            samples = np.ascontiguousarray(piece[:, channel], dtype=np.float32).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = rate
        outs = [o.to_ndarray().reshape(-1) for o in resampler.resample(frame)]
        columns.append(np.concatenate(outs) if outs else np.zeros(0, dtype=np.float32))
    length = min(len(column) for column in columns)
    return np.ascontiguousarray(np.stack([c[:length] for c in columns], axis=1), np.float32)


def _planar_to_frames(frame: Any) -> np.ndarray:
    return np.ascontiguousarray(frame.to_ndarray().T, dtype=np.float32)


def _audio_stream(container: Any, path: Path) -> Any:
    if not container.streams.audio:
        raise AudioError(f"cannot read {path.name}: it has no audio stream", UNREADABLE_HINT)
    return container.streams.audio[0]


def _unreadable(path: Path, error: Exception) -> AudioError:
    reason = getattr(error, "strerror", None) or str(error)
    return AudioError(f"cannot read {path.name}: {reason}", UNREADABLE_HINT)


def _import_av() -> Any:
    try:
        import av
    except ImportError as error:  # PyAV comes with faster-whisper; missing means a broken install
        raise AudioError(
            "cannot read this audio format: PyAV is not installed", "pip install av"
        ) from error
    return av
