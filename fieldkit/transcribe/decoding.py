"""Whisper calls: a stretch's mixdown through the batched pipeline (with the repairs that keep
batching as accurate as sequential decoding), short clips packed into shared windows, and the
conversion of faster-whisper's segments into fieldkit's Segment and Word.

faster_whisper is imported inside the functions. Cancellation is checked between segments.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from fieldkit.core.models import Segment, Speaker, Word
from fieldkit.transcribe import speakers
from fieldkit.transcribe.options import HOP_S, SAMPLERATE, EngineOptions, check_cancel

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

MAX_CLIP_S = 28.0  # Whisper windows are 30 s; keep separate-channel clips inside one window
CLIP_GAP_S = 1.0  # silence between packed crosstalk clips, so Whisper sees them as separate
COMPRESSION_RATIO_LIMIT = 2.4  # faster-whisper's own threshold for a failed decode


@dataclass(frozen=True)
class Audio:
    """One stretch of a recording: one float32 16 kHz array per channel, and their mixdown."""

    channels: tuple[np.ndarray, ...]
    mix: np.ndarray

    @property
    def duration_s(self) -> float:
        return len(self.mix) / SAMPLERATE

    @classmethod
    def of(cls, frames: np.ndarray) -> Audio:
        """From (frames, channels) samples; mono is its own mixdown."""
        channels = tuple(
            np.ascontiguousarray(frames[:, c], dtype=np.float32) for c in range(frames.shape[1])
        )
        if len(channels) == 1:
            return cls(channels, channels[0])
        return cls(channels, (channels[0] + channels[1]) * np.float32(0.5))

    def louder_channel(self) -> Audio:
        """The louder channel alone (not the mix: a copy with inverted polarity would cancel)."""
        louder = max(self.channels, key=lambda samples: float(np.dot(samples, samples)))
        return Audio((louder,), louder)


@dataclass
class Decoder:
    """The model and settings one recording is decoded with. `language` is fixed once known, so
    every stretch of a recording is decoded in the same language."""

    model: WhisperModel
    options: EngineOptions
    language: str | None
    cancel: threading.Event | None = None

    @classmethod
    def create(
        cls, model: WhisperModel, options: EngineOptions, cancel: threading.Event | None = None
    ) -> Decoder:
        language = options.language or (None if model.model.is_multilingual else "en")
        return cls(model, options, language, cancel)

    @property
    def hotwords(self) -> str | None:
        terms = [term.strip() for term in self.options.vocabulary if term.strip()]
        return ", ".join(terms) if terms else None

    def check_cancel(self) -> None:
        check_cancel(self.cancel)


# --- the mixdown -----------------------------------------------------------------------------


def decode_mix(
    decoder: Decoder, audio: Audio, report: Callable[[float], None], share: float = 1.0
) -> list[Segment]:
    """Transcribe the stretch's mixdown; progress (a fraction of the stretch) runs to `share`."""
    decoder.check_cancel()
    options = decoder.options
    raw_segments = _run_whisper(decoder, audio.mix)
    duration = max(audio.duration_s, 1e-6)
    segments: list[Segment] = []
    for raw in raw_segments:
        decoder.check_cancel()
        segment = segment_of(raw)
        if options.batched and looks_degenerate(segment.words, raw.compression_ratio):
            segments += redo_sequential(decoder, audio.mix, raw.start, raw.end)
        else:
            segments.append(segment)
        report(min(1.0, raw.end / duration) * share)
    if options.batched:
        decoder.check_cancel()
        for start, end in uncovered_speech(segments, speech_activity(audio.mix), HOP_S):
            segments += redo_sequential(decoder, audio.mix, start, end)
        segments.sort(key=lambda segment: segment.start)
    return segments


