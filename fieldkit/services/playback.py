"""Listening to an interview: its audio read into memory and played from there.

Every read of recorded audio for playback goes through `InterviewAudio.read` (which
`load_interview_audio` calls too), and that reads each recording with `_read_recording`: the one
place where a recording's bytes are opened for listening. An encrypted study's recordings are
decrypted there, with the study's key, into memory. Nothing is written to disk on the way — no
temporary file holds speech.

Times are interview time (seconds from the start of recording, pauses excluded): an interview
recorded in several parts plays as one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fieldkit.errors import AudioError, FieldkitError
from fieldkit.services.study import Study
from fieldkit.store.repo import Recordings

if TYPE_CHECKING:
    import numpy as np

    from fieldkit.audio.playback import Playback
    from fieldkit.crypto.keys import DataKey

# Playback speeds, slowest to fastest; the pitch stays the same at every speed.
SPEEDS = (0.75, 0.9, 1.0, 1.1, 1.25, 1.5)
NORMAL_SPEED = 1.0


@dataclass(frozen=True)
class RecordingPart:
    path: Path
    offset_s: float  # where it starts in interview time
    duration_s: float


@dataclass(frozen=True)
class InterviewAudio:
    """Where an interview's audio is. Reading it touches only the files (no database), so a
    playback thread may read from it."""

    interview_id: int
    parts: tuple[RecordingPart, ...]
    samplerate: int
    channels: int
    # An encrypted study's data key (in memory only), to decrypt its recordings as they play.
    key: DataKey | None = field(default=None, repr=False, compare=False)

    @property
    def duration(self) -> float:
        last = self.parts[-1]
        return last.offset_s + last.duration_s

    def read(self, start: float, end: float) -> np.ndarray:
        """float32 (frames, channels) samples of interview time [start, end), at `samplerate`."""
        import numpy as np

        from fieldkit.audio.reader import remix

        rate = self.samplerate
        start, end = max(0.0, start), min(end, self.duration)
        pieces: list[np.ndarray] = []
        covered = round(start * rate)  # the next frame (interview time) still to be filled
        for part in self.parts:
            part_end = part.offset_s + part.duration_s
            if part_end <= start or part.offset_s >= end:
                continue
            gap = round(part.offset_s * rate) - covered
            if gap > 0:  # parts should touch; if they do not, silence keeps the times right
                pieces.append(np.zeros((gap, self.channels), dtype=np.float32))
                covered += gap
            local_start = max(start, part.offset_s) - part.offset_s
            local_end = min(end, part_end) - part.offset_s
            samples = _read_recording(part.path, local_start, local_end, rate, key=self.key)
            pieces.append(remix(samples, self.channels))
            covered += len(samples)
        if not pieces:
            return np.zeros((0, self.channels), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(pieces), dtype=np.float32)


def _read_recording(
    path: Path, start: float, end: float, samplerate: int, key: DataKey | None = None
) -> np.ndarray:
    """Seconds [start, end) of one recording file at `samplerate` (decrypted with `key` if it is
    an encrypted recording), in memory."""
    from fieldkit.audio.reader import read_audio

    # A part recorded at another rate than the first is resampled to match it.
    samples, _ = read_audio(path, start, end, samplerate=samplerate, key=key)
    return samples


def interview_audio(study: Study, interview_id: int) -> InterviewAudio:
    """The recordings of an interview, ready to be read; AudioError when it has none."""
    from fieldkit.audio.reader import inspect_audio

    rows = Recordings(study.db).for_interview(interview_id)
    parts: list[RecordingPart] = []
    samplerate = channels = 0
    for row in rows:
        path = study.paths.absolute(row.path)
        duration = row.duration_s
        if not duration or not samplerate:  # still being written, or the first part
            info = inspect_audio(path, key=study.data_key)
            duration = duration or info.duration_s
            samplerate = samplerate or info.samplerate
            channels = channels or info.channels
        parts.append(RecordingPart(path, row.offset_s, duration))
    if not parts:
        raise AudioError(
            "this interview has no recording", "the transcript can still be reviewed without sound"
        )
    return InterviewAudio(interview_id, tuple(parts), samplerate, channels, key=study.data_key)


def load_interview_audio(
    study: Study, interview_id: int, start: float, end: float
) -> tuple[np.ndarray, int]:
    """Interview time [start, end) of an interview's audio, in memory: (samples, samplerate)."""
    audio = interview_audio(study, interview_id)
    return audio.read(start, end), audio.samplerate


def play(
    audio: InterviewAudio, start: float, end: float | None = None, speed: float = NORMAL_SPEED
) -> Playback:
    """Start playing from `start` (to `end`, or the end of the interview) on the default output.
    Opening the device can take a moment: call it from a worker thread."""
    from fieldkit.audio.playback import Playback

    if speed not in SPEEDS:
        raise FieldkitError(f"cannot play at {speed}×", f"choose one of {_speeds_text()}")
    return Playback(audio, max(0.0, start), end, speed)


def step_speed(speed: float, steps: int) -> float:
    """The next speed up (steps > 0) or down, staying within the slowest and fastest."""
    nearest = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))
    return SPEEDS[max(0, min(len(SPEEDS) - 1, nearest + steps))]


def _speeds_text() -> str:
    return ", ".join(f"{s:g}×" for s in SPEEDS)
