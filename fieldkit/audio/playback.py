"""Playing a time range of a recording through the default output device (review needs it)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from fieldkit.audio.devices import load_sounddevice
from fieldkit.audio.reader import read_audio, remix
from fieldkit.errors import AudioError

NO_OUTPUT_HINT = (
    "connect headphones or speakers (and check that the sound server is running); "
    "the transcript can still be reviewed without sound"
)


class Playback:
    """A range being played; stop() ends it early. Playing happens on PortAudio's thread."""

    def __init__(self, samples: np.ndarray, samplerate: int, device: int, sd: Any) -> None:
        self._samples = samples
        self._position = 0
        self._done = threading.Event()
        self._sd = sd
        self._stream = sd.OutputStream(
            device=device,
            samplerate=samplerate,
            channels=samples.shape[1],
            dtype="float32",
            latency="high",  # smooth rather than snappy: nothing here is interactive
            callback=self._fill,
            finished_callback=self._done.set,
        )
        self._stream.start()

    @property
    def active(self) -> bool:
        if self._done.is_set():
            return False
        try:
            return bool(self._stream.active)
        except self._sd.PortAudioError:
            return False

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the range has played (True) or `timeout` passed (False)."""
        return self._done.wait(timeout)

    def stop(self) -> None:
        try:
            self._stream.abort()
            self._stream.close()
        except self._sd.PortAudioError:
            pass
        self._done.set()

    def _fill(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        chunk = self._samples[self._position : self._position + frames]
        self._position += len(chunk)
        outdata[: len(chunk)] = chunk
        if len(chunk) < frames:
            outdata[len(chunk) :] = 0
            raise self._sd.CallbackStop


def play_range(path: Path, start: float, end: float, pad: float = 2.0) -> Playback:
    """Play `start`..`end` seconds of `path` with `pad` seconds of context either side."""
    sd = load_sounddevice()
    device, max_channels = _default_output(sd)
    samples, rate = read_audio(Path(path), max(0.0, start - pad), end + pad)
    if len(samples) == 0:
        raise AudioError(
            f"nothing to play: {start:.1f}-{end:.1f} s is outside {Path(path).name}",
            "choose a range inside the recording",
        )
    channels = min(samples.shape[1], max_channels)
    samples = np.ascontiguousarray(remix(samples, channels), dtype=np.float32)
    try:
        return Playback(samples, rate, device, sd)
    except sd.PortAudioError as error:
        raise AudioError(
            f"cannot play on the audio output device: {error}", NO_OUTPUT_HINT
        ) from error


def _default_output(sd: Any) -> tuple[int, int]:
    try:
        info = sd.query_devices(kind="output")
    except (sd.PortAudioError, ValueError) as error:
        raise AudioError("no audio output device found", NO_OUTPUT_HINT) from error
    if not info or int(info["max_output_channels"]) < 1:
        raise AudioError("no audio output device found", NO_OUTPUT_HINT)
    return int(info["index"]), int(info["max_output_channels"])
