"""The live guard and a word cut at a chunk edge (issue 9, item 17).

Chunks overlap by a second. A word cut at one chunk's end ("re-") is heard whole in the next
("recovery"); the guard used to drop the whole word as already heard, so nothing was raised.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from fieldkit.core.guard import GuardEvent, GuardEventKind, GuardTracker
from fieldkit.core.models import GuardedTerm, Speaker
from fieldkit.services.live_guard import (
    ENGINE_RATE,
    LiveGuard,
    _Chunk,
    _Heard,
    _words_to_judge,
)
from fieldkit.transcribe.models import bundled_model_dir
from tests.speech import _spoken, espeak_available

RECOVERY = GuardedTerm(
    term="recovery",
    forms=("recover", "recovering"),
    follow_up_id="recovery-meaning",
    follow_up="You mentioned recovery — what does recovery mean to you?",
)
NEVER = float("inf")


def texts(words: list[tuple[float, float, str, float]]) -> list[str]:
    return [word[2] for word in words]


def test_a_word_cut_at_the_chunk_end_is_judged_whole_in_the_next_chunk() -> None:
    first = [(3.2, 3.6, "my", 0.9), (3.6, 4.3, "slow", 0.9), (4.6, 5.0, "re-", 0.3)]
    judged, heard = _words_to_judge(first, _Heard(), judge_until=4.0)
    assert texts(judged) == ["my", "slow"]  # "re-" starts in the overlap: the next chunk's
    second = [(4.05, 4.3, "slow", 0.5), (4.6, 5.3, "recovery", 0.9), (5.3, 5.6, "is", 0.9)]
    judged, _ = _words_to_judge(second, heard, judge_until=8.0)
    assert texts(judged) == ["recovery", "is"]


def test_a_word_judged_already_is_not_judged_again() -> None:
    judged, heard = _words_to_judge([(3.7, 4.2, "recovery", 0.9)], _Heard(), judge_until=4.0)
    assert texts(judged) == ["recovery"]
    again = [(4.0, 4.25, "Recovery", 0.6), (4.3, 4.6, "and", 0.9)]
    assert texts(_words_to_judge(again, heard, judge_until=8.0)[0]) == ["and"]
    cut_tail = [(4.0, 4.15, "covery", 0.2), (4.3, 4.6, "and", 0.9)]
    assert texts(_words_to_judge(cut_tail, heard, judge_until=8.0)[0]) == ["and"]


def test_a_new_word_squeezed_to_the_chunk_start_is_still_judged() -> None:
    first = [(3.5, 3.98, "It", 0.8), (4.1, 4.34, "really", 0.8)]
    judged, heard = _words_to_judge(first, _Heard(), judge_until=4.0)
    assert texts(judged) == ["It"]
    second = [(4.0, 4.34, "really", 0.3), (4.34, 4.8, "helped", 0.5)]
    assert texts(_words_to_judge(second, heard, judge_until=8.0)[0]) == ["really", "helped"]


def test_the_last_chunk_judges_every_word() -> None:
    words = [(20.2, 20.6, "my", 0.9), (23.5, 24.0, "recovery", 0.9)]
    assert texts(_words_to_judge(words, _Heard(), judge_until=NEVER)[0]) == ["my", "recovery"]


def chunk_audio(start_at: float, seconds: float, loud_channel: int) -> np.ndarray:
    """Noise standing in for speech: loud on one channel, its bleed 20 dB down on the other."""
    rng = np.random.default_rng(0)
    audio = np.zeros((int(seconds * ENGINE_RATE), 2), np.float32)
    audio[:, loud_channel] = rng.normal(0, 0.1, len(audio))
    audio[:, 1 - loud_channel] = audio[:, loud_channel] * 0.1
    return audio


def test_the_issue_case_raises_the_term() -> None:
    """ "re-" at 4.6-5.0 s in one chunk, "recovery" at 4.6-5.3 s in the next: raised."""
    events: list[GuardEvent] = []
    guard = LiveGuard(
        GuardTracker([RECOVERY]),
        bundled_model_dir(),
        ("interviewer", "participant"),
        ENGINE_RATE,
        on_event=events.append,
    )  # not started: the engine's answers are played in by hand
    guard._chunks[0] = _Chunk(0.0, chunk_audio(0.0, 5.0, 1), judge_until=4.0)
    guard._chunks[1] = _Chunk(4.0, chunk_audio(4.0, 5.0, 1), judge_until=8.0)
    guard._judge(
        0, [[], [(3.0, 3.5, "It", 0.9), (3.5, 4.0, "helped", 0.9), (4.6, 5.0, "re-", 0.3)]]
    )
    assert events == []
    guard._judge(1, [[], [(4.0, 4.3, "helped", 0.4), (4.6, 5.3, "recovery", 0.9)]])
    assert [(e.kind, e.speaker, e.at) for e in events] == [
        (GuardEventKind.RAISED, Speaker.PARTICIPANT, 4.6)
    ]


def two_channel_recording(phrase: np.ndarray, starts: list[float], seconds: float) -> np.ndarray:
    audio = np.zeros((int(seconds * ENGINE_RATE), 2), np.float32)
    for start in starts:
        first = int(start * ENGINE_RATE)
        audio[first : first + len(phrase), 1] += phrase  # the participant's microphone
        audio[first : first + len(phrase), 0] += phrase * 0.1  # their bleed on the other one
    return audio


@pytest.mark.model
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
def test_the_real_engine_raises_a_term_said_across_a_chunk_edge(tmp_path: Path) -> None:
    phrase = _spoken(
        "It really helped my recovery a lot", "en-gb+f3", ENGINE_RATE, tmp_path / "p.wav"
    )
    # Chunks start every 4 s and end 5 s later; "recovery" falls across the end of chunks 0, 2
    # and 4 (the tiny model hears "wick." / "recovery." cut there, and "recovery" whole after).
    starts = [3.65, 8 + 3.6, 16 + 3.55]
    audio = two_channel_recording(phrase * 0.5, starts, seconds=24.0)
    events: list[GuardEvent] = []
    guard = LiveGuard(
        GuardTracker([RECOVERY]),
        bundled_model_dir(),
        ("interviewer", "participant"),
        ENGINE_RATE,
        on_event=events.append,
    )
    guard.start()
    try:
        block = int(0.1 * ENGINE_RATE)
        for first in range(0, len(audio), block):
            guard.feed(audio[first : first + block], first / ENGINE_RATE)
            deadline = time.monotonic() + 60
            while guard.pending_chunks >= 2 and time.monotonic() < deadline:
                time.sleep(0.02)  # never let the guard fall behind and skip audio
    finally:
        guard.close(drain_s=60)
    heard = [e for e in events if e.term == "recovery" and e.speaker is Speaker.PARTICIPANT]
    assert heard and heard[0].kind is GuardEventKind.RAISED
    for start in starts:  # each use of the word was judged, once
        near = [e for e in heard if start < e.at < start + 2.5]
        assert len(near) == 1, (start, [(e.kind.value, e.at) for e in heard])
    assert guard.status.state == "stopped"


# -- one microphone on both channels ----------------------------------------------------------


def feed_seconds(guard: LiveGuard, audio: np.ndarray) -> None:
    block = int(0.1 * ENGINE_RATE)
    for first in range(0, len(audio), block):
        guard.feed(audio[first : first + block], first / ENGINE_RATE)


def test_one_signal_on_both_channels_is_listened_to_once_and_attributed_to_nobody() -> None:
    """A mono microphone recorded as two channels: every word would look like the
    interviewer's (the first of two equal channels), so each participant's use of a term
    would be a false breach warning."""
    events: list[GuardEvent] = []
    statuses: list[str] = []
    guard = LiveGuard(
        GuardTracker([RECOVERY]),
        bundled_model_dir(),
        ("interviewer", "participant"),
        ENGINE_RATE,
        on_event=events.append,
        on_status=lambda status: statuses.append(status.message),
    )  # not started: the chunks stay in the queue, the engine's answers are played in by hand
    voice = chunk_audio(0.0, 5.2, 1)[:, 1]
    feed_seconds(guard, np.stack([voice, voice * 0.7], axis=1))
    chunk_id, _, channels = guard._jobs.get_nowait()
    assert channels[0] is not None and channels[1] is None  # the model hears it once
    assert any("cannot tell who speaks" in message for message in statuses)
    guard._judge(chunk_id, [[(1.0, 1.6, "recovery", 0.9)], []])
    assert [(e.kind, e.speaker) for e in events] == [(GuardEventKind.MENTION, Speaker.UNKNOWN)]
    assert guard.tracker.state("recovery").value == "locked"


def test_two_people_on_two_microphones_are_still_told_apart() -> None:
    guard = LiveGuard(
        GuardTracker([RECOVERY]), bundled_model_dir(), ("interviewer", "participant"), ENGINE_RATE
    )
    interviewer, participant = chunk_audio(0.0, 5.2, 0), chunk_audio(0.0, 5.2, 1)
    half = len(interviewer) // 2
    audio = np.concatenate([interviewer[:half], participant[half:]])
    feed_seconds(guard, audio)
    _, _, channels = guard._jobs.get_nowait()
    assert channels[0] is not None and channels[1] is not None
    assert not guard._one_signal
