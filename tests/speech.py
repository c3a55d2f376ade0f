"""Synthesize test speech with espeak-ng: single utterances and two-channel interviews.

Reusable by any test or benchmark. The interview builder places each turn on its speaker's channel
with a little crosstalk bleed into the other channel (lapel microphones in one room hear both
people), and returns where every turn landed so tests can assert on times and speakers.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

CHANNEL_OF_SPEAKER: Mapping[str, int] = {"interviewer": 0, "participant": 1}
DEFAULT_VOICES: Mapping[str, str] = {"interviewer": "en-us+m3", "participant": "en-gb+f3"}


@dataclass(frozen=True)
class TurnTiming:
    """Where one turn landed in the built interview (seconds from the start)."""

    speaker: str
    text: str
    start: float
    end: float


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def synthesize(text: str, voice: str, path: Path, words_per_minute: int = 150) -> Path:
    """Speak `text` with espeak-ng into a mono WAV at `path` (espeak's own rate, 22050 Hz)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    return path


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Band-limited resampling without scipy: windowed-sinc low-pass, then linear interpolation.

    Good enough for synthetic test speech; the low-pass keeps aliasing out of the speech band.
    """
    if from_rate == to_rate:
        return audio.astype(np.float32)
    if to_rate < from_rate:
        cutoff = 0.45 * to_rate / from_rate  # fraction of the source rate
        taps = np.arange(-32, 33)
        kernel = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.hamming(len(taps))
        audio = np.convolve(audio, kernel / kernel.sum(), mode="same")
    duration = len(audio) / from_rate
    target_times = np.arange(round(duration * to_rate)) / to_rate
    source_times = np.arange(len(audio)) / from_rate
    return np.interp(target_times, source_times, audio).astype(np.float32)


def _spoken(text: str, voice: str, samplerate: int, scratch: Path) -> np.ndarray:
    wav = synthesize(text, voice, scratch)
    audio, rate = sf.read(wav, dtype="float32", always_2d=False)
    return _trim_silence(resample(audio, rate, samplerate))


def _trim_silence(audio: np.ndarray, threshold: float = 1e-3) -> np.ndarray:
    """Cut espeak's leading/trailing silence so a turn's start is where its speech starts."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if len(loud) == 0:
        return audio
    return audio[loud[0] : loud[-1] + 1]


def two_speaker_wav(
    turns: Sequence[tuple[str, str] | tuple[str, str, float]],
    path: Path,
    samplerate: int = 16000,
    *,
    voices: Mapping[str, str] = DEFAULT_VOICES,
    gap_s: float = 0.7,
    bleed_db: float = -20.0,
    lead_in_s: float = 0.5,
    level: float = 0.5,
) -> list[TurnTiming]:
    """Build a two-channel interview: interviewer on channel 0, participant on channel 1.

    `turns` is a list of (speaker, text) or (speaker, text, gap_before_s); a negative gap starts
    the turn before the previous one has ended (both people talking at once). Each channel also
    carries the other voice at `bleed_db` (crosstalk). Returns each turn's speaker, text, times.
    """
    path = Path(path)
    scratch = path.with_suffix(".turn.wav")
    placed: list[tuple[int, int, np.ndarray]] = []  # (channel, start frame, samples)
    timings: list[TurnTiming] = []
    cursor = lead_in_s
    for index, turn in enumerate(turns):
        speaker, text = turn[0], turn[1]
        gap = turn[2] if len(turn) == 3 else (0.0 if index == 0 else gap_s)  # type: ignore[misc]
        samples = _spoken(text, voices[speaker], samplerate, scratch) * level
        start = max(0.0, cursor + gap) if timings else cursor
        end = start + len(samples) / samplerate
        placed.append((CHANNEL_OF_SPEAKER[speaker], round(start * samplerate), samples))
        timings.append(TurnTiming(speaker, text, round(start, 3), round(end, 3)))
        cursor = end
    scratch.unlink(missing_ok=True)
    total = max(start + len(samples) for _, start, samples in placed) + int(0.5 * samplerate)
    audio = np.zeros((total, 2), dtype=np.float32)
    bleed = 10 ** (bleed_db / 20)
    for channel, start, samples in placed:
        audio[start : start + len(samples), channel] += samples
        audio[start : start + len(samples), 1 - channel] += samples * bleed
    sf.write(path, np.clip(audio, -1.0, 1.0), samplerate, subtype="PCM_16")
    return timings


def mono_wav(text: str, path: Path, voice: str = "en-us+m3", samplerate: int = 16000) -> Path:
    """One voice, one channel (for the mono path)."""
    path = Path(path)
    audio = _spoken(text, voice, samplerate, path.with_suffix(".turn.wav")) * 0.5
    path.with_suffix(".turn.wav").unlink(missing_ok=True)
    padding = np.zeros(samplerate // 2, dtype=np.float32)
    sf.write(path, np.concatenate([padding, audio, padding]), samplerate, subtype="PCM_16")
    return path
