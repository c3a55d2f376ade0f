"""Helpers for the tests of transcription while recording (issue 12 §1): a two-minute
two-channel interview of espeak-ng speech, short stretch rules so that it holds several stretches,
and waits on the stored parts."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from fieldkit.core.models import Segment
from fieldkit.services.study import Study
from fieldkit.store.parts import TranscriptParts
from tests.speech import two_speaker_wav

# Stretches of 15-40 s: the two-minute interview holds three closed stretches and a tail.
SHORT_RULES = "min_s=15,max_s=40"
PID = "INTSTA002-CLIN"  # consented in the demo study
OTHER_PID = "INTSTA001-PEER"  # consented too

QUESTIONS = [
    "Thank you for coming in today. Can you tell me about your week?",
    "What helped you most during the week?",
    "How do you feel about the future?",
    "Can you say more about the clinic visits?",
    "Who do you talk to when things are hard?",
    "What would you change about the service?",
]
ANSWERS = [
    "It has been a hard week, but I am managing. My sister visited on Sunday and we cooked.",
    "Talking with the peer support worker helped. She listens to me and she never rushes.",
    "I think my recovery is slow, but I am hopeful about it now. Every month is better.",
    "The nurse at the clinic is kind. The waiting room is crowded and the buses are late.",
    "Mostly my sister, and sometimes my neighbour. We walk the dog in the park at night.",
    "I would like longer appointments, and a phone number that somebody answers at night.",
]


def interview_wav(path: Path, rounds: int = 2) -> Path:
    """About a minute of questions and answers per round (two rounds: about two minutes)."""
    turns: list[tuple[str, str, float]] = []
    for _ in range(rounds):
        for question, answer in zip(QUESTIONS, ANSWERS, strict=True):
            turns += [("interviewer", question, 1.2), ("participant", answer, 1.2)]
    two_speaker_wav(turns, path)
    return path


def stored_parts(study: Study, recording_id: int) -> int:
    return TranscriptParts(study.db).count(recording_id)


RESUMED = re.compile(r"recording (\d+): (\d+) stretch\(es\) stored, resuming at ([\d.]+) of")


def resumed_at(study: Study, recording_id: int) -> float:
    """Where the job started decoding the recording (after the stretches stored while it was
    recorded), from the worker's log; 0.0 if it decoded all of it."""
    from fieldkit.services.transcription import WORKER_LOG

    log = study.root / "logs" / WORKER_LOG
    text = log.read_text() if log.exists() else ""
    found = [float(m[3]) for m in RESUMED.finditer(text) if int(m[1]) == recording_id]
    return found[-1] if found else 0.0


def wait_until(what: str, ready: Callable[[], bool], seconds: float, poll_s: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(poll_s)


def as_compared(segments: Sequence[Segment]) -> list[tuple[str, str, float, float]]:
    """What must be equal between a transcript made while recording and an offline one."""
    return [(s.speaker.value, s.text, round(s.start, 3), round(s.end, 3)) for s in segments]


def offline_segments(
    study: Study, path: Path, channel_map: Sequence[str], offset_s: float = 0.0
) -> list[Segment]:
    """The recording transcribed from its start, as an offline job would (same settings and
    stretch rules), in interview time."""
    from fieldkit.services.transcription import _shifted, stretch_settings
    from fieldkit.transcribe.engine import transcribe_recording

    model_dir, options, rules = stretch_settings(study, None)
    result = transcribe_recording(
        path,
        model_dir,
        channel_map=tuple(channel_map) or None,
        options=options,
        rules=rules,
        key=study.data_key,
    )
    return [_shifted(segment, offset_s) for segment in result.segments]
