"""faster-whisper on the CPU, offline: whole recordings (batched) and short live chunks.

Heavy imports (faster_whisper, ctranslate2) happen inside the functions. Only local model folders
are ever loaded, with the Hugging Face hub forced offline, so nothing is downloaded at run time.

Two-channel recordings: the mixdown is transcribed once (batched), each word is attributed to the
louder channel, segments are split at speaker changes, and where both people talk at once the two
channels are transcribed separately so neither voice is lost (see speakers.py). Two channels that
carry one signal (a mono recorder's file copied to both, one stereo recorder) are transcribed
once with no speakers: channel energy cannot tell anybody apart there.

Cancellation: `cancel` is checked between segments; a set event raises TranscriptionCancelled
(a TranscriptionError) and no partial result is returned, so a half transcript is never stored.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fieldkit.core.models import Segment, Speaker, Word
from fieldkit.errors import AudioError, TranscriptionError
from fieldkit.transcribe import speakers
from fieldkit.transcribe.models import (
    BUNDLED_MODEL_NAME,
    CONVERT_HINT,
    bundled_model_dir,
    validate_model_dir,
)

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from fieldkit.crypto.keys import DataKey

SAMPLERATE = 16000  # Whisper's input rate
HOP_S = speakers.DEFAULT_HOP_S
OVERLAP_PAD_S = 0.5  # context around a crosstalk region when transcribing the channels alone
MAX_CLIP_S = 28.0  # Whisper windows are 30 s; keep separate-channel clips inside one window
CLIP_GAP_S = 1.0  # silence between packed crosstalk clips, so Whisper sees them as separate
MAX_PAUSE_SEARCH_S = 3.0  # how far a crosstalk window may grow to reach a pause
OWN_SPEECH_MIN_SHARE = 0.3  # a separate-channel word must sit mostly on its own channel's speech
GATE_MARGIN_S = 0.1  # keep this much around a channel's own speech when silencing its bleed
COMPRESSION_RATIO_LIMIT = 2.4  # faster-whisper's own threshold for a failed decode
MIXDOWN_PROGRESS_SHARE = 0.9  # of the progress bar, when overlap regions still follow
ENGINE_HINT = "Check the recording and the model folder, then run the transcription again"


class TranscriptionCancelled(TranscriptionError):
    """The job's cancel event was set; nothing was returned."""


@dataclass(frozen=True)
class EngineOptions:
    beam_size: int = 5  # batched beam 5 measured as fast as beam 1 here (fewer loops), fewer errors
    batched: bool = True
    batch_size: int = 8
    vad: bool = True
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0: CTranslate2's default (all cores here)
    vocabulary: tuple[str, ...] = ()  # study terms, given to the model as hotwords
    language: str | None = None  # None: "en" for English-only models, detected otherwise
    # Batched: longest stretch of speech (after VAD) decoded as one Whisper window. Whisper's own
    # 30 s windows often drop the last seconds of speech when a window is full.
    chunk_length_s: int = 30


@dataclass(frozen=True)
class TranscriptResult:
    segments: tuple[Segment, ...]
    duration_s: float
    channels: int
    model: str
    language: str
    # Both channels held one signal (e.g. a mono recorder's file copied to both): it was
    # transcribed once and no speaker is known.
    identical_channels: bool = False


@dataclass(frozen=True)
class _Audio:
    channels: tuple[np.ndarray, ...]  # one float32 16 kHz array per channel
    mix: np.ndarray

    @property
    def duration_s(self) -> float:
        return len(self.mix) / SAMPLERATE


# --- model loading ---------------------------------------------------------------------------


def load_model(model_dir: Path, options: EngineOptions = EngineOptions()) -> WhisperModel:
    """Load a local CTranslate2 Whisper folder; any failure becomes one TranscriptionError line."""
    model_dir = Path(model_dir)
    validate_model_dir(model_dir)
    # Belt and braces: a folder is never a hub name, but keep the hub offline regardless.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        from faster_whisper import WhisperModel

        return WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type=options.compute_type,
            cpu_threads=options.cpu_threads,
            local_files_only=True,
        )
    except Exception as error:  # ctranslate2 raises bare RuntimeError/ValueError on bad files
        raise TranscriptionError(
            f"Model {model_dir} could not be loaded ({_first_line(error)})",
            f"The model may be damaged. {CONVERT_HINT}",
        ) from None


