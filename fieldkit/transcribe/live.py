"""The live guard's fast path: a few seconds of one channel, decoded at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from fieldkit.core.models import Speaker, Word
from fieldkit.errors import TranscriptionError
from fieldkit.transcribe import speakers
from fieldkit.transcribe.crosstalk import OWN_SPEECH_MIN_SHARE, gated
from fieldkit.transcribe.decoding import words_of
from fieldkit.transcribe.options import ENGINE_HINT, HOP_S, SAMPLERATE, first_line

if TYPE_CHECKING:
    from faster_whisper import WhisperModel


def transcribe_chunk(
    model: WhisperModel,
    audio: np.ndarray,
    vocabulary: Sequence[str] = (),
    *,
    offset_s: float = 0.0,
    speaker: Speaker = Speaker.UNKNOWN,
    other_channel: np.ndarray | None = None,
) -> list[Word]:
    """A few seconds of mono 16 kHz float32 audio -> words.

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
        samples = gated(samples, own_speech[:, 0], 0.0, len(samples) / SAMPLERATE)
    terms = [term.strip() for term in vocabulary if term.strip()]
    try:
        segments, _ = model.transcribe(
            samples,
            beam_size=1,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            hotwords=", ".join(terms) if terms else None,
            language=None if model.model.is_multilingual else "en",
        )
        words = [word for raw in segments for word in words_of(raw, speaker)]
    except Exception as error:
        raise TranscriptionError(
            f"Live transcription failed ({first_line(error)})", ENGINE_HINT
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