def _run_whisper(decoder: Decoder, audio: np.ndarray) -> Iterable[Any]:
    """Start a transcription; returns the lazy segment iterator (and learns the language)."""
    options = decoder.options
    common: dict[str, Any] = {
        "beam_size": options.beam_size,
        "word_timestamps": True,
        "vad_filter": options.vad,
        "hotwords": decoder.hotwords,
        "language": decoder.language,
    }
    if options.batched:
        from faster_whisper import BatchedInferencePipeline

        pipeline = BatchedInferencePipeline(decoder.model)
        segments, info = pipeline.transcribe(
            audio,
            batch_size=options.batch_size,
            chunk_length=options.chunk_length_s,
            clip_timestamps=None if options.vad else _fixed_windows(len(audio), options),
            **common,
        )
    else:
        segments, info = decoder.model.transcribe(audio, **common)
    if decoder.language is None and info.language:
        decoder.language = info.language  # detected on the first stretch, kept for the rest
    return segments


def _fixed_windows(samples: int, options: EngineOptions) -> list[dict[str, float]]:
    """Consecutive windows for batched decoding without VAD (the pipeline needs clip times)."""
    step = float(options.chunk_length_s)
    duration = samples / SAMPLERATE
    starts = np.arange(0.0, duration, step)
    return [{"start": float(t), "end": float(min(duration, t + step))} for t in starts]


def speech_activity(mix: np.ndarray) -> np.ndarray:
    """Per hop: is anybody speaking (energy within 30 dB of the loud speech)?"""
    energy = speakers.channel_energy(mix, SAMPLERATE, HOP_S)
    return speakers.own_speech_mask(energy, HOP_S)[:, 0]


def uncovered_speech(
    segments: Sequence[Segment],
    speaking: np.ndarray,
    hop_s: float = HOP_S,
    *,
    min_gap_s: float = 1.5,
    min_speech_s: float = 1.0,
) -> list[tuple[float, float]]:
    """Gaps between transcribed words that still hold at least `min_speech_s` of speech.

    Batched decoding sometimes stops before the end of a full 30 s window and silently drops the
    last sentence; such gaps are decoded again so no speech goes missing from the transcript.
    """
    words = sorted((w for s in segments for w in s.words), key=lambda w: w.start)
    edges = [0.0] + [t for w in words for t in (w.start, w.end)] + [len(speaking) * hop_s]
    gaps = []
    for gap_start, gap_end in zip(edges[::2], edges[1::2], strict=True):
        if gap_end - gap_start < min_gap_s:
            continue
        hops = speaking[int(gap_start / hop_s) : int(gap_end / hop_s)]
        if hops.sum() * hop_s >= min_speech_s:
            gaps.append((round(gap_start, 3), round(gap_end, 3)))
    return gaps


def looks_degenerate(words: Sequence[Word], compression_ratio: float = 0.0) -> bool:
    """True when a decoded chunk looks like a repetition loop ("t t t t ...", "we go we go ...").

    The batched pipeline decodes greedily with no temperature fallback, so on crosstalk it now and
    then loops until the token limit; plain sequential decoding does not. Such chunks are decoded
    again sequentially (rare, about a second each) so batching costs no accuracy.
    """
    if compression_ratio > COMPRESSION_RATIO_LIMIT:
        return True
    tokens = [word.word.strip(".,?!").lower() for word in words]
    for unit, repeats in ((1, 5), (2, 4), (3, 4)):
        span = unit * repeats
        for start in range(len(tokens) - span + 1):
            window = tokens[start : start + span]
            if all(window[i] == window[i % unit] for i in range(span)):
                return True
    return False


def redo_sequential(decoder: Decoder, mix: np.ndarray, start: float, end: float) -> list[Segment]:
    """Decode [start, end) again with sequential decoding and temperature fallback."""
    first, last = int(start * SAMPLERATE), int(end * SAMPLERATE)
    raw_segments, _ = decoder.model.transcribe(
        mix[first:last],
        beam_size=max(decoder.options.beam_size, 5),
        word_timestamps=True,
        vad_filter=decoder.options.vad,
        condition_on_previous_text=False,
        hotwords=decoder.hotwords,
        language=decoder.language,
    )
    return [shifted(segment_of(raw), start) for raw in raw_segments]