@functools.lru_cache(maxsize=2)
def _cached(model_dir: str, compute_type: str, cpu_threads: int) -> WhisperModel:
    options = EngineOptions(compute_type=compute_type, cpu_threads=cpu_threads)
    return load_model(Path(model_dir), options)


def cached_model(model_dir: Path, options: EngineOptions = EngineOptions()) -> WhisperModel:
    """Load once per process and folder (the worker and the live guard keep theirs warm)."""
    return _cached(str(Path(model_dir).resolve()), options.compute_type, options.cpu_threads)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:160]


# --- audio -----------------------------------------------------------------------------------


def channel_count(path: Path, key: DataKey | None = None) -> int:
    """Channels of a recording (an encrypted one with its study's `key`)."""
    from fieldkit.audio.reader import inspect_audio

    if not Path(path).exists():
        raise AudioError(f"Recording {path} does not exist", "Check the path")
    try:
        return inspect_audio(Path(path), key=key).channels
    except AudioError as error:
        raise AudioError(
            f"Recording {path} cannot be read ({_reason(error)})",
            "The file may be damaged or not audio",
        ) from None


def load_audio(path: Path, key: DataKey | None = None) -> _Audio:
    """Decode to 16 kHz float32: every channel (mono or two) and their mixdown. Read through
    audio.reader, so an encrypted recording is decrypted with `key`, in memory only."""
    from fieldkit.audio.reader import read_audio

    channels = channel_count(path, key)
    if channels not in (1, 2):
        raise AudioError(
            f"Recording {path} has {channels} channels", "fieldkit transcribes mono or two-channel"
        )
    try:
        data, _ = read_audio(Path(path), samplerate=SAMPLERATE, key=key)
    except AudioError as error:
        raise AudioError(
            f"Recording {path} cannot be decoded ({_reason(error)})",
            "The file may be damaged or not audio",
        ) from None
    decoded = tuple(np.ascontiguousarray(data[:, channel]) for channel in range(data.shape[1]))
    mix = decoded[0] if len(decoded) == 1 else (decoded[0] + decoded[1]) * np.float32(0.5)
    return _Audio(channels=decoded, mix=mix)


def _reason(error: AudioError) -> str:
    return error.message.split(": ", 1)[-1]


# --- whisper calls ---------------------------------------------------------------------------


def _hotwords(vocabulary: Sequence[str]) -> str | None:
    terms = [term.strip() for term in vocabulary if term.strip()]
    return ", ".join(terms) if terms else None


def _language(model: WhisperModel, options: EngineOptions) -> str | None:
    return options.language or (None if model.model.is_multilingual else "en")


def _run_whisper(
    model: WhisperModel, audio: np.ndarray, options: EngineOptions
) -> tuple[Iterable[Any], str]:
    """Start a transcription; returns the lazy segment iterator and the language."""
    common: dict[str, Any] = {
        "beam_size": options.beam_size,
        "word_timestamps": True,
        "vad_filter": options.vad,
        "hotwords": _hotwords(options.vocabulary),
        "language": _language(model, options),
    }
    if options.batched:
        from faster_whisper import BatchedInferencePipeline

        pipeline = BatchedInferencePipeline(model)
        segments, info = pipeline.transcribe(
            audio,
            batch_size=options.batch_size,
            chunk_length=options.chunk_length_s,
            clip_timestamps=None if options.vad else _fixed_windows(len(audio), options),
            **common,
        )
    else:
        segments, info = model.transcribe(audio, **common)
    return segments, info.language


@dataclass(frozen=True)
class _Clip:
    offset: float  # where the clip starts in the recording
    samples: np.ndarray
    speaker: Speaker


def _fixed_windows(samples: int, options: EngineOptions) -> list[dict[str, float]]:
    """Consecutive windows for batched decoding without VAD (the pipeline needs clip times)."""
    step = float(options.chunk_length_s)
    duration = samples / SAMPLERATE
    starts = np.arange(0.0, duration, step)
    return [{"start": float(t), "end": float(min(duration, t + step))} for t in starts]


