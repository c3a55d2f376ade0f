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


def read_audio(
    path: Path, start: float = 0.0, end: float | None = None, samplerate: int | None = None
) -> tuple[np.ndarray, int]:
    """Samples between `start` and `end` seconds as float32 (frames, channels), and their rate.

    With `samplerate`, the audio is resampled to it.
    """
    path = Path(path)
    _require_nonempty_file(path)
    start = max(0.0, float(start))
    if end is not None and end <= start:
        info = inspect_audio(path)
        return np.zeros((0, info.channels), dtype=np.float32), samplerate or info.samplerate
    native = _read_with_soundfile(path, start, end, samplerate)
    if native is not None:
        return native
    return _read_with_pyav(path, start, end, samplerate)


def iter_audio_blocks(path: Path, samplerate: int) -> Iterator[np.ndarray]:
    """Decode a file as float32 (frames, source channels) blocks at `samplerate`, streaming."""
    path = Path(path)
    _require_nonempty_file(path)
    av = _import_av()
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise _unreadable(path, error) from error
    with container:
        stream = _audio_stream(container, path)
        resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=samplerate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield _planar_to_frames(out)
            for out in resampler.resample(None):
                yield _planar_to_frames(out)
        except av.error.FFmpegError as error:
            raise _unreadable(path, error) from error


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


def _read_with_soundfile(
    path: Path, start: float, end: float | None, samplerate: int | None
) -> tuple[np.ndarray, int] | None:
    """The range at the file's own rate, or None when libsndfile cannot (or need not) do it."""
    import soundfile

    try:
        with soundfile.SoundFile(str(path)) as handle:
            rate = int(handle.samplerate)
            if samplerate is not None and samplerate != rate:
                return None  # resampling is PyAV's job
            first = min(round(start * rate), handle.frames)
            last = handle.frames if end is None else min(round(end * rate), handle.frames)
            handle.seek(first)
            data = handle.read(max(0, last - first), dtype="float32", always_2d=True)
            return data, rate
    except Exception:  # not for libsndfile (or damaged): PyAV decides
        return None


def _read_with_pyav(
    path: Path, start: float, end: float | None, samplerate: int | None
) -> tuple[np.ndarray, int]:
    av = _import_av()
    try:
        with av.open(str(path)) as container:
            stream = _audio_stream(container, path)
            rate = int(samplerate or stream.rate)
            if start > 0 and stream.time_base is not None:
                container.seek(int(start / stream.time_base), stream=stream)
            data = _decode_range(container, stream, rate, start, end)
            return data, rate
    except av.error.FFmpegError as error:
        raise _unreadable(path, error) from error


def _decode_range(
    container: Any, stream: Any, rate: int, start: float, end: float | None
) -> np.ndarray:
    av = _import_av()
    resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=rate)
    blocks: list[np.ndarray] = []
    first_time: float | None = None
    for frame in container.decode(stream):
        if first_time is None:
            first_time = float(frame.time) if frame.time is not None else 0.0
        blocks.extend(_planar_to_frames(out) for out in resampler.resample(frame))
        decoded_until = first_time + sum(len(b) for b in blocks) / rate
        if end is not None and decoded_until >= end:
            break
    blocks.extend(_planar_to_frames(out) for out in resampler.resample(None))
    channels = stream.layout.nb_channels
    if not blocks:
        return np.zeros((0, channels), dtype=np.float32)
    data = np.concatenate(blocks)
    offset = round((start - (first_time or 0.0)) * rate)
    data = data[max(0, offset) :]
    if end is not None:
        data = data[: max(0, round((end - start) * rate))]
    return np.ascontiguousarray(data, dtype=np.float32)


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
