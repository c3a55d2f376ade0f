"""The live guard on its own: the real engine process, fed faster than it can listen."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import soundfile as sf

from fieldkit.core.guard import GuardTracker
from fieldkit.core.models import GuardedTerm, Speaker, Word
from fieldkit.paths import shipped_demo_audio
from fieldkit.services.live_guard import (
    LiveGuard,
    LiveStatus,
    _runs_by_speaker,
    _text_and_first_term_time,
)
from fieldkit.transcribe.models import bundled_model_dir

RECOVERY = GuardedTerm(
    term="recovery",
    forms=("recover", "recovering"),
    follow_up_id="recovery-meaning",
    follow_up="You mentioned recovery — what does recovery mean to you?",
)


def test_the_time_of_a_run_is_the_time_of_the_word_with_the_term() -> None:
    tracker = GuardTracker([RECOVERY])
    words = [
        Word(10.0, 10.4, "I", 0.9, Speaker.PARTICIPANT),
        Word(10.4, 10.9, "hope", 0.9, Speaker.PARTICIPANT),
        Word(11.9, 12.5, "recovery", 0.9, Speaker.PARTICIPANT),
    ]
    assert _text_and_first_term_time(words, tracker) == ("I hope recovery", 11.9)
    runs = _runs_by_speaker([*words, Word(13, 13.5, "Why?", 0.9, Speaker.INTERVIEWER)])
    assert [len(run) for run in runs] == [3, 1]


@pytest.mark.model
def test_a_guard_that_cannot_keep_up_skips_audio_and_says_so(tmp_path: Path) -> None:
    audio, rate = sf.read(shipped_demo_audio("demo-interview.flac"), dtype="float32")
    statuses: list[LiveStatus] = []
    guard = LiveGuard(
        GuardTracker([RECOVERY]),
        bundled_model_dir(),
        ("interviewer", "participant"),
        rate,
        on_status=statuses.append,
    )
    guard.start()
    try:
        block = int(0.1 * rate)
        # 90 s of audio in an instant: far faster than any engine can listen
        for start in range(0, len(audio) - block, block):
            guard.feed(audio[start : start + block], start / rate)
        deadline = time.monotonic() + 5
        while not any(s.state == "behind" for s in statuses) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        guard.close()
    behind = [s for s in statuses if s.state == "behind"]
    assert behind, [s.state for s in statuses]
    assert behind[-1].skipped_s > 0
    assert "the recording is unaffected" in behind[-1].message
    assert statuses[-1].state == "stopped"
