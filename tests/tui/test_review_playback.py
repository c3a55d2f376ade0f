"""The review screen's audio through Pilot, on the real sound server: space plays from the cursor's
word and pauses, the cursor follows the words as they are heard, ←/→ move by word and take the
audio along, [ and ] skip 5 s, < and > change the speed. Every wait is on a condition."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from fieldkit.core.diff import words_of
from fieldkit.core.models import Word
from fieldkit.services import playback as playback_service
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow, Interviews
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.review import ReviewScreen
from fieldkit.tui.widgets.review_turns import PLAYING_STYLE, TurnView

SIZE = (120, 40)
NEEDS_REVIEW = "INTSTA006-PEER"
TOLERANCE_S = 0.6  # time that can pass between pressing a key and reading the position


@pytest.fixture
def review_study(tmp_path: Path) -> Iterator[Study]:
    from fieldkit.services.demo import build_demo_study

    study = build_demo_study(tmp_path / "demo", actor="reviewer", transcripts=True)
    yield study
    study.close()


def interview_of(study: Study, pid: str = NEEDS_REVIEW) -> InterviewRow:
    [interview] = Interviews(study.db).for_participant(pid)
    return interview


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 20
) -> None:
    """Let the app run until `condition` holds (the sound server can take a second or two to
    start a stream when both cores are busy)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.05)


async def open_review(
    app: FieldkitApp, pilot: Pilot[None], interview: InterviewRow
) -> ReviewScreen:
    screen = ReviewScreen(interview)
    app.push_screen(screen)
    await wait_until(pilot, lambda: app.screen is screen and bool(screen.word_places))
    return screen


def cursor_word(screen: ReviewScreen) -> Word:
    return words_of(screen.segments[screen.turn])[screen.word or 0]


async def start_playing(pilot: Pilot[None], screen: ReviewScreen) -> None:
    await pilot.press("space")
    await wait_until(pilot, lambda: screen.playing and screen.shown_playing)


async def test_space_plays_from_the_cursor_word_and_the_cursor_follows_the_audio(
    review_study: Study, sound_server: object
) -> None:
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview_of(review_study))
        await pilot.press("down", "right", "right", "right")  # turn 2, its fourth word
        start = cursor_word(screen)
        await start_playing(pilot, screen)
        assert screen.playback is not None
        assert screen.playback.position == pytest.approx(start.start, abs=TOLERANCE_S)
        assert any(n.message.startswith("Playing 00:1") for n in app._notifications)

        # the cursor moves on by itself, always to the word being heard
        await wait_until(pilot, lambda: cursor_word(screen).start >= start.start + 1.0)
        heard = screen.playback.position
        assert cursor_word(screen).start <= heard + TOLERANCE_S
        turn_view = screen.query(TurnView)[screen.turn]
        shown = turn_view.content
        assert isinstance(shown, Text)
        assert any(str(span.style) == PLAYING_STYLE for span in shown.spans)
        assert "▶ 00:" in str(screen.query_one("#review-status", Static).content)

        # space pauses; the cursor stays on the last word heard, and space goes on from it
        await pilot.press("space")
        await pilot.pause()
        assert screen.playback is None and not screen.shown_playing
        paused_at = cursor_word(screen)
        assert paused_at.start > start.start
        await start_playing(pilot, screen)
        assert screen.playback is not None
        assert screen.playback.position == pytest.approx(paused_at.start, abs=TOLERANCE_S)
        await pilot.press("space")


async def test_arrows_while_playing_move_by_word_and_the_audio_goes_with_them(
    review_study: Study, sound_server: object
) -> None:
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview_of(review_study))
        await pilot.press("down", "down", "down", "down")  # "We mostly handed out …" (33–44 s)
        await start_playing(pilot, screen)
        playback = screen.playback
        assert playback is not None
        before = (screen.turn, screen.word or 0)
        await pilot.press("right", "right", "right", "right", "right", "right")
        moved = (screen.turn, screen.word or 0)
        assert moved > before
        assert playback.position == pytest.approx(cursor_word(screen).start, abs=TOLERANCE_S)
        await pilot.press("left", "left", "left")
        assert playback.position == pytest.approx(cursor_word(screen).start, abs=TOLERANCE_S)
        assert (screen.turn, screen.word or 0) < moved

        # ↑/↓ take the audio to the start of the turn as well
        await pilot.press("down")
        assert screen.turn == 5 and screen.word == 0
        assert playback.position == pytest.approx(screen.segments[5].start, abs=TOLERANCE_S)
        assert screen.playback is playback  # the same stream, moved: no reopening
        await pilot.press("space")


