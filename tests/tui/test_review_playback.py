"""The review screen's audio through Pilot, on the real sound server: space plays from the cursor's
word and pauses, the cursor follows the words as they are heard, ←/→ move by word and take the
audio along, [ and ] skip 5 s, < and > change the speed. Every wait is on a condition."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from fieldkit.audio.playback import Playback
from fieldkit.core.diff import words_of
from fieldkit.core.models import Word
from fieldkit.services import playback as playback_service
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow
from fieldkit.tui import playing
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.review import ReviewScreen
from fieldkit.tui.widgets.review_turns import PLAYING_STYLE, TurnView
from tests.tui.conftest import interview_of, wait_until

SIZE = (120, 40)
NEEDS_REVIEW = "INTSTA006-PEER"


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


# A loaded machine can take seconds over a key press while the audio plays on, so the tests
# check what each key asked of the playback (recorded by these spies) rather than where the
# audio has got to by the time the test looks.


class SeekSpy:
    """Records every seek: (target, the position when it was asked)."""

    def __init__(self, playback: Playback) -> None:
        self.seeks: list[tuple[float, float]] = []
        original = playback.seek

        def seek(at: float) -> None:
            self.seeks.append((at, playback.position))
            original(at)

        playback.seek = seek  # type: ignore[method-assign]


def record_cursor_before(screen: ReviewScreen, action: str) -> list[tuple[int, int]]:
    """Where the cursor was each time `action` ran (before it moved it)."""
    seen: list[tuple[int, int]] = []
    original = getattr(screen, f"action_{action}")

    def recording(*args: object) -> object:
        seen.append((screen.turn, screen.word or 0))
        return original(*args)

    setattr(screen, f"action_{action}", recording)
    return seen


def record_play_starts(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    starts: list[float] = []
    real = playing.play

    def play(audio: object, start: float, end: float | None = None, speed: float = 1.0) -> object:
        starts.append(start)
        return real(audio, start, end, speed)  # type: ignore[arg-type]

    monkeypatch.setattr(playing, "play", play)
    return starts


def word_start(screen: ReviewScreen, turn: int, word: int) -> float:
    return words_of(screen.segments[turn])[word].start


def following(screen: ReviewScreen, turn: int, word: int, step: int) -> tuple[int, int]:
    """The word `step` (±1) away in reading order, across turns."""
    word += step
    if word < 0:
        turn -= 1
        word = len(words_of(screen.segments[turn])) - 1
    elif word >= len(words_of(screen.segments[turn])):
        turn, word = turn + 1, 0
    return turn, word


async def test_space_plays_from_the_cursor_word_and_the_cursor_follows_the_audio(
    review_study: Study, sound_server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = record_play_starts(monkeypatch)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview_of(review_study, NEEDS_REVIEW))
        await pilot.press("down", "right", "right", "right")  # turn 2, its fourth word
        start = cursor_word(screen)
        await start_playing(pilot, screen)
        assert starts == [start.start]
        assert screen.playback is not None
        assert screen.playback.position >= start.start - 0.01
        assert any(n.message.startswith("Playing 00:1") for n in app._notifications)

        # the cursor moves on by itself, to the word being heard (never ahead of it)
        await wait_until(pilot, lambda: cursor_word(screen).start >= start.start + 1.0)
        assert cursor_word(screen).start <= screen.playback.position + 0.01
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
        assert starts == [start.start, paused_at.start]
        await pilot.press("space")


async def test_arrows_while_playing_move_by_word_and_the_audio_goes_with_them(
    review_study: Study, sound_server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Once playing, only the keys move the cursor here: the cursor following the audio is
    # tested above, and on a busy machine it would move the cursor between a key and the check.
    follow_on = [True]
    real_follow = ReviewScreen.follow_playback

    def follow(screen: ReviewScreen) -> None:
        if follow_on[0]:
            real_follow(screen)

    monkeypatch.setattr(ReviewScreen, "follow_playback", follow)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview_of(review_study, NEEDS_REVIEW))
        await pilot.press("down", "down", "down", "down")  # "We mostly handed out …" (33–44 s)
        await start_playing(pilot, screen)
        follow_on[0] = False
        playback = screen.playback
        assert playback is not None
        spy = SeekSpy(playback)
        before_word = record_cursor_before(screen, "word")
        for key, step in [("right", 1)] * 3 + [("left", -1)] * 3:
            await pilot.press(key)
            target = following(screen, *before_word[-1], step)
            assert spy.seeks[-1][0] == word_start(screen, *target)  # the next/previous word
            assert playback.position >= spy.seeks[-1][0] - 0.01
            assert cursor_word(screen).start <= playback.position + 0.01
        assert len(spy.seeks) == 6

        # ↑/↓ take the audio to the start of the turn as well
        before_turn = record_cursor_before(screen, "turn")
        await pilot.press("down")
        assert spy.seeks[-1][0] == screen.segments[before_turn[-1][0] + 1].start
        assert screen.playback is playback  # the same stream, moved: no reopening
        await pilot.press("space")


async def test_brackets_skip_five_seconds_back_and_on(
    review_study: Study, sound_server: object
) -> None:
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview_of(review_study, NEEDS_REVIEW))
        await pilot.press("down")  # the participant's first turn, 11.7–26.6 s
        await start_playing(pilot, screen)
        playback = screen.playback
        assert playback is not None
        spy = SeekSpy(playback)
        await pilot.press("right_square_bracket")
        target, asked_at = spy.seeks[-1]
        assert target == pytest.approx(asked_at + 5, abs=0.01)
        assert playback.position >= target - 0.01
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert [t - at for t, at in spy.seeks[1:]] == pytest.approx([-5, -5], abs=0.01)
        assert cursor_word(screen).start <= playback.position + 0.01
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
        screen = await open_review(app, pilot, interview_of(review_study, NEEDS_REVIEW))
        await pilot.press("greater_than_sign")  # before playing: the next playback's speed
        assert screen.playback_speed == 1.1
        await start_playing(pilot, screen)
        playback = screen.playback
        assert playback is not None and playback.speed == 1.1
        await pilot.press(">", ">", ">", ">")
        assert screen.playback_speed == playback.speed == 1.5
        assert any("fastest speed" in n.message for n in app._notifications)
        assert "1.5×" in str(screen.query_one("#review-status", Static).content)

        # the same stream plays on (tests/audio/test_playback_speed.py checks what is heard)
        before = playback.position
        await wait_until(pilot, lambda: playback.position >= before + 1.0)
        assert screen.playback is playback

        await pilot.press(*["less_than_sign"] * 6)
        assert screen.playback_speed == playback.speed == 0.75
        assert any("slowest speed" in n.message for n in app._notifications)
        await pilot.press("space")


async def test_playing_to_the_end_lets_go_of_the_device(
    review_study: Study, sound_server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Playback] = []
    real = playing.play

    def play(audio: object, start: float, end: float | None = None, speed: float = 1.0) -> object:
        opened.append(real(audio, start, end, speed))  # type: ignore[arg-type]
        return opened[-1]

    monkeypatch.setattr(playing, "play", play)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview_of(review_study, NEEDS_REVIEW))
        await pilot.press(*["down"] * 11, *["right"] * 6)  # the last turn's last word
        await pilot.press("space")
        # About a second and a half of audio: on a busy machine it may have ended before this
        # test first looks, so wait for it to have started, not for it to be playing.
        await wait_until(pilot, lambda: bool(opened))
        await wait_until(pilot, lambda: screen.playback is None)
        assert not opened[0].active
        assert not screen.shown_playing
        assert screen.turn == 11


async def test_playback_reads_the_audio_through_the_playback_service(
    review_study: Study, sound_server: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """All of it: the one function a reader for encrypted recordings will replace; and no
    temporary file, in the temporary folder or the study's, holds any of it on the way."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    study_files = {p for p in review_study.root.rglob("*") if p.is_file()}
    reads: list[tuple[float, float]] = []
    original = playback_service._read_recording

    def counting(path: Path, start: float, end: float, samplerate: int, **key: object) -> object:
        reads.append((start, end))
        return original(path, start, end, samplerate, **key)  # type: ignore[arg-type]

    monkeypatch.setattr(playback_service, "_read_recording", counting)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview_of(review_study, NEEDS_REVIEW))
        await pilot.press("down", "down", "down", "down")
        await start_playing(pilot, screen)
        await pilot.press("space")
    assert reads and reads[0][0] == pytest.approx(32.95, abs=0.01)
    assert all(end - start <= 15.0 + 1e-6 for start, end in reads)  # a chunk, not the file
    assert list(temp.iterdir()) == []
    assert {p for p in review_study.root.rglob("*") if p.is_file()} <= study_files
