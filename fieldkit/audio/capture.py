"""Recording: an input (PortAudio device or virtual microphone) → a queue → one writer thread.

The input callback only copies the block into a queue: it never blocks and never does I/O, so a slow
disk or a busy CPU cannot make PortAudio drop input. The writer thread writes the recording file
(crash-safe WAV, or the encrypted stream in an encrypted study: see recording_files), computes
levels, hands blocks to `on_audio` (through its own thread) and watches for the reasons to stop on
its own: duration reached, disk below the margin, device lost, end of a virtual input, cancel.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from fieldkit.audio.devices import load_sounddevice, native_stderr_silenced, resolve_input_device
from fieldkit.audio.recording_files import PLAIN_WAV, RecordingFormat, RecordingWriter
from fieldkit.errors import AudioError, DiskSpaceError

log = logging.getLogger(__name__)

RecorderState = Literal["idle", "recording", "paused", "stopped"]
StopReason = Literal[
    "requested", "duration", "disk", "write-error", "device-lost", "end-of-input", "withdrawn"
]

SILENCE_DBFS = -50.0  # quieter than this counts as silence (a live mic in a quiet room is ~-60)
CLIP_LEVEL = 0.999  # |sample| at full scale
LEVEL_INTERVAL_S = 0.1  # on_level at most ~10/s
DISK_CHECK_INTERVAL_S = 1.0
DISK_LOOKAHEAD_S = 2.0  # stop while there is still room for what arrives before the next check
STALL_TIMEOUT_S = 10.0  # no audio at all for this long → the device is gone
_MIN_DBFS = -120.0
_STOP = object()  # sentinel that ends the writer loop


@dataclass(frozen=True)
class CaptureSettings:
    samplerate: int = 16000
    channels: int = 1
    device: str | int | None = None
    input_file: Path | None = None
    block_seconds: float = 0.1
    disk_margin_bytes: int = 200 * 1024 * 1024
    # A virtual microphone plays its file this many times faster than real time (benchmarks
    # and tests of long interviews; a user's recording is always real time).
    input_speed: float = 1.0


@dataclass(frozen=True)
class LevelReading:
    at: float  # recording time (s, pauses excluded)
    rms_dbfs: tuple[float, ...]
    peak: tuple[float, ...]  # 0..1
    clipping: tuple[bool, ...]
    silent_for: tuple[float, ...]  # seconds each channel has been below SILENCE_DBFS


@dataclass(frozen=True)
class RecordingResult:
    path: Path
    frames: int
    samplerate: int
    channels: int
    duration_s: float
    stop_reason: str
    message: str = ""


@dataclass
class CaptureStats:
    """How well capture kept up (the benchmark reports these)."""

    callbacks: int = 0
    max_callback_gap_s: float = 0.0
    input_overflows: int = 0
    on_audio_dropped: int = 0
    _last_callback: float | None = field(default=None, repr=False)


class _Source(Protocol):
    @property
    def active(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class _Block:
    samples: np.ndarray  # int16 (frames, channels)
    paused: bool


class Recorder:
    """One recording into one new file (in `file_format`: plain WAV unless the study is
    encrypted). start → (pause/resume)* → stop (or wait)."""

    def __init__(
        self,
        path: Path,
        settings: CaptureSettings,
        on_level: Callable[[LevelReading], None] | None = None,
        on_audio: Callable[[np.ndarray, float], None] | None = None,
        cancel: threading.Event | None = None,
        on_stop: Callable[[RecordingResult], None] | None = None,
        file_format: RecordingFormat = PLAIN_WAV,
    ) -> None:
        _validate(settings)
        self.path = Path(path)
        self.settings = settings
        self.file_format = file_format
        self.stats = CaptureStats()
        self._on_level = on_level
        self._on_stop = on_stop
        self._cancel = cancel or threading.Event()
        self._blocksize = max(1, round(settings.samplerate * settings.block_seconds))
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._state: RecorderState = "idle"
        self._paused = False  # read by the input callback: tags each block at capture time
        self._stop_reason: str | None = None
        self._message = ""
        self._say_kept = False  # the stop message ends with how much audio is kept
        self._frame_limit: int | None = None
        self._finished = threading.Event()
        self._result: RecordingResult | None = None
        self._source: _Source | None = None
        self._writer: RecordingWriter | None = None
        self._writer_thread: threading.Thread | None = None
        self._levels = _LevelMeter(settings.channels, settings.samplerate)
        self._handoff = _AudioHandoff(on_audio, self.stats) if on_audio else None
        self._last_audio_at = time.monotonic()

    # -- public API -------------------------------------------------------------------------

    @property
    def state(self) -> RecorderState:
        return self._state

    @property
    def recorded_seconds(self) -> float:
        frames = self._writer.frames if self._writer else 0
        return frames / self.settings.samplerate

    @property
    def result(self) -> RecordingResult | None:
        """The result once stopped (also after an automatic stop), else None."""
        return self._result

    def start(self) -> None:
        if self._state != "idle":
            raise AudioError("this recording was already started", "start a new recording")
        self._check_disk_before_start()
        source = self._open_source()
        try:
            self._writer = self.file_format.open_writer(
                self.path, self.settings.samplerate, self.settings.channels
            )
        except BaseException:
            source.close()
            raise
        self._source = source
        self._state = "recording"
        self._writer_thread = threading.Thread(
            target=self._write_loop, name="fieldkit-recorder", daemon=True
        )
        self._writer_thread.start()
        try:
            source.start()
        except Exception as error:
            self._abort_start()
            raise AudioError(
                f"cannot start recording from the input device: {error}",
                "it may be in use by another program or unplugged; see `fieldkit devices`",
            ) from error

    def pause(self) -> None:
        with self._lock:
            if self._state == "paused":
                return
            if self._state != "recording":
                raise AudioError(f"cannot pause: the recorder is {self._state}", "start it first")
            self._paused = True
            self._state = "paused"

    def resume(self) -> None:
        with self._lock:
            if self._state == "recording":
                return
            if self._state != "paused":
                raise AudioError(f"cannot resume: the recorder is {self._state}", "start it first")
            self._paused = False
            self._state = "recording"

    def stop(self) -> RecordingResult:
        """Stop and close the file (idempotent). Everything captured before the call is kept."""
        if self._state == "idle":
            raise AudioError("cannot stop: the recording was never started", "start it first")
        if threading.current_thread() is self._writer_thread:
            # on_level runs on the writer thread, which cannot wait for itself.
            raise RuntimeError("call Recorder.stop() from another thread than on_level's")
        if self._claim_stop("requested", ""):
            self._halt_input()
        assert self._writer_thread is not None
        self._writer_thread.join()
        assert self._result is not None
        return self._result

    def interrupt(self, reason: str, message: str) -> None:
        """Stop on behalf of someone else (any thread): e.g. consent was withdrawn. Audio that
        arrives after this call is not recorded; the message says how much was kept."""
        self._trip(reason, message, say_kept=True)

    def wait(self, seconds: float | None = None) -> RecordingResult:
        """Block until `seconds` of audio are recorded (pauses excluded) or another stop reason.

        Whatever ends the wait — including KeyboardInterrupt — the file is closed complete.
        """
        if seconds is not None:
            self._frame_limit = max(0, round(seconds * self.settings.samplerate))
        try:
            while not self._finished.wait(0.1):
                if self._cancel.is_set():
                    break
        finally:
            result = self.stop()
        return result

    # -- the input side (PortAudio thread / virtual mic thread) ---------------------------------

    def _input_callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # Runs in the audio thread: copy, count, enqueue. Nothing here may block or touch disk.
        now = time.perf_counter()
        stats = self.stats
        if stats._last_callback is not None:
            gap = now - stats._last_callback
            if gap > stats.max_callback_gap_s:
                stats.max_callback_gap_s = gap
        stats._last_callback = now
        stats.callbacks += 1
        if status and status.input_overflow:
            stats.input_overflows += 1
        self._queue.put(_Block(indata.copy(), self._paused))

    def _open_source(self) -> _Source:
        if self.settings.input_file is not None:
            from fieldkit.audio.virtual_mic import VirtualMicrophone

            return VirtualMicrophone(
                self.settings.input_file,
                self.settings.samplerate,
                self.settings.channels,
                self._blocksize,
                self._input_callback,
                speed=self.settings.input_speed,
            )
        return _PortAudioSource.open(self.settings, self._blocksize, self._input_callback)

    def _halt_input(self) -> None:
        # Stop the input first (after stop() returns no more callbacks come), then end the queue.
        if self._source is not None:
            with contextlib.suppress(Exception):
                self._source.stop()
        self._queue.put(_STOP)

    def _abort_start(self) -> None:
        self._claim_stop("requested", "the input could not be started")
        self._halt_input()
        if self._writer_thread is not None:
            self._writer_thread.join()
        if self._writer is not None and self._writer.frames == 0:
            self.path.unlink(missing_ok=True)  # an empty file would only look like a lost interview

    def _claim_stop(self, reason: str, message: str, say_kept: bool = False) -> bool:
        """The first reason to stop wins; later ones are ignored."""
        with self._lock:
            if self._stop_reason is not None:
                return False
            self._stop_reason = reason
            self._message = message
            self._say_kept = say_kept
            return True

    # -- the writer thread ------------------------------------------------------------------------

    def _write_loop(self) -> None:
        next_disk_check = 0.0
        try:
            while True:
                try:
                    item = self._queue.get(timeout=0.1)
                except queue.Empty:
                    item = None
                if item is _STOP:
                    break
                if item is not None:
                    self._handle_block(item)
                self._sync_if_due()
                now = time.monotonic()
                if now >= next_disk_check:
                    next_disk_check = now + DISK_CHECK_INTERVAL_S
                    self._check_disk_while_recording()
                self._check_input(now)
        finally:
            self._finish()

    def _handle_block(self, block: _Block) -> None:
        self._last_audio_at = time.monotonic()
        samples = block.samples
        at = self.recorded_seconds
        self._emit_levels(samples, at)
        if block.paused or self._stop_reason not in (None, "requested"):
            # Audio while paused is not recorded, nor what arrives after a stop of its own
            # (time limit, full disk, consent withdrawn). A requested stop keeps what came first.
            return
        samples = self._trim_to_limit(samples)
        if len(samples) == 0:
            return
        assert self._writer is not None
        try:
            self._writer.write(samples)
        except DiskSpaceError:
            self._trip("disk", "recording stopped because the disk is full", say_kept=True)
            return
        except Exception as error:  # never let the writer thread die with a traceback
            reason = error.message if isinstance(error, AudioError) else str(error)
            self._trip("write-error", f"recording stopped: {reason}", say_kept=True)
            return
        if self._handoff is not None:
            self._handoff.offer(samples, at)
        if self._frame_limit is not None and self._writer.frames >= self._frame_limit:
            self._trip("duration", "")

    def _sync_if_due(self) -> None:
        """Audio written before a pause (or a silent device) reaches the disk within ~2 s too."""
        if self._writer is None or self._stop_reason not in (None, "requested"):
            return
        try:
            self._writer.sync_if_due()
        except Exception as error:  # a disk that refuses fsync refuses the next write too
            reason = error.message if isinstance(error, AudioError) else str(error)
            self._trip("write-error", f"recording stopped: {reason}", say_kept=True)

    def _trim_to_limit(self, samples: np.ndarray) -> np.ndarray:
        if self._frame_limit is None or self._writer is None:
            return samples
        return samples[: max(0, self._frame_limit - self._writer.frames)]

    def _emit_levels(self, samples: np.ndarray, at: float) -> None:
        reading = self._levels.add(samples, at)
        if reading is not None and self._on_level is not None:
            try:
                self._on_level(reading)
            except Exception:  # a broken meter must never stop a recording
                log.exception("on_level callback failed")

    def _check_input(self, now: float) -> None:
        if self._stop_reason is not None:
            return
        if self._cancel.is_set():
            self._trip("requested", "")
            return
        written = self._writer.frames if self._writer else 0
        if self._frame_limit is not None and written >= self._frame_limit:
            self._trip("duration", "")
            return
        source = self._source
        if source is None or not self._queue.empty():
            return
        if getattr(source, "ended", False):
            error = getattr(source, "error", None)
            message = f"the input file broke off: {error}" if error else ""
            self._trip("end-of-input", message)
        elif not source.active or now - self._last_audio_at > STALL_TIMEOUT_S:
            self._trip(
                "device-lost",
                "the input device stopped delivering audio (unplugged, or the sound server "
                "stopped)",
                say_kept=True,
            )

    def _check_disk_while_recording(self) -> None:
        if self._stop_reason is not None:
            return
        free = _free_bytes(self.path.parent)
        lookahead = self._bytes_per_second() * DISK_LOOKAHEAD_S
        if free - lookahead < self.settings.disk_margin_bytes:
            if free < lookahead:
                message = "recording stopped because the disk is full"
            else:
                message = (
                    f"recording stopped because the disk is nearly full ({_mb(free)} free, "
                    f"below the safety margin of {_mb(self.settings.disk_margin_bytes)})"
                )
            self._trip("disk", message, say_kept=True)

    def _trip(self, reason: str, message: str, say_kept: bool = False) -> None:
        """Stop on our own (from the writer thread), or for someone else (`interrupt`)."""
        if self._claim_stop(reason, message, say_kept):
            self._halt_input()

    def _finish(self) -> None:
        if self._source is not None:
            with contextlib.suppress(Exception):
                self._source.close()
        frames = 0
        if self._writer is not None:
            frames = self._close_writer(self._writer)
        if self._handoff is not None:
            self._handoff.close()
        rate = self.settings.samplerate
        message = self._message
        if self._say_kept:
            message += f"; everything recorded before it ({frames / rate:.1f} s) is kept"
        self._result = RecordingResult(
            path=self.path,
            frames=frames,
            samplerate=rate,
            channels=self.settings.channels,
            duration_s=frames / rate,
            stop_reason=self._stop_reason or "requested",
            message=message,
        )
        self._state = "stopped"
        self._finished.set()
        if self._on_stop is not None:
            try:
                self._on_stop(self._result)
            except Exception:
                log.exception("on_stop callback failed")

    def _close_writer(self, writer: RecordingWriter) -> int:
        """Close the file; returns the frames it holds (after a failed write — a full disk —
        the writer checks what really reached the file)."""
        frames = writer.frames
        try:
            writer.close()
        except Exception as error:  # what was written is on disk already (WAV header, chunks)
            log.warning("closing %s failed: %s", self.path.name, error)
        try:
            return writer.kept_frames()
        except (AudioError, OSError) as error:
            log.warning("checking %s after a failed write: %s", self.path.name, error)
            return frames

    # -- disk -------------------------------------------------------------------------------------

    def _bytes_per_second(self) -> int:
        return self.settings.samplerate * self.settings.channels * 2

    def _check_disk_before_start(self) -> None:
        folder = self.path.parent
        if not folder.is_dir():
            raise AudioError(
                f"cannot record into {folder}: no such folder", "check the study folder"
            )
        free = _free_bytes(folder)
        if free < self.settings.disk_margin_bytes + self._bytes_per_second() * DISK_LOOKAHEAD_S:
            raise DiskSpaceError(
                f"not enough free disk space to record: {_mb(free)} free, "
                f"the safety margin is {_mb(self.settings.disk_margin_bytes)}",
                "free some space on the disk (or move the study to a larger disk)",
            )


class _PortAudioSource:
    """A sounddevice InputStream with the errors users can cause turned into AudioError."""

    def __init__(self, stream: Any, sd: Any) -> None:
        self._stream = stream
        self._sd = sd

    @classmethod
    def open(
        cls, settings: CaptureSettings, blocksize: int, callback: Callable[..., None]
    ) -> _PortAudioSource:
        sd = load_sounddevice()
        device = resolve_input_device(settings.device)
        if settings.channels > device.max_channels:
            raise AudioError(
                f"{device.name} has {device.max_channels} input channel(s), "
                f"{settings.channels} requested",
                "record with --channels 1, or choose another device (see `fieldkit devices`)",
            )
        try:
            with native_stderr_silenced():  # ALSA/JACK print their own complaints on stderr
                stream = sd.InputStream(
                    device=device.index,
                    samplerate=settings.samplerate,
                    channels=settings.channels,
                    dtype="int16",
                    blocksize=blocksize,
                    latency="high",  # not interactive: big buffers survive a busy CPU
                    callback=callback,
                )
        except (sd.PortAudioError, ValueError) as error:
            raise AudioError(
                f"cannot open input device {device.name!r} at {settings.samplerate} Hz, "
                f"{settings.channels} channel(s): {error}",
                "it may be busy (close other programs using it), unplugged, or not support this "
                "sample rate (try 16000, 44100 or 48000); see `fieldkit devices`",
            ) from error
        return cls(stream, sd)

    @property
    def active(self) -> bool:
        try:
            return bool(self._stream.active)
        except self._sd.PortAudioError:
            return False

    def start(self) -> None:
        with native_stderr_silenced():
            self._stream.start()

    def stop(self) -> None:
        with contextlib.suppress(self._sd.PortAudioError), native_stderr_silenced():
            self._stream.stop()

    def close(self) -> None:
        with contextlib.suppress(self._sd.PortAudioError), native_stderr_silenced():
            self._stream.close()


class _LevelMeter:
    """Per-channel RMS/peak over ~0.1 s windows, clipping, and how long each channel is silent."""

    def __init__(self, channels: int, samplerate: int) -> None:
        self._channels = channels
        self._samplerate = samplerate
        self._silent_for = np.zeros(channels)
        self._reset()

    def _reset(self) -> None:
        self._sum_squares = np.zeros(self._channels)
        self._peak = np.zeros(self._channels)
        self._frames = 0

    def add(self, samples: np.ndarray, at: float) -> LevelReading | None:
        block = samples.astype(np.float32) / 32768.0
        squares = np.einsum("ij,ij->j", block, block, dtype=np.float64)
        self._sum_squares += squares
        self._peak = np.maximum(self._peak, np.abs(block).max(axis=0) if len(block) else 0.0)
        self._frames += len(block)
        block_rms = np.sqrt(squares / max(1, len(block)))
        silent = _to_dbfs(block_rms) < SILENCE_DBFS
        self._silent_for = np.where(silent, self._silent_for + len(block) / self._samplerate, 0.0)
        if self._frames < self._samplerate * LEVEL_INTERVAL_S:
            return None
        rms = np.sqrt(self._sum_squares / self._frames)
        reading = LevelReading(
            at=at,
            rms_dbfs=tuple(float(x) for x in _to_dbfs(rms)),
            peak=tuple(float(x) for x in self._peak),
            clipping=tuple(bool(x >= CLIP_LEVEL) for x in self._peak),
            silent_for=tuple(float(x) for x in self._silent_for),
        )
        self._reset()
        return reading


class _AudioHandoff:
    """Gives blocks to `on_audio` on its own thread so a slow consumer never slows capture.

    If the consumer falls more than ~60 s behind, new blocks are dropped for it (counted in stats),
    never for the recording.
    """

    def __init__(self, on_audio: Callable[[np.ndarray, float], None], stats: CaptureStats) -> None:
        self._on_audio = on_audio
        self._stats = stats
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=600)
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fieldkit-on-audio", daemon=True)
        self._thread.start()

    def offer(self, samples: np.ndarray, at: float) -> None:
        try:
            self._queue.put_nowait((samples.astype(np.float32) / 32768.0, at))
        except queue.Full:
            self._stats.on_audio_dropped += 1

    def close(self) -> None:
        # The consumer finishes what it has, then ends; nobody waits for it.
        self._closing.set()

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self._closing.is_set():
                    return
                continue
            try:
                self._on_audio(*item)
            except Exception:
                log.exception("on_audio callback failed")


def _validate(settings: CaptureSettings) -> None:
    if not 8000 <= settings.samplerate <= 192000:
        raise AudioError(
            f"unsupported sample rate {settings.samplerate} Hz", "use 16000, 44100 or 48000"
        )
    if settings.channels not in (1, 2):
        raise AudioError(f"unsupported channel count {settings.channels}", "use 1 or 2 channels")
    if not 0.005 <= settings.block_seconds <= 1.0:
        raise AudioError("block_seconds must be between 0.005 and 1", "use the default (0.1)")


def _to_dbfs(rms: np.ndarray) -> np.ndarray:
    return np.asarray(np.maximum(20 * np.log10(np.maximum(rms, 1e-12)), _MIN_DBFS))


def _free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def _mb(size: int) -> str:
    return f"{math.floor(size / 1024 / 1024)} MB"