# --- short clips -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Clip:
    offset: float  # where the clip starts in the stretch
    samples: np.ndarray
    speaker: Speaker


def clip_words(decoder: Decoder, clips: Sequence[Clip]) -> list[Word]:
    """Transcribe short clips in one batch and return their words with stretch times.

    Clips are packed end to end (with a short silence between them) into Whisper windows of at
    most MAX_CLIP_S, so ten crosstalk moments cost one encoder pass rather than ten. Both
    speakers' clips share windows: a stretch has few of them, and a window costs the same however
    little it holds (measured: no change in word error rate, 15 % fewer windows per stretch).
    """
    from faster_whisper import BatchedInferencePipeline

    gap = np.zeros(int(CLIP_GAP_S * SAMPLERATE), dtype=np.float32)
    placed: list[tuple[float, float, Clip]] = []  # (start in packed audio, end, clip)
    packs: list[list[float]] = []  # [start, end] in packed audio, each under MAX_CLIP_S
    parts: list[np.ndarray] = []
    cursor = 0
    for clip in clips:
        start, end = cursor / SAMPLERATE, (cursor + len(clip.samples)) / SAMPLERATE
        if packs and end - packs[-1][0] <= MAX_CLIP_S:
            packs[-1][1] = end
        else:
            packs.append([start, end])
        placed.append((start, end, clip))
        parts += [clip.samples, gap]
        cursor += len(clip.samples) + len(gap)
    options = decoder.options
    pipeline = BatchedInferencePipeline(decoder.model)
    segments, _ = pipeline.transcribe(
        np.concatenate(parts),
        clip_timestamps=[{"start": start, "end": end} for start, end in packs],
        batch_size=options.batch_size,
        beam_size=options.beam_size,
        word_timestamps=True,
        vad_filter=False,
        hotwords=decoder.hotwords,
        language=decoder.language,
    )
    words: list[Word] = []
    for raw in segments:
        for word in words_of(raw):
            middle = (word.start + word.end) / 2
            start, _, clip = min(placed, key=lambda item: _distance(middle, item[0], item[1]))
            shift = clip.offset - start
            words.append(
                replace(
                    word,
                    start=round(max(word.start, start) + shift, 3),
                    end=round(word.end + shift, 3),
                    speaker=clip.speaker,
                )
            )
    return words


def _distance(time: float, start: float, end: float) -> float:
    return 0.0 if start <= time <= end else min(abs(time - start), abs(time - end))


# --- faster-whisper's results as fieldkit's ----------------------------------------------------


def words_of(raw_segment: Any, speaker: Speaker = Speaker.UNKNOWN) -> tuple[Word, ...]:
    return tuple(
        Word(
            start=round(float(word.start), 3),
            end=round(float(word.end), 3),
            word=word.word.strip(),
            probability=round(float(word.probability), 4),
            speaker=speaker,
        )
        for word in (raw_segment.words or ())
        if word.word.strip()
    )


def segment_of(raw_segment: Any, speaker: Speaker = Speaker.UNKNOWN) -> Segment:
    words = words_of(raw_segment, speaker)
    text = speakers.text_of(words) if words else raw_segment.text.strip()
    return Segment(float(raw_segment.start), float(raw_segment.end), speaker, text, words)


def shifted(segment: Segment, offset: float) -> Segment:
    """The segment `offset` seconds later (stretch time → recording time), times rounded to ms."""
    words = tuple(
        replace(w, start=round(w.start + offset, 3), end=round(w.end + offset, 3))
        for w in segment.words
    )
    return replace(
        segment,
        start=round(segment.start + offset, 3),
        end=round(segment.end + offset, 3),
        words=words,
    )