def _clip_words(model: WhisperModel, clips: Sequence[_Clip], options: EngineOptions) -> list[Word]:
    """Transcribe short clips in one batch and return their words with recording times.

    Clips are packed end to end (with a short silence between them) into Whisper windows of at
    most MAX_CLIP_S, so ten crosstalk moments cost one encoder pass rather than ten.
    """
    from faster_whisper import BatchedInferencePipeline

    gap = np.zeros(int(CLIP_GAP_S * SAMPLERATE), dtype=np.float32)
    placed: list[tuple[float, float, _Clip]] = []  # (start in packed audio, end, clip)
    packs: list[list[float]] = []  # [start, end] in packed audio, each under MAX_CLIP_S
    parts: list[np.ndarray] = []
    cursor = 0
    for clip in clips:
        start, end = cursor / SAMPLERATE, (cursor + len(clip.samples)) / SAMPLERATE
        same_pack = (
            packs and end - packs[-1][0] <= MAX_CLIP_S and clip.speaker == placed[-1][2].speaker
        )
        if same_pack:
            packs[-1][1] = end
        else:
            packs.append([start, end])
        placed.append((start, end, clip))
        parts += [clip.samples, gap]
        cursor += len(clip.samples) + len(gap)
    pipeline = BatchedInferencePipeline(model)
    segments, _ = pipeline.transcribe(
        np.concatenate(parts),
        clip_timestamps=[{"start": start, "end": end} for start, end in packs],
        batch_size=options.batch_size,
        beam_size=options.beam_size,
        word_timestamps=True,
        vad_filter=False,
        hotwords=_hotwords(options.vocabulary),
        language=_language(model, options),
    )
    words: list[Word] = []
    for raw in segments:
        for word in _words_of(raw):
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


def _words_of(raw_segment: Any, speaker: Speaker = Speaker.UNKNOWN) -> tuple[Word, ...]:
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


def _segment_of(raw_segment: Any, speaker: Speaker = Speaker.UNKNOWN) -> Segment:
    words = _words_of(raw_segment, speaker)
    text = speakers.text_of(words) if words else raw_segment.text.strip()
    return Segment(float(raw_segment.start), float(raw_segment.end), speaker, text, words)


# --- the recording pipeline ------------------------------------------------------------------


def transcribe_recording(
    path: Path,
    model_dir: Path,
    channel_map: Sequence[str] | None = None,
    options: EngineOptions = EngineOptions(),
    on_progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    key: DataKey | None = None,
) -> TranscriptResult:
    """Transcribe a mono or two-channel recording with word timestamps and speakers (an
    encrypted recording is decrypted with its study's `key`, in memory).

    `channel_map` names the speaker of each channel, e.g. ("interviewer", "participant"); without
    it (or for mono) every segment's speaker is "unknown". Progress is reported as 0..1 from the
    segment end times. Raises AudioError for an unreadable recording, TranscriptionError for a
    missing/corrupt model or an engine failure, TranscriptionCancelled when `cancel` is set.
    """
    model_dir = Path(model_dir)
    speaker_map = _checked_channel_map(channel_map)
    model = cached_model(model_dir, options)
    audio = load_audio(Path(path), key)
    channels = len(audio.channels)
    report = on_progress or (lambda fraction: None)
    energy = _channel_energy(audio) if speaker_map is not None and channels == 2 else None
    identical = energy is not None and speakers.same_signal(energy, HOP_S)
    try:
        if speaker_map is not None and energy is not None and not identical:
            segments, language = _two_channel(
                model, audio, energy, speaker_map, options, report, cancel
            )
        else:
            # One signal on both channels tells nobody apart: transcribe it once, speakers unknown.
            once = _louder_channel(audio) if identical else audio
            segments, language = _mixdown(model, once, options, report, cancel, share=1.0)
    except TranscriptionError:
        raise
    except Exception as error:  # the engine's own failures (memory, bad input) become one line
        raise TranscriptionError(
            f"Transcription of {Path(path).name} failed ({_first_line(error)})", ENGINE_HINT
        ) from None
    report(1.0)
    return TranscriptResult(
        segments=tuple(segments),
        duration_s=round(audio.duration_s, 3),
        channels=channels,
        model=_model_name(model_dir),
        language=language,
        identical_channels=identical,
    )


