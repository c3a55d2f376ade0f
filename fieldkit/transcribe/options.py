"""What every stage of the engine shares: the sample rate, the options, cancellation. No heavy
imports here."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from fieldkit.errors import TranscriptionError
from fieldkit.transcribe.speakers import DEFAULT_HOP_S

SAMPLERATE = 16000  # Whisper's input rate
HOP_S = DEFAULT_HOP_S  # energy measurements (speakers, pauses) in hops of this length
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


DEFAULT_OPTIONS = EngineOptions()


def check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise TranscriptionCancelled("Transcription cancelled", "Start it again to redo it")


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:160]
