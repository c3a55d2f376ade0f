"""Who said each word in a two-channel recording, from the per-channel energy. numpy only.

Each person wears their own microphone (one channel each), so at any moment the speaker is the
louder channel; the other channel only carries crosstalk bleed, typically 12-20 dB quieter.
Where both channels carry their own speech at once (overlap), the mixed transcript garbles and the
engine transcribes each channel separately there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from fieldkit.core.models import Segment, Speaker, Word

DEFAULT_HOP_S = 0.02
# A channel counts as speaking on its own (not just bleed) when it is within this many dB of the
# loudest channel: bleed from the other lapel microphone sits 12-20 dB below the speaker.
OWN_SPEECH_MAX_GAP_DB = 9.0
# ... and above this level relative to the channel's own loud speech (its 99th percentile).
SPEECH_FLOOR_DB = -30.0
ABSOLUTE_FLOOR_RMS = 1e-4  # about -80 dBFS: digital silence never counts as speech
# Two channels hold one signal (a mono recorder's file copied to both, or one stereo recorder)
# when, wherever anybody speaks, their level difference stays this close to its typical value ...
SAME_SIGNAL_TOLERANCE_DB = 3.0
SAME_SIGNAL_MIN_SHARE = 0.9  # ... for at least this share of the speech,
SAME_SIGNAL_MIN_SPEECH_S = 1.0  # over at least this much speech.


def channel_energy(audio: np.ndarray, samplerate: int, hop_s: float = DEFAULT_HOP_S) -> np.ndarray:
    """RMS of each channel over consecutive hops: (frames, channels) -> (hops, channels).

    A mono 1-D array is treated as one channel. The last partial hop is zero-padded.
    """
    frames = audio.reshape(len(audio), -1) if audio.ndim == 1 else audio
    hop = max(1, round(hop_s * samplerate))
    hops = math.ceil(len(frames) / hop)
    padded = np.zeros((hops * hop, frames.shape[1]), dtype=np.float32)
    padded[: len(frames)] = frames
    squares = np.square(padded, dtype=np.float32).reshape(hops, hop, frames.shape[1])
    rms: np.ndarray = np.sqrt(squares.mean(axis=1))
    return rms


def _hop_span(start: float, end: float, hop_s: float, hops: int) -> slice:
    first = min(max(0, int(start / hop_s)), max(0, hops - 1))
    last = min(hops, max(first + 1, math.ceil(end / hop_s)))
    return slice(first, last)


def loudest_channel(energy: np.ndarray, start: float, end: float, hop_s: float) -> int | None:
    """Index of the channel with the most energy between start and end; None if all silent."""
    span = energy[_hop_span(start, end, hop_s, len(energy))]
    power = np.square(span).mean(axis=0) if len(span) else np.zeros(energy.shape[1])
    if not np.any(power > ABSOLUTE_FLOOR_RMS**2):
        return None
    return int(np.argmax(power))


def attribute_words(
    words: Sequence[Word], energy: np.ndarray, hop_s: float, channel_map: Sequence[str]
) -> list[Word]:
    """Label each word with the speaker of the louder channel over its time span.

    A word over digital silence (no channel above -80 dBFS, e.g. a hallucination) stays "unknown".
    """
    speakers = [Speaker(name) for name in channel_map]
    labelled = []
    for word in words:
        channel = loudest_channel(energy, word.start, word.end, hop_s)
        speaker = Speaker.UNKNOWN if channel is None else speakers[channel]
        labelled.append(replace(word, speaker=speaker))
    return labelled


def text_of(words: Sequence[Word]) -> str:
    return " ".join(word.word.strip() for word in words if word.word.strip())


def split_by_speaker(segments: Sequence[Segment]) -> list[Segment]:
    """Split each segment where its words change speaker; rebuild text from the words.

    Whisper segments often run across turns. The first piece keeps the segment's start and the last
    its end; inner boundaries come from the words. A segment without words is kept as it is.
    """
    result: list[Segment] = []
    for segment in segments:
        if not segment.words:
            result.append(segment)
            continue
        runs = _runs_by_speaker(segment.words)
        for index, run in enumerate(runs):
            start = segment.start if index == 0 else run[0].start
            end = segment.end if index == len(runs) - 1 else run[-1].end
            result.append(Segment(start, end, run[0].speaker, text_of(run), tuple(run)))
    return result


def _runs_by_speaker(words: Sequence[Word]) -> list[list[Word]]:
    runs: list[list[Word]] = []
    for word in words:
        if runs and runs[-1][-1].speaker == word.speaker:
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs


def _smoothed_power(energy: np.ndarray, hop_s: float, smooth_s: float) -> np.ndarray:
    width = max(1, round(smooth_s / hop_s))
    kernel = np.ones(width, dtype=np.float64) / width
    power = np.square(energy.astype(np.float64))
    return np.stack(
        [np.convolve(power[:, channel], kernel, mode="same") for channel in range(power.shape[1])],
        axis=1,
    )


def own_speech_mask(
    energy: np.ndarray,
    hop_s: float = DEFAULT_HOP_S,
    *,
    max_gap_db: float = OWN_SPEECH_MAX_GAP_DB,
    floor_db: float = SPEECH_FLOOR_DB,
    smooth_s: float = 0.1,
) -> np.ndarray:
    """(hops, channels) booleans: where each channel carries its own speech, not just bleed."""
    power = _smoothed_power(energy, hop_s, smooth_s)
    level_db = 10 * np.log10(np.maximum(power, 1e-12))
    loudest_db = level_db.max(axis=1, keepdims=True)
    reference = np.percentile(power, 99, axis=0)
    floor = np.maximum(reference * 10 ** (floor_db / 10), ABSOLUTE_FLOOR_RMS**2)
    mask: np.ndarray = (power > floor) & (level_db >= loudest_db - max_gap_db)
    return mask


def overlap_regions(
    energy: np.ndarray,
    hop_s: float = DEFAULT_HOP_S,
    *,
    max_gap_db: float = OWN_SPEECH_MAX_GAP_DB,
    floor_db: float = SPEECH_FLOOR_DB,
    smooth_s: float = 0.1,
    min_duration_s: float = 0.3,
    merge_gap_s: float = 0.5,
) -> list[tuple[float, float]]:
    """Time spans (seconds) where at least two channels carry their own speech at once.

    Spans closer than `merge_gap_s` are merged; spans shorter than `min_duration_s` are dropped
    (a turn handed over without a pause smears across a few hops, which is not crosstalk).
    """
    if energy.ndim != 2 or energy.shape[1] < 2 or len(energy) == 0:
        return []
    mask = own_speech_mask(
        energy, hop_s, max_gap_db=max_gap_db, floor_db=floor_db, smooth_s=smooth_s
    )
    both = mask.sum(axis=1) >= 2
    spans = _true_runs(both)
    merged: list[list[int]] = []
    for first, last in spans:
        if merged and (first - merged[-1][1]) * hop_s <= merge_gap_s:
            merged[-1][1] = last
        else:
            merged.append([first, last])
    return [
        (round(first * hop_s, 3), round(last * hop_s, 3))
        for first, last in merged
        if (last - first) * hop_s >= min_duration_s
    ]


def _true_runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[first, last) index pairs of the runs of True."""
    padded = np.concatenate([[False], flags.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def same_signal(
    energy: np.ndarray,
    hop_s: float = DEFAULT_HOP_S,
    *,
    tolerance_db: float = SAME_SIGNAL_TOLERANCE_DB,
    max_gain_db: float = OWN_SPEECH_MAX_GAP_DB,
    smooth_s: float = 0.1,
) -> bool:
    """Do the two channels carry the same signal, perhaps at different gains?

    Two people on two microphones make the level difference between the channels swing by tens
    of dB as the turns change; a copied or shared signal keeps it steady. Steady at a gain within
    `max_gain_db` means both channels look like their own speech all the time, which would be
    transcribed once per channel. (A steady larger difference is one voice and its quieter
    bleed: the louder channel gets every word already, nothing is doubled.)
    """
    if energy.ndim != 2 or energy.shape[1] != 2 or len(energy) == 0:
        return False
    power = _smoothed_power(energy, hop_s, smooth_s)
    speaking = _speaking(power)
    if speaking.sum() * hop_s < SAME_SIGNAL_MIN_SPEECH_S:
        return False
    level_db = 10 * np.log10(np.maximum(power[speaking], 1e-12))
    difference = level_db[:, 0] - level_db[:, 1]
    gain = float(np.median(difference))
    steady = float(np.mean(np.abs(difference - gain) <= tolerance_db))
    return abs(gain) <= max_gain_db and steady >= SAME_SIGNAL_MIN_SHARE


def speech_seconds(
    energy: np.ndarray, hop_s: float = DEFAULT_HOP_S, *, smooth_s: float = 0.1
) -> float:
    """How long anybody speaks (within 30 dB of the loud speech, above digital silence), as
    `same_signal` counts it: under SAME_SIGNAL_MIN_SPEECH_S it cannot tell either way."""
    if len(energy) == 0:
        return 0.0
    return float(_speaking(_smoothed_power(energy, hop_s, smooth_s)).sum()) * hop_s


def _speaking(power: np.ndarray) -> np.ndarray:
    loudest = power.max(axis=1)
    reference = float(np.percentile(loudest, 99))
    floor = max(reference * 10 ** (SPEECH_FLOOR_DB / 10), ABSOLUTE_FLOOR_RMS**2)
    speaking: np.ndarray = loudest > floor
    return speaking


def own_speech_fraction(
    mask: np.ndarray, channel: int, start: float, end: float, hop_s: float = DEFAULT_HOP_S
) -> float:
    """Share of the speech between start and end that is `channel`'s own speech.

    Only hops where somebody speaks count: Whisper often stretches a word into the pause after
    it, which must not make the word look like silence. 0.0 when nobody speaks in the span.
    """
    span = mask[_hop_span(start, end, hop_s, len(mask))]
    speaking = span.any(axis=1)
    if not speaking.any():
        return 0.0
    return float(span[speaking, channel].mean())
