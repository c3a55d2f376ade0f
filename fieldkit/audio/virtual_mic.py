"""The virtual microphone (`--input FILE`): an audio file delivered block by block in real time,
through the same callback a PortAudio input stream calls, so meters, pause and crash safety behave
exactly as with a real microphone on a machine that has none."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from fieldkit.audio.reader import inspect_audio, iter_audio_blocks, remix

# Same shape as a sounddevice input callback: (indata, frames, time_info, status).
InputCallback = Callable[[np.ndarray, int, Any, Any], None]


class _NoProblems:
    """Stands in for sounddevice.CallbackFlags: a file never overflows."""

    input_overflow = False
    input_underflow = False

    def __bool__(self) -> bool:
        return False


class VirtualMicrophone:
    """Plays `path` as int16 (blocksize, channels) blocks at `samplerate`, paced by the clock."""

    def __init__(
        self,
        path: Path,
        samplerate: int,
        channels: int,
        blocksize: int,
        callback: InputCallback,
        speed: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self.info = inspect_audio(self.path)  # fail now, with a clear message, not mid-recording
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.blocksize = int(blocksize)
        self._callback = callback
        self.speed = max(1e-3, float(speed))  # 1: real time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ended = False  # the whole file was delivered
        self.error: Exception | None = None

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fieldkit-virtual-mic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def close(self) -> None:
        self.stop()

    def _run(self) -> None:
        status = _NoProblems()
        started = time.monotonic()
        delivered = 0
        try:
            for block in self._blocks():
                delivered += len(block)
                # A real microphone hands a block over once it has been spoken: wait until then.
                spoken_by = started + delivered / self.samplerate / self.speed
                if self._stop.wait(max(0.0, spoken_by - time.monotonic())):
                    return
                self._callback(block, len(block), None, status)
        except (
            Exception
        ) as error:  # a file that breaks mid-way ends the input; the recorder says so
            self.error = error
        self.ended = True

    def _blocks(self) -> Iterator[np.ndarray]:
        """Fixed-size int16 blocks (the last one may be shorter)."""
        pending: list[np.ndarray] = []
        pending_frames = 0
        for decoded in iter_audio_blocks(self.path, self.samplerate):
            pending.append(remix(decoded, self.channels))
            pending_frames += len(decoded)
            while pending_frames >= self.blocksize:
                joined = np.concatenate(pending)
                yield _to_int16(joined[: self.blocksize])
                rest = joined[self.blocksize :]
                pending, pending_frames = [rest], len(rest)
        if pending_frames:
            yield _to_int16(np.concatenate(pending))


def _to_int16(block: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.clip(block * 32768.0, -32768, 32767).astype(np.int16))
