"""Reading audio files: libsndfile (soundfile) for WAV/FLAC/OGG/MP3, PyAV (FFmpeg) for M4A/AAC and
anything else. PyAV also does resampling, so no extra dependency is needed for that."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fieldkit.errors import AudioError

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


def inspect_audio(path: Path) -> AudioInfo:
    """What is in an audio file; AudioError when it is missing, empty, unreadable or unsupported."""
    path = Path(path)
    _require_nonempty_file(path)
    info = _inspect_with_soundfile(path) or _inspect_with_pyav(path)
    if info.frames <= 0 or info.samplerate <= 0 or info.channels <= 0:
        raise AudioError(f"cannot read {path.name}: it holds no audio", UNREADABLE_HINT)
    return info


BLOCK_S = 10.0  # what read_blocks hands over at a time: small next to any recording


def read_blocks(
    path: Path,
    start: float = 0.0,
    end: float | None = None,
    samplerate: int | None = None,
    block_s: float = BLOCK_S,
) -> AudioBlocks:
    """The one place a recording's samples are read: the audio between `start` and `end` seconds
    as float32 (frames, channels) blocks of about `block_s`, streamed from disk, so that memory
    does not grow with the recording. With `samplerate`, the audio is resampled to it.

    Every other reader here (read_audio, iter_audio_blocks) goes through this function: a reader
    for another kind of recording (an encrypted one, say) is plugged in here and nowhere else.
    Problems with the file raise AudioError, here or while iterating.
    """
    path = Path(path)
    _require_nonempty_file(path)
    start = max(0.0, float(start))
    block_s = max(0.01, float(block_s))
    blocks = _soundfile_blocks(path, start, end, samplerate, block_s)
    return blocks or _pyav_blocks(path, start, end, samplerate, block_s)


class AudioBlocks(Iterator[np.ndarray]):
    """An iterator of (frames, channels) float32 blocks that knows their rate and channel count.
    Use it in a `with` block (or iterate it to the end) so the file is closed."""

    def __init__(self, samplerate: int, channels: int, blocks: Iterator[np.ndarray]) -> None:
        self.samplerate = samplerate
        self.channels = channels
        self._blocks = blocks

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


def read_audio(
    path: Path, start: float = 0.0, end: float | None = None, samplerate: int | None = None
) -> tuple[np.ndarray, int]:
    """Samples between `start` and `end` seconds as float32 (frames, channels), and their rate.

    With `samplerate`, the audio is resampled to it. Holds the whole range in memory: for short
    ranges (playback); long ones are read block by block with read_blocks.
    """
    with read_blocks(path, start, end, samplerate) as blocks:
        parts = list(blocks)
        if not parts:
            return np.zeros((0, blocks.channels), dtype=np.float32), blocks.samplerate
        data = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return np.ascontiguousarray(data, dtype=np.float32), blocks.samplerate


def iter_audio_blocks(path: Path, samplerate: int) -> Iterator[np.ndarray]:
    """Decode a whole file as float32 (frames, source channels) blocks at `samplerate`, streaming
    in small blocks (a virtual microphone hands them on at their own pace)."""
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
    block = max(1, round(block_s * rate))
    blocks = _soundfile_generator(handle, path, max(0, last - first), block)
    return AudioBlocks(rate, int(handle.channels), blocks)


def _soundfile_generator(handle: Any, path: Path, frames: int, block: int) -> Iterator[np.ndarray]:
    with handle:
        while frames > 0:
            try:
                data = handle.read(min(block, frames), dtype="float32", always_2d=True)
            except Exception as error:  # damaged mid-way
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
    except av.error.FFmpegError as error:
        container.close()
        raise _unreadable(path, error) from error
    except Exception:
        container.close()
        raise
    frames = _pyav_frames(container, stream, path, rate, start, end)
    return AudioBlocks(rate, channels, _rebatched(frames, max(1, round(block_s * rate))))


def _pyav_frames(
    container: Any, stream: Any, path: Path, rate: int, start: float, end: float | None
) -> Iterator[np.ndarray]:
    """Decoded and resampled audio from `start` (after a seek to the packet before it) to `end`."""
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


def _rebatched(pieces: Iterator[np.ndarray], block: int) -> Iterator[np.ndarray]:
    """Join a decoder's small frames into blocks of `block` frames (the last may be shorter)."""
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
