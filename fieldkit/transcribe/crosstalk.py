"""Two people on two channels: the mixdown is transcribed once, each word goes to the louder
channel's speaker (speakers.py), and where both talk at once each channel is transcribed on its
own there, so neither voice is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from fieldkit.core.models import Segment, Speaker, Word
from fieldkit.transcribe import speakers
from fieldkit.transcribe.decoding import (
    MAX_CLIP_S,
    Audio,
    Clip,
    Decoder,
    clip_words,
    decode_mix,
)
from fieldkit.transcribe.options import HOP_S, SAMPLERATE

OVERLAP_PAD_S = 0.5  # context around a crosstalk region when transcribing the channels alone
MAX_PAUSE_SEARCH_S = 3.0  # how far a crosstalk window may grow to reach a pause
OWN_SPEECH_MIN_SHARE = 0.3  # a separate-channel word must sit mostly on its own channel's speech
GATE_MARGIN_S = 0.1  # keep this much around a channel's own speech when silencing its bleed
MIXDOWN_PROGRESS_SHARE = 0.9  # of the progress bar, when overlap regions still follow


def channel_energy(audio: Audio) -> np.ndarray:
    """(hops, channels) RMS, one channel at a time: stacking them would copy the audio."""
    return np.concatenate(
        [speakers.channel_energy(channel, SAMPLERATE, HOP_S) for channel in audio.channels], axis=1
    )


def decode_two_channels(
    decoder: Decoder,
    audio: Audio,
    energy: np.ndarray,
    speaker_map: tuple[Speaker, ...],
    report: Callable[[float], None],
) -> list[Segment]:
    """Segments of one speaker each, in stretch time."""
    overlaps = speakers.overlap_regions(energy, HOP_S)
    share = MIXDOWN_PROGRESS_SHARE if overlaps else 1.0
    mixed = decode_mix(decoder, audio, report, share)
    names = [speaker.value for speaker in speaker_map]
    mixed = [
        replace(segment, words=tuple(speakers.attribute_words(segment.words, energy, HOP_S, names)))
        for segment in mixed
    ]
    if not overlaps:
        return speakers.split_by_speaker(mixed)
    mask = speakers.own_speech_mask(energy, HOP_S)
    anybody = np.asarray(mask.any(axis=1))
    windows = overlap_windows(overlaps, mixed, anybody, audio.duration_s)
    kept = without_words_in(mixed, windows)
    separate = _separate_channels(decoder, audio, mask, windows, speaker_map)
    segments = speakers.split_by_speaker(kept) + separate
    segments.sort(key=lambda segment: (segment.start, segment.end))
    return segments


def overlap_windows(
    overlaps: Sequence[tuple[float, float]],
    mixed: Sequence[Segment],
    speaking: np.ndarray,
    duration: float,
) -> list[tuple[float, float]]:
    """Crosstalk regions widened to the nearest pauses and to whole mixed words, merged, < 30 s.

    Edges in pauses keep the mixed and the separate transcripts from both holding a word cut in two.
    """
    words = [word for segment in mixed for word in segment.words]
    windows: list[list[float]] = []
    for start, end in overlaps:
        low = _pause_before(speaking, max(0.0, start - OVERLAP_PAD_S))
        high = min(duration, _pause_after(speaking, min(duration, end + OVERLAP_PAD_S)))
        for word in words:  # never cut a word in half at a window edge
            if word.start < low < word.end:
                low = word.start
            if word.start < high < word.end:
                high = word.end
        if windows and low <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], high)
        else:
            windows.append([low, high])
    return [piece for low, high in windows for piece in _pieces(low, high)]


def _pause_before(speaking: np.ndarray, time: float) -> float:
    """The latest time at or before `time` (at most MAX_PAUSE_SEARCH_S earlier) nobody speaks."""
    index = min(int(time / HOP_S), len(speaking) - 1)
    limit = max(0, index - int(MAX_PAUSE_SEARCH_S / HOP_S))
    while index > limit and speaking[index]:
        index -= 1
    return round(index * HOP_S, 3)


def _pause_after(speaking: np.ndarray, time: float) -> float:
    """The earliest time at or after `time` (at most MAX_PAUSE_SEARCH_S later) nobody speaks."""
    index = min(int(time / HOP_S), len(speaking) - 1)
    limit = min(len(speaking) - 1, index + int(MAX_PAUSE_SEARCH_S / HOP_S))
    while index < limit and speaking[index]:
        index += 1
    return round((index + 1) * HOP_S, 3)


def _pieces(low: float, high: float) -> list[tuple[float, float]]:
    count = max(1, int(np.ceil((high - low) / MAX_CLIP_S)))
    step = (high - low) / count
    return [(round(low + i * step, 3), round(low + (i + 1) * step, 3)) for i in range(count)]


def _inside(time: float, windows: Sequence[tuple[float, float]]) -> bool:
    return any(low <= time < high for low, high in windows)


def without_words_in(
    segments: Sequence[Segment], windows: Sequence[tuple[float, float]]
) -> list[Segment]:
    """Drop mixed words whose midpoint lies in a crosstalk window (they are re-transcribed).

    A segment that lost words in its middle is split there, so text never jumps over the gap.
    """
    kept: list[Segment] = []
    for segment in segments:
        runs: list[list[Word]] = [[]]
        for word in segment.words:
            if _inside((word.start + word.end) / 2, windows):
                runs.append([])
            else:
                runs[-1].append(word)
        runs = [run for run in runs if run]
        if len(runs) == 1 and len(runs[0]) == len(segment.words):
            kept.append(segment)
            continue
        kept += [
            Segment(run[0].start, run[-1].end, segment.speaker, speakers.text_of(run), tuple(run))
            for run in runs
        ]
    return kept


def _separate_channels(
    decoder: Decoder,
    audio: Audio,
    mask: np.ndarray,
    windows: Sequence[tuple[float, float]],
    speaker_map: tuple[Speaker, ...],
) -> list[Segment]:
    """Each channel alone over the crosstalk windows; keep words spoken on that channel itself.

    The channel is silenced where it carries only the other person's bleed (else Whisper happily
    transcribes the bleed). A word counts when its midpoint lies in a window (the mixed transcript
    covers the rest) and it sits mostly on its channel's own speech.
    """
    decoder.check_cancel()
    clips = [
        Clip(low, gated(audio.channels[channel], mask[:, channel], low, high), speaker)
        for channel, speaker in enumerate(speaker_map)
        for low, high in windows
    ]
    channel_of = {speaker: channel for channel, speaker in enumerate(speaker_map)}
    words = [
        word
        for word in clip_words(decoder, clips)
        if _inside((word.start + word.end) / 2, windows)
        and speakers.own_speech_fraction(
            mask, channel_of[word.speaker], word.start, word.end, HOP_S
        )
        >= OWN_SPEECH_MIN_SHARE
    ]
    segments: list[Segment] = []
    for speaker in speaker_map:
        segments += [
            Segment(run[0].start, run[-1].end, speaker, speakers.text_of(run), tuple(run))
            for run in _runs_within_windows([w for w in words if w.speaker == speaker], windows)
        ]
    return segments


def gated(samples: np.ndarray, own_speech: np.ndarray, low: float, high: float) -> np.ndarray:
    """samples[low:high] with the hops outside own speech (widened by GATE_MARGIN_S) faded out."""
    first, last = int(low * SAMPLERATE), min(len(samples), int(high * SAMPLERATE))
    margin = max(1, round(GATE_MARGIN_S / HOP_S))
    widened = np.convolve(own_speech.astype(np.float32), np.ones(2 * margin + 1), mode="same") > 0
    hop = round(HOP_S * SAMPLERATE)
    hop_centres = (np.arange(len(widened)) + 0.5) * hop
    gain = np.interp(np.arange(first, last), hop_centres, widened.astype(np.float32))
    return (samples[first:last] * gain).astype(np.float32)


def _runs_within_windows(
    words: Sequence[Word], windows: Sequence[tuple[float, float]]
) -> list[list[Word]]:
    """Group time-ordered words into one run per window."""
    runs: dict[int, list[Word]] = {}
    for word in sorted(words, key=lambda w: w.start):
        middle = (word.start + word.end) / 2
        index = next(i for i, (low, high) in enumerate(windows) if low <= middle < high)
        runs.setdefault(index, []).append(word)
    return [runs[index] for index in sorted(runs)]
