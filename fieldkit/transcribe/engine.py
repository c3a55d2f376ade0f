"""faster-whisper on the CPU, offline, one stretch of a recording at a time.

A recording is read block by block (audio.reader.read_blocks) and cut into stretches of up to
five minutes, in pauses where the batched decoder closes a window anyway (stretches.py); each
stretch is decoded with its full context by the batched pipeline (decoding.py), its words
attributed to speakers by channel, with crosstalk decoded per channel (crosstalk.py), and its
times shifted by the stretch's start. So memory stays flat in the length of the recording, and
each stretch's segments are final as soon as it is done: `on_stretch` hands them over (a job
stores them, and resumes after the last one stored).

`StretchTranscriber` is the engine for any source of audio (a file here; a recording while it is
being made, fed through a StretchCutter): give it a stretch's samples and where it starts.

Two channels that carry one signal (a mono recorder's file copied to both, one stereo recorder)
are transcribed once with no speakers: channel energy cannot tell anybody apart there.

Cancellation: `cancel` is checked between segments; a set event raises TranscriptionCancelled
(a TranscriptionError) and no partial result is returned, so a half transcript is never stored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fieldkit.core.models import Segment, Speaker
from fieldkit.errors import AudioError, TranscriptionError
from fieldkit.transcribe import speakers
from fieldkit.transcribe.crosstalk import channel_energy, decode_two_channels
from fieldkit.transcribe.decoding import Audio, Decoder, decode_mix, shifted
from fieldkit.transcribe.loading import cached_model, model_name
from fieldkit.transcribe.options import (
    DEFAULT_OPTIONS,
    ENGINE_HINT,
    HOP_S,
    SAMPLERATE,
    EngineOptions,
    TranscriptionCancelled,
    first_line,
)
from fieldkit.transcribe.stretches import Stretch, StretchRules, cut_stretches

if TYPE_CHECKING:
    from fieldkit.crypto.keys import DataKey

__all__ = [
    "SAMPLERATE",
    "EngineOptions",
    "StretchDone",
    "StretchRules",
    "StretchTranscriber",
    "TranscriptResult",
    "TranscriptionCancelled",
    "transcribe_recording",
]


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
class StretchDone:
    """One stretch, decoded: its segments (in recording time) are final."""

    index: int  # 0 for the first stretch decoded in this call
    start_s: float  # in the recording
    end_s: float
    segments: tuple[Segment, ...]


class StretchTranscriber:
    """Decodes stretches of one recording with one model, channel map and set of options.

    The model is loaded (once per process) when this is made, so a missing or damaged model is
    reported before any audio is read.
    """

    def __init__(
        self,
        model_dir: Path,
        channel_map: Sequence[str] | None = None,
        options: EngineOptions = DEFAULT_OPTIONS,
        cancel: threading.Event | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.speaker_map = _checked_channel_map(channel_map)
        self.decoder = Decoder.create(cached_model(self.model_dir, options), options, cancel)
        self.identical_stretches = 0  # stretches whose two channels held one signal
        self.distinct_stretches = 0  # ... and those that held two people

    @property
    def language(self) -> str:
        return self.decoder.language or "en"

    @property
    def identical_channels(self) -> bool:
        """Every stretch with enough speech to tell held one signal on both channels."""
        return self.identical_stretches > 0 and self.distinct_stretches == 0

    def transcribe_stretch(
        self,
        channels: np.ndarray,
        offset_s: float,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[Segment]:
        """Decode one stretch: float32 16 kHz samples, (frames, 1 or 2), starting `offset_s`
        seconds into the recording. Returns its segments in recording time, each of one speaker
        (by channel, with a channel map and two channels; else "unknown"). `on_progress` gets
        the fraction of this stretch done. It should end in a pause (see stretches.py)."""
        if channels.ndim != 2 or channels.shape[1] not in (1, 2):
            raise TranscriptionError(
                f"A stretch must be (frames, 1 or 2 channels), not {channels.shape}",
                "Pass mono or two-channel audio",
            )
        report = on_progress or (lambda fraction: None)
        if len(channels) == 0:
            return []
        audio = Audio.of(channels)
        try:
            segments = self._decode(audio, report)
        except TranscriptionError:
            raise
        except Exception as error:  # the engine's own failures (memory, bad input) become one line
            raise TranscriptionError(
                f"Transcription failed at {offset_s:.0f} s ({first_line(error)})", ENGINE_HINT
            ) from None
        return [shifted(segment, offset_s) for segment in segments]

    def _decode(self, audio: Audio, report: Callable[[float], None]) -> list[Segment]:
        if self.speaker_map is None or len(audio.channels) != 2:
            return decode_mix(self.decoder, audio, report)  # speakers unknown
        energy = channel_energy(audio)
        if not speakers.same_signal(energy, HOP_S):
            if speakers.speech_seconds(energy, HOP_S) >= speakers.SAME_SIGNAL_MIN_SPEECH_S:
                self.distinct_stretches += 1
            return decode_two_channels(self.decoder, audio, energy, self.speaker_map, report)
        # One signal on both channels tells nobody apart: once, speakers unknown.
        self.identical_stretches += 1
        return decode_mix(self.decoder, audio.louder_channel(), report)


def transcribe_recording(
    path: Path,
    model_dir: Path,
    channel_map: Sequence[str] | None = None,
    options: EngineOptions = DEFAULT_OPTIONS,
    on_progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    *,
    start_s: float = 0.0,
    rules: StretchRules | None = None,
    on_stretch: Callable[[StretchDone], None] | None = None,
    key: DataKey | None = None,
) -> TranscriptResult:
    """Transcribe a mono or two-channel recording file, stretch by stretch, from `start_s`.

    `channel_map` names the speaker of each channel, e.g. ("interviewer", "participant"); without
    it (or for mono) every segment's speaker is "unknown". `rules` says where stretches are cut
    (default: StretchRules.for_options(options)). Progress is reported as 0..1 of the
    recording (from `start_s`), within stretches and as each finishes; `on_stretch` gets each
    stretch's segments as soon as they are final. Raises AudioError for an unreadable recording,
    TranscriptionError for a missing/corrupt model or an engine failure, TranscriptionCancelled
    when `cancel` is set. An encrypted recording is decrypted in memory with its study's `key`.
    """
    path, model_dir = Path(path), Path(model_dir)
    transcriber = StretchTranscriber(model_dir, channel_map, options, cancel)
    channels, duration = _describe(path, key)
    report = on_progress or (lambda fraction: None)
    span = max(duration - start_s, 1e-6)

    def overall(stretch: Stretch) -> Callable[[float], None]:
        before = stretch.offset_s - start_s
        return lambda f: report(min(1.0, (before + f * stretch.duration_s) / span))

    segments: list[Segment] = []
    end_s = start_s
    rules = rules or StretchRules.for_options(options)
    for index, stretch in enumerate(_stretches(path, start_s, rules, key)):
        done = transcriber.transcribe_stretch(stretch.samples, stretch.offset_s, overall(stretch))
        segments += done
        end_s = stretch.end_s
        if on_stretch is not None:
            on_stretch(StretchDone(index, stretch.offset_s, end_s, tuple(done)))
        report(min(1.0, (end_s - start_s) / span))
    report(1.0)
    return TranscriptResult(
        segments=tuple(segments),
        duration_s=round(max(end_s, start_s), 3),
        channels=channels,
        model=model_name(model_dir),
        language=transcriber.language,
        identical_channels=transcriber.identical_channels,
    )


def _stretches(
    path: Path, start_s: float, rules: StretchRules, key: DataKey | None
) -> Iterator[Stretch]:
    """The recording's stretches from `start_s`, read block by block at 16 kHz."""
    from fieldkit.audio.reader import read_blocks

    with read_blocks(path, start=start_s, samplerate=SAMPLERATE, key=key) as blocks:
        yield from cut_stretches(blocks, rules, start_s)


def _describe(path: Path, key: DataKey | None) -> tuple[int, float]:
    """Channels and duration of a recording; AudioError in the engine's words otherwise."""
    from fieldkit.audio.reader import inspect_audio

    if not path.exists():
        raise AudioError(f"Recording {path} does not exist", "Check the path")
    try:
        info = inspect_audio(path, key=key)
    except AudioError as error:
        reason = error.message.split(": ", 1)[-1]
        raise AudioError(
            f"Recording {path} cannot be read ({reason})", "The file may be damaged or not audio"
        ) from None
    if info.channels not in (1, 2):
        raise AudioError(
            f"Recording {path} has {info.channels} channels",
            "fieldkit transcribes mono or two-channel",
        )
    return info.channels, info.duration_s


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