def _model_name(model_dir: Path) -> str:
    """The bundled folder (named just "model") is "tiny.en"; other folders go by their name."""
    try:
        if model_dir.resolve() == bundled_model_dir().resolve():
            return BUNDLED_MODEL_NAME
    except TranscriptionError:
        pass
    return model_dir.name


def _checked_channel_map(channel_map: Sequence[str] | None) -> tuple[Speaker, ...] | None:
    if channel_map is None:
        return None
    try:
        mapped = tuple(Speaker(name) for name in channel_map)
    except ValueError:
        raise TranscriptionError(
            f"Channel map {list(channel_map)} names an unknown speaker",
            "Use interviewer and participant, one per channel",
        ) from None
    if len(mapped) != 2:
        raise TranscriptionError(
            f"Channel map {list(channel_map)} must name two channels",
            "Use e.g. interviewer, participant",
        )
    return mapped


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise TranscriptionCancelled("Transcription cancelled", "Start it again to redo it")


def _mixdown(
    model: WhisperModel,
    audio: _Audio,
    options: EngineOptions,
    report: Callable[[float], None],
    cancel: threading.Event | None,
    share: float,
) -> tuple[list[Segment], str]:
    """Transcribe the mixdown; progress runs from 0 to `share`."""
    _check_cancel(cancel)
    raw_segments, language = _run_whisper(model, audio.mix, options)
    duration = max(audio.duration_s, 1e-6)
    segments: list[Segment] = []
    for raw in raw_segments:
        _check_cancel(cancel)
        segment = _segment_of(raw)
        if options.batched and looks_degenerate(segment.words, raw.compression_ratio):
            segments += _redo_sequential(model, audio.mix, raw.start, raw.end, options)
        else:
            segments.append(segment)
        report(min(1.0, raw.end / duration) * share)
    if options.batched:
        _check_cancel(cancel)
        for start, end in uncovered_speech(segments, _speech_activity(audio.mix), HOP_S):
            segments += _redo_sequential(model, audio.mix, start, end, options)
        segments.sort(key=lambda segment: segment.start)
    return segments, language


def _speech_activity(mix: np.ndarray) -> np.ndarray:
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


def _redo_sequential(
    model: WhisperModel, mix: np.ndarray, start: float, end: float, options: EngineOptions
) -> list[Segment]:
    """Decode [start, end) again with sequential decoding and temperature fallback."""
    first, last = int(start * SAMPLERATE), int(end * SAMPLERATE)
    raw_segments, _ = model.transcribe(
        mix[first:last],
        beam_size=max(options.beam_size, 5),
        word_timestamps=True,
        vad_filter=options.vad,
        condition_on_previous_text=False,
        hotwords=_hotwords(options.vocabulary),
        language=_language(model, options),
    )
    return [_shifted(_segment_of(raw), start) for raw in raw_segments]


def _shifted(segment: Segment, offset: float) -> Segment:
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


def _channel_energy(audio: _Audio) -> np.ndarray:
    """(hops, channels) RMS, one channel at a time: stacking them would copy the recording."""
    return np.concatenate(
        [speakers.channel_energy(channel, SAMPLERATE, HOP_S) for channel in audio.channels], axis=1
    )


def _louder_channel(audio: _Audio) -> _Audio:
    """The louder channel alone (not the mix: a copy with inverted polarity would cancel out)."""
    louder = max(audio.channels, key=lambda samples: float(np.dot(samples, samples)))
    return _Audio(channels=(louder,), mix=louder)


def _two_channel(
    model: WhisperModel,
    audio: _Audio,
    energy: np.ndarray,
    speaker_map: tuple[Speaker, ...],
    options: EngineOptions,
    report: Callable[[float], None],
    cancel: threading.Event | None,
) -> tuple[list[Segment], str]:
    overlaps = speakers.overlap_regions(energy, HOP_S)
    share = MIXDOWN_PROGRESS_SHARE if overlaps else 1.0
    mixed, language = _mixdown(model, audio, options, report, cancel, share)
    names = [speaker.value for speaker in speaker_map]
    mixed = [
        replace(segment, words=tuple(speakers.attribute_words(segment.words, energy, HOP_S, names)))
        for segment in mixed
    ]
    if not overlaps:
        return speakers.split_by_speaker(mixed), language
    mask = speakers.own_speech_mask(energy, HOP_S)
    anybody = np.asarray(mask.any(axis=1))
    windows = _overlap_windows(overlaps, mixed, anybody, audio.duration_s)
    kept = _without_words_in(mixed, windows)
    separate = _separate_channels(model, audio, mask, windows, speaker_map, options, cancel)
    segments = speakers.split_by_speaker(kept) + separate
    segments.sort(key=lambda segment: (segment.start, segment.end))
    return segments, language


