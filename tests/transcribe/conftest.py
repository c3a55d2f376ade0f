"""Session fixtures: the bundled model loaded once, and speech synthesized once with espeak-ng."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from fieldkit.transcribe.engine import TranscriptResult

try:  # `tests` is importable when the repo root is on sys.path (pytest's pythonpath = ["."])
    from tests.speech import TurnTiming, mono_wav, two_speaker_wav
except ImportError:  # rootdir-relative import mode puts tests/ itself on sys.path
    from speech import TurnTiming, mono_wav, two_speaker_wav  # type: ignore[no-redef]

# A short interview: the participant raises "recovery"; the interviewer talks over the last answer.
INTERVIEW_TURNS: list[tuple[str, str] | tuple[str, str, float]] = [
    ("interviewer", "Thank you for coming in today. Can you tell me about your week?"),
    ("participant", "It has been a hard week, but I am managing. My sister visited on Sunday."),
    ("interviewer", "What helped you most during the week?"),
    ("participant", "Talking with the peer support worker helped. She listens to me."),
    ("interviewer", "How do you feel about the future?"),
    ("participant", "I think my recovery is slow, but I am hopeful about it now."),
    ("interviewer", "That sounds really important to you.", -1.5),
    ("participant", "Yes it is. Thank you for asking."),
]
CHANNEL_MAP = ("interviewer", "participant")


@dataclass(frozen=True)
class Interview:
    path: Path
    turns: list[TurnTiming]


@dataclass(frozen=True)
class Transcribed:
    result: TranscriptResult
    progress: list[float]


@pytest.fixture(scope="session")
def needs_speech(espeak: str) -> None:
    """Tests that synthesize speech skip without espeak-ng (fail under FIELDKIT_REQUIRE_ALL)."""


@pytest.fixture(scope="session")
def model_dir() -> Path:
    from fieldkit.transcribe.models import bundled_model_dir

    return bundled_model_dir()


@pytest.fixture(scope="session")
def whisper_model(model_dir: Path) -> object:
    from fieldkit.transcribe.loading import cached_model

    return cached_model(model_dir)


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def interview(needs_speech: None, speech_dir: Path) -> Interview:
    path = speech_dir / "interview.wav"
    return Interview(path, two_speaker_wav(INTERVIEW_TURNS, path))


@pytest.fixture(scope="session")
def transcribed_interview(
    interview: Interview, model_dir: Path, whisper_model: object
) -> Transcribed:
    from fieldkit.transcribe.engine import transcribe_recording

    progress: list[float] = []
    result = transcribe_recording(
        interview.path, model_dir, CHANNEL_MAP, on_progress=progress.append
    )
    return Transcribed(result, progress)


@pytest.fixture(scope="session")
def mono_recording(needs_speech: None, speech_dir: Path) -> Path:
    return mono_wav(
        "We spoke about the garden and the cooking group on Tuesday.", speech_dir / "mono.wav"
    )