async def test_brackets_skip_five_seconds_back_and_on(
    review_study: Study, sound_server: object
) -> None:
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview_of(review_study))
        await pilot.press("down")  # the participant's first turn, 11.7–26.6 s
        await start_playing(pilot, screen)
        playback = screen.playback
        assert playback is not None
        before = playback.position
        await pilot.press("right_square_bracket")
        assert playback.position == pytest.approx(before + 5, abs=TOLERANCE_S)
        assert cursor_word(screen).start == pytest.approx(before + 5, abs=1.5)
        later = playback.position
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert playback.position == pytest.approx(later - 10, abs=TOLERANCE_S)
        assert screen.turn == 0  # back into the interviewer's question
        await pilot.press("space")
        await pilot.pause()

        # without sound they move the cursor to the first word at least 5 s on (or back)
        at = cursor_word(screen).start
        await pilot.press("]")
        on = cursor_word(screen).start
        assert at + 5 <= on < at + 7
        await pilot.press("[")
        assert on - 7 < cursor_word(screen).start <= on - 5


async def test_speed_keys_change_the_playing_speed_within_bounds(
    review_study: Study, sound_server: object
) -> None:
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview_of(review_study))
        await pilot.press("greater_than_sign")  # before playing: the next playback's speed
        assert screen.playback_speed == 1.1
        await start_playing(pilot, screen)
        playback = screen.playback
        assert playback is not None and playback.speed == 1.1
        await pilot.press(">", ">", ">", ">")
        assert screen.playback_speed == playback.speed == 1.5
        assert any("fastest speed" in n.message for n in app._notifications)
        assert "1.5×" in str(screen.query_one("#review-status", Static).content)

        # at 1.5× the position runs ahead of the clock (3 s of audio in about 2 s, not 3)
        flowing = playback.position + 0.3
        await wait_until(pilot, lambda: playback.position >= flowing)  # the stream has started
        before, started = playback.position, time.monotonic()
        await wait_until(pilot, lambda: playback.position >= before + 3.0)
        assert time.monotonic() - started < 2.7
        assert screen.playback is playback  # changing speed keeps the stream

        await pilot.press(*["less_than_sign"] * 6)
        assert screen.playback_speed == playback.speed == 0.75
        assert any("slowest speed" in n.message for n in app._notifications)
        await pilot.press("space")


async def test_playing_to_the_end_lets_go_of_the_device(
    review_study: Study, sound_server: object
) -> None:
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview_of(review_study))
        await pilot.press(*["down"] * 11, *["right"] * 6)  # the last turn's last word
        await start_playing(pilot, screen)
        playback = screen.playback
        assert playback is not None
        await wait_until(pilot, lambda: screen.playback is None)
        assert not playback.active
        assert not screen.shown_playing
        assert screen.turn == 11


async def test_playback_reads_the_audio_through_the_playback_service(
    review_study: Study, sound_server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All of it: the one function a reader for encrypted recordings will replace."""
    reads: list[tuple[float, float]] = []
    original = playback_service._read_recording

    def counting(path: Path, start: float, end: float, samplerate: int) -> object:
        reads.append((start, end))
        return original(path, start, end, samplerate)

    monkeypatch.setattr(playback_service, "_read_recording", counting)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview_of(review_study))
        await pilot.press("down", "down", "down", "down")
        await start_playing(pilot, screen)
        await pilot.press("space")
    assert reads and reads[0][0] == pytest.approx(32.95, abs=0.01)
    assert all(end - start <= 15.0 + 1e-6 for start, end in reads)  # a chunk, not the file
