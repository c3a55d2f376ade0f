"""Playing audio held in memory through the default output device, at a chosen speed.

A `Playback` reads its audio from a source in chunks (nothing is written to disk), stretches it
to the speed in a small feeder thread, and hands it to PortAudio's callback through a short
queue. It can seek and change speed while it plays, and `position` says which moment of the
audio is being heard, so a screen can follow the words.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Protocol

import numpy as np

from fieldkit.audio.devices import load_sounddevice
from fieldkit.audio.reader import remix
from fieldkit.audio.tempo import Tempo
from fieldkit.errors import AudioError, FieldkitError

NO_OUTPUT_HINT = (
    "connect headphones or speakers (and check that the sound server is running); "
    "the transcript can still be reviewed without sound"
)
CHUNK_S = 15.0  # read this much of the source at a time: memory stays small on long recordings
BLOCK_S = 0.05  # stretch this much at a time
AHEAD_S = 0.4  # keep this much audio ready for the output callback


class AudioSource(Protocol):
    """Where a Playback reads from: float32 (frames, channels) samples of [start, end) seconds."""

    @property
    def samplerate(self) -> int: ...

    @property
    def channels(self) -> int: ...

    @property
    def duration(self) -> float: ...

    def read(self, start: float, end: float) -> np.ndarray: ...


class ArraySource:
    """Samples already in memory as a source."""

    def __init__(self, samples: np.ndarray, samplerate: int) -> None:
        self.samples = np.asarray(samples, dtype=np.float32).reshape(len(samples), -1)
        self.samplerate = samplerate
        self.channels = int(self.samples.shape[1])
        self.duration = len(self.samples) / samplerate

    def read(self, start: float, end: float) -> np.ndarray:
        first = max(0, round(start * self.samplerate))
        return self.samples[first : max(first, round(end * self.samplerate))]


class Playback:
    """Audio being played from `start` to `end` seconds of its source; stop() ends it.

    Threads: PortAudio's callback only copies from the queue; the feeder thread reads, remixes
    and stretches; callers seek, change speed and read `position` from any thread."""

    def __init__(
        self,
        source: AudioSource,
        start: float,
        end: float | None = None,
        speed: float = 1.0,
        sd: Any = None,
    ) -> None:
        self._sd = sd or load_sounddevice()
        device, max_channels = _default_output(self._sd)
        self.source = source
        self.samplerate = source.samplerate
        self.channels = max(1, min(source.channels, max_channels, 2))
        self.end = source.duration if end is None else min(end, source.duration)
        if start >= self.end:
            raise AudioError(
                f"nothing to play: {start:.1f} s is past the end of the audio ({self.end:.1f} s)",
                "choose a moment inside the recording",
            )
        self._lock = threading.Condition()
        self._done = threading.Event()
        self._stopping = False
        self.error: FieldkitError | None = None
        self._chunk_first = 0
        self._chunk = np.zeros((0, self.channels), dtype=np.float32)
        self._generation = 0
        first = round(max(0.0, start) * self.samplerate)
        self._load_chunk(first)  # in the caller's thread: an unreadable file fails here
        if not len(self._chunk):
            raise AudioError(
                f"nothing to play: no audio at {start:.1f} s",
                "choose a moment inside the recording",
            )
        self._restart(max(0.0, start), speed)
        self._feeder = threading.Thread(target=self._feed, name="fieldkit-playback", daemon=True)
        self._feeder.start()
        try:
            self._stream = self._sd.OutputStream(
                device=device,
                samplerate=self.samplerate,
                channels=self.channels,
                dtype="float32",
                latency="high",  # smooth rather than snappy
                callback=self._fill,
                finished_callback=self._done.set,
            )
            self._stream.start()
        except self._sd.PortAudioError as error:
            self._halt_feeder()
            raise AudioError(
                f"cannot play on the audio output device: {error}", NO_OUTPUT_HINT
            ) from error

    # -- what callers use -------------------------------------------------------------------
    @property
    def active(self) -> bool:
        if self._done.is_set():
            return False
        try:
            return bool(self._stream.active)
        except self._sd.PortAudioError:
            return False

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def position(self) -> float:
        """Seconds into the source of what is being heard now (the output's latency allowed for)."""
        if self._done.is_set() and self._source_done and not self._queue:
            return self.end if self.error is None else self._anchor
        with self._lock:
            played = self._anchor + self._consumed * self._speed / self.samplerate
            latency = self._latency() * self._speed if self._consumed else 0.0
            return min(self.end, max(self._anchor, played - latency))

    def seek(self, at: float) -> None:
        """Go on playing from `at` seconds (within the source)."""
        with self._lock:
            self._restart(min(max(0.0, at), max(0.0, self.end - BLOCK_S)), self._speed)
            self._lock.notify_all()

    def set_speed(self, speed: float) -> None:
        """Play faster or slower from what is heard now; the pitch stays."""
        at = self.position
        with self._lock:
            self._restart(at, speed)
            self._lock.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the audio has played (True) or `timeout` passed (False)."""
        return self._done.wait(timeout)

    def stop(self) -> None:
        self._halt_feeder()
        if self._feeder is not threading.current_thread():
            self._feeder.join(timeout=1.0)
        try:
            self._stream.abort()
            self._stream.close()
        except self._sd.PortAudioError:
            pass
        self._done.set()

    # -- inside -----------------------------------------------------------------------------
    def _restart(self, at: float, speed: float) -> None:
        """Drop what is queued and start reading at `at` (call with the lock held)."""
        self._speed = speed
        self._tempo = Tempo(speed, self.samplerate, self.channels)
        self._generation += 1
        self._queue: deque[np.ndarray] = deque()
        self._queued = 0
        self._offset = 0  # frames already taken from the queue's first block
        self._read_frame = round(at * self.samplerate)
        self._anchor = self._read_frame / self.samplerate  # where the played frames start
        self._consumed = 0
        self._source_done = False

    def _latency(self) -> float:
        try:
            return float(self._stream.latency)
        except (AttributeError, self._sd.PortAudioError):
            return 0.0

    def _load_chunk(self, first: int) -> None:
        rate = self.samplerate
        samples = self.source.read(first / rate, min(self.end, first / rate + CHUNK_S))
        if samples.ndim == 1:
            samples = samples.reshape(-1, 1)
        self._chunk = np.ascontiguousarray(remix(samples, self.channels), dtype=np.float32)
        self._chunk_first = first

    def _block(self, first: int, last: int) -> np.ndarray:
        """Source frames [first, last), from the chunk in memory (reading the next when needed)."""
        inside = self._chunk_first <= first and last <= self._chunk_first + len(self._chunk)
        if not inside or not len(self._chunk):
            self._load_chunk(first)
        return self._chunk[first - self._chunk_first : max(0, last - self._chunk_first)]

    def _feed(self) -> None:
        ahead = round(AHEAD_S * self.samplerate)
        step = max(1, round(BLOCK_S * self.samplerate))
        last_frame = round(self.end * self.samplerate)
        while True:
            with self._lock:
                while not self._stopping and (self._queued >= ahead or self._source_done):
                    self._lock.wait(0.1)
                if self._stopping:
                    return
                generation, first, tempo = self._generation, self._read_frame, self._tempo
            last = min(last_frame, first + step)
            block = np.zeros((0, self.channels), dtype=np.float32)
            try:
                block = self._block(first, last) if last > first else block
                out = tempo.process(block) if len(block) else tempo.flush()
            except FieldkitError as error:  # the recording became unreadable mid-way
                self.error = error
                out = np.zeros((0, self.channels), dtype=np.float32)
            finished = last >= last_frame or len(block) < last - first
            with self._lock:
                if generation != self._generation:
                    continue  # a seek or a speed change came in meanwhile
                if finished and len(block):
                    out = np.concatenate([out, tempo.flush()])
                if len(out):
                    self._queue.append(out)
                    self._queued += len(out)
                self._read_frame = first + len(block)
                self._source_done = finished

    def _fill(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        written = 0
        with self._lock:
            while written < frames and self._queue:
                head = self._queue[0]
                take = min(frames - written, len(head) - self._offset)
                outdata[written : written + take] = head[self._offset : self._offset + take]
                written += take
                self._offset += take
                if self._offset >= len(head):
                    self._queue.popleft()
                    self._offset = 0
            self._queued -= written
            self._consumed += written
            finished = self._source_done and not self._queue
            self._lock.notify_all()
        if written < frames:
            outdata[written:] = 0  # not ready yet (a seek): silence, and the clock waits too
        if finished:
            raise self._sd.CallbackStop

    def _halt_feeder(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()


def _default_output(sd: Any) -> tuple[int, int]:
    try:
        info = sd.query_devices(kind="output")
    except (sd.PortAudioError, ValueError) as error:
        raise AudioError("no audio output device found", NO_OUTPUT_HINT) from error
    if not info or int(info["max_output_channels"]) < 1:
        raise AudioError("no audio output device found", NO_OUTPUT_HINT)
    return int(info["index"]), int(info["max_output_channels"])