def _overlap_windows(
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


def _without_words_in(
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
    model: WhisperModel,
    audio: _Audio,
    mask: np.ndarray,
    windows: Sequence[tuple[float, float]],
    speaker_map: tuple[Speaker, ...],
    options: EngineOptions,
    cancel: threading.Event | None,
) -> list[Segment]:
    """Each channel alone over the crosstalk windows; keep words spoken on that channel itself.

    The channel is silenced where it carries only the other person's bleed (else Whisper happily
    transcribes the bleed). A word counts when its midpoint lies in a window (the mixed transcript
    covers the rest) and it sits mostly on its channel's own speech.
    """
    _check_cancel(cancel)
    clips = [
        _Clip(low, _gated(audio.channels[channel], mask[:, channel], low, high), speaker)
        for channel, speaker in enumerate(speaker_map)
        for low, high in windows
    ]
    channel_of = {speaker: channel for channel, speaker in enumerate(speaker_map)}
    words = [
        word
        for word in _clip_words(model, clips, options)
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


def _gated(samples: np.ndarray, own_speech: np.ndarray, low: float, high: float) -> np.ndarray:
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


# --- live chunks -----------------------------------------------------------------------------


def transcribe_chunk(
    model: WhisperModel,
    audio: np.ndarray,
    vocabulary: Sequence[str] = (),
    *,
    offset_s: float = 0.0,
    speaker: Speaker = Speaker.UNKNOWN,
    other_channel: np.ndarray | None = None,
) -> list[Word]:
    """Fast path for the live guard: a few seconds of mono 16 kHz float32 audio -> words.

    Sequential greedy decoding, no VAD pass (a chunk is short) but Whisper's own no-speech check.
    Word times are shifted by `offset_s` (the chunk's start in the interview). Pass the same span
    of the other person's channel as `other_channel`: the other voice bleeds into this microphone
    and Whisper hears it too, so bleed-only stretches are silenced and words on them dropped
    (otherwise the participant saying a term could read as the interviewer saying it).
    """
    if audio.ndim != 1:
        raise TranscriptionError("A live chunk must be mono audio", "Pass one channel at a time")
    if len(audio) == 0 or float(np.max(np.abs(audio))) < speakers.ABSOLUTE_FLOOR_RMS:
        return []  # silence: skip the model (and its habit of hallucinating "Thank you.")
    samples = audio.astype(np.float32, copy=False)
    own_speech = None
    if other_channel is not None:
        energy = np.concatenate(
            [
                speakers.channel_energy(samples, SAMPLERATE, HOP_S),
                speakers.channel_energy(other_channel[: len(samples)], SAMPLERATE, HOP_S),
            ],
            axis=1,
        )
        own_speech = speakers.own_speech_mask(energy, HOP_S)
        if not own_speech[:, 0].any():
            return []  # only the other person's bleed on this microphone
        samples = _gated(samples, own_speech[:, 0], 0.0, len(samples) / SAMPLERATE)
    try:
        segments, _ = model.transcribe(
            samples,
            beam_size=1,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            hotwords=_hotwords(vocabulary),
            language=None if model.model.is_multilingual else "en",
        )
        words = [word for raw in segments for word in _words_of(raw, speaker)]
    except Exception as error:
        raise TranscriptionError(
            f"Live transcription failed ({_first_line(error)})", ENGINE_HINT
        ) from None
    if own_speech is not None:
        words = [
            w
            for w in words
            if speakers.own_speech_fraction(own_speech, 0, w.start, w.end, HOP_S)
            >= OWN_SPEECH_MIN_SHARE
        ]
    return [
        replace(w, start=round(w.start + offset_s, 3), end=round(w.end + offset_s, 3))
        for w in words
    ]
