"""Cutting a recording into stretches at pauses, as its audio arrives. numpy only.

The batched pipeline removes the pauses (VAD), packs the speech into windows of up to 30 s and
decodes eight windows at a time, each on its own. A stretch therefore ends where one of those
windows would end anyway: in the pause after the eighth window's worth of speech (estimated from
the signal's energy the way the VAD marks speech), or earlier if that lies beyond `max_s`. So no
word is cut in two, each window has the same context as when the whole recording is decoded at
once, and the batches stay full. Where no window boundary is found (long silence, noise), the
stretch ends in the quietest half second before `max_s`. Memory holds one stretch and one block,
whatever the length of the recording.

The cut depends only on the audio from the stretch's own start, so cutting a recording from the
end of any stretch gives the same stretches as cutting it from the beginning (a job resumes from
the last stretch it stored), however the audio arrives in blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from fieldkit.transcribe.options import HOP_S, SAMPLERATE, EngineOptions


@dataclass(frozen=True)
class StretchRules:
    """Where stretches are cut (see the module's description). `window_s` and `windows` match
    the engine's chunk length and batch size."""

    min_s: float = 30.0
    max_s: float = 300.0
    window_s: float = 30.0  # speech per Whisper window (EngineOptions.chunk_length_s)
    windows: int = 8  # Whisper windows per stretch (EngineOptions.batch_size)
    pause_s: float = 0.5  # the quiet window sought when no window boundary fits
    # Quiet windows at most this much louder than the quietest count as just as quiet; the last
    # of them is taken, so stretches are as long as the pauses allow.
    quiet_margin_db: float = 3.0

    @classmethod
    def for_options(cls, options: EngineOptions) -> StretchRules:
        """The default rules, fitted to the engine's window length and batch size."""
        return cls(window_s=float(options.chunk_length_s), windows=options.batch_size)

    def __post_init__(self) -> None:
        if not 0 < self.min_s <= self.max_s or self.pause_s <= 0 or self.windows < 1:
            raise ValueError(
                f"stretch rules need 0 < min_s <= max_s, pause_s > 0, windows >= 1: {self}"
            )


DEFAULT_RULES = StretchRules()


@dataclass(frozen=True)
class Stretch:
    start_frame: int  # in the recording, at SAMPLERATE
    samples: np.ndarray  # (frames, channels) float32

    @property
    def offset_s(self) -> float:
        return self.start_frame / SAMPLERATE

    @property
    def end_s(self) -> float:
        return (self.start_frame + len(self.samples)) / SAMPLERATE

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLERATE


class StretchCutter:
    """Feed it blocks of (frames, channels) audio; it hands back each stretch once it is cut."""

    def __init__(self, rules: StretchRules = DEFAULT_RULES, start_s: float = 0.0) -> None:
        self.rules = rules
        self._start = round(start_s * SAMPLERATE)  # the next stretch's first frame
        self._pending: list[np.ndarray] = []
        self._frames = 0

    def feed(self, block: np.ndarray) -> list[Stretch]:
        if len(block) == 0:
            return []
        self._pending.append(np.asarray(block, dtype=np.float32))
        self._frames += len(block)
        stretches = []
        longest = round(self.rules.max_s * SAMPLERATE)
        while self._frames >= longest:
            buffered = self._joined()
            cut = find_cut(buffered, self.rules)
            stretches.append(self._emit(buffered, cut))
        return stretches

    def finish(self) -> list[Stretch]:
        """The rest of the audio, as the last stretch."""
        if not self._frames:
            return []
        buffered = self._joined()
        return [self._emit(buffered, len(buffered))]

    def _joined(self) -> np.ndarray:
        if len(self._pending) > 1:
            self._pending = [np.concatenate(self._pending)]
        return self._pending[0]

    def _emit(self, buffered: np.ndarray, cut: int) -> Stretch:
        # Copies, so the stretch does not keep the whole buffer alive through a view.
        stretch = Stretch(self._start, buffered[:cut].copy())
        rest = buffered[cut:].copy()
        self._pending = [rest] if len(rest) else []
        self._frames = len(rest)
        self._start += cut
        return stretch


def find_cut(samples: np.ndarray, rules: StretchRules) -> int:
    """The frame to end a stretch at, between `min_s` and `max_s` from the start of `samples`:
    after the last whole Whisper window of speech that fits (at most `windows` of them), else in
    the quietest moment."""
    high = min(len(samples), round(rules.max_s * SAMPLERATE))
    power = _hop_power(samples[:high])
    boundaries = [
        frame
        for frame, count in window_boundaries(power, rules.window_s)
        if count <= rules.windows and frame >= rules.min_s * SAMPLERATE
    ]
    return boundaries[-1] if boundaries else _quietest(power, rules, high)


def _hop_power(samples: np.ndarray) -> np.ndarray:
    """Mean square per hop of the loudest channel (a pause is quiet on every channel)."""
    hop = round(HOP_S * SAMPLERATE)
    hops = len(samples) // hop
    frames = samples[: hops * hop].reshape(hops, hop, -1)
    power: np.ndarray = (np.einsum("hfc,hfc->hc", frames, frames) / hop).max(axis=1)
    return power.astype(np.float64)


# How faster-whisper's batched pipeline marks speech (its VadOptions there): silences shorter
# than this join two pieces of speech, and each piece is padded by SPEECH_PAD_S on either side.
MIN_SILENCE_S = 0.16
SPEECH_PAD_S = 0.4
SPEECH_FLOOR_DB = -35.0  # below the loud speech (its 99th percentile): not speech
SMOOTH_S = 0.06


def speech_pieces(power: np.ndarray) -> list[tuple[float, float]]:
    """Estimated speech, (start, end) in seconds, as the pipeline's VAD would mark it (before
    its padding)."""
    if len(power) == 0:
        return []
    width = max(1, round(SMOOTH_S / HOP_S))
    smooth = np.convolve(power, np.ones(width) / width, mode="same")
    floor = max(float(np.percentile(smooth, 99)) * 10 ** (SPEECH_FLOOR_DB / 10), 1e-9)
    speaking = np.concatenate([[False], smooth > floor, [False]])
    edges = np.flatnonzero(np.diff(speaking.astype(np.int8)))
    pieces: list[list[float]] = []
    for first, last in zip(edges[::2], edges[1::2], strict=True):
        start, end = first * HOP_S, last * HOP_S
        if pieces and start - pieces[-1][1] < MIN_SILENCE_S:
            pieces[-1][1] = end
        else:
            pieces.append([start, end])
    return [(start, end) for start, end in pieces]


def window_boundaries(power: np.ndarray, window_s: float) -> list[tuple[int, int]]:
    """Where the pipeline would close a Whisper window: (frame in the middle of the pause after
    it, windows closed so far). Its VAD pads each piece of speech by SPEECH_PAD_S (by half the
    pause when that is shorter than two pads) and packs them greedily into windows."""
    pieces = speech_pieces(power)
    boundaries: list[tuple[int, int]] = []
    filled, closed = 0.0, 0
    for index, (start, end) in enumerate(pieces):
        gap_before = start - pieces[index - 1][1] if index else 2 * start
        gap_after = pieces[index + 1][0] - end if index + 1 < len(pieces) else 2 * SPEECH_PAD_S
        padded = end - start + min(SPEECH_PAD_S, gap_before / 2) + min(SPEECH_PAD_S, gap_after / 2)
        if filled and filled + padded > window_s:
            closed += 1
            boundaries.append((round((start - gap_before / 2) * SAMPLERATE), closed))
            filled = 0.0
        # Speech longer than a window is split by the VAD without a pause: no cut there.
        while padded > window_s:
            closed += 1
            padded -= window_s
        filled += padded
    return boundaries


def _quietest(power: np.ndarray, rules: StretchRules, high: int) -> int:
    """The middle of the last of the quietest `pause_s` windows between min_s and max_s."""
    hop = round(HOP_S * SAMPLERATE)
    low_hop = round(rules.min_s / HOP_S)
    width = max(1, round(rules.pause_s / HOP_S))
    region = power[low_hop:]
    if len(region) < width:
        return high
    window = np.convolve(region, np.ones(width), mode="valid")
    quiet = window.min() * 10 ** (rules.quiet_margin_db / 10) + 1e-12 * width
    chosen = int(np.flatnonzero(window <= quiet)[-1])
    return (low_hop + chosen + width // 2) * hop


def cut_stretches(
    blocks: Iterable[np.ndarray], rules: StretchRules = DEFAULT_RULES, start_s: float = 0.0
) -> Iterator[Stretch]:
    """The stretches of a recording read block by block from `start_s` (see StretchCutter)."""
    cutter = StretchCutter(rules, start_s)
    for block in blocks:
        yield from cutter.feed(block)
    yield from cutter.finish()
