"""The review screen through Pilot: edit a turn and save a revision, jump to unsure words,
change speakers, split, merge, marks, search, question markers, read-only after sending."""

from __future__ import annotations

import pytest
from textual.widgets import Static, TextArea

from fieldkit.core.diff import words_of
from fieldkit.core.models import Speaker
from fieldkit.services.review import LOW_PROBABILITY
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow, Transcripts
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.review import EditTurn, ReviewScreen, find_next
from fieldkit.tui.widgets.review_turns import QuestionLine, ReviewTurns
from tests.tui.conftest import interview_of

from .conftest import wait_for_notification, wait_for_screen, wait_until

SIZE = (120, 40)
NEEDS_REVIEW = "INTSTA006-PEER"  # demo states: 006 needs review, 008 sent (overdue)
SENT = "INTSTA008-PEER"


def latest_segments(study: Study, interview: InterviewRow) -> tuple[int, list]:  # type: ignore[type-arg]
    row = Transcripts(study.db).revision(interview.id)
    assert row is not None
    return row.revision, Transcripts(study.db).segments(row.id)


async def open_review(app: FieldkitApp, pilot: object, interview: InterviewRow) -> ReviewScreen:
    screen = ReviewScreen(interview)
    app.push_screen(screen)
    await wait_until(pilot, lambda: app.screen is screen and screen.is_mounted)  # type: ignore[arg-type]
    await pilot.pause()  # type: ignore[attr-defined]
    return screen


async def test_edit_a_turn_and_save_a_revision(review_study: Study) -> None:
    interview = interview_of(review_study, NEEDS_REVIEW)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        await pilot.press("down", "down", "down", "down", "down", "down", "down", "down", "down")
        assert screen.turn == 9
        original = screen.segments[9].text
        assert original.startswith("And I live,")
        await pilot.press("e")
        edit = await wait_for_screen(pilot, EditTurn)
        editor = edit.query_one(TextArea)
        editor.text = original.replace("And I live,", "And finally,")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen)
        assert "1 unsaved change" in str(screen.query_one("#review-bar", Static).content)
        await pilot.press("ctrl+s")
        await pilot.pause()
    revision, segments = latest_segments(review_study, interview)
    assert revision == 1
    assert segments[9].text.startswith("And finally, why did you choose")
    # the words that did not change kept their times and probabilities
    machine = Transcripts(review_study.db).segments(
        Transcripts(review_study.db).revision(interview.id, 0).id  # type: ignore[union-attr]
    )
    assert segments[9].words[-1] == machine[9].words[-1]
    assert segments[9].words[0].word == "And" and segments[9].words[1].word == "finally,"
    history = review_study.db["revision_notes"].rows
    assert any("text edited" in r["summary"] for r in history)
    row = review_study.db["transcripts"].get(2)  # ids: one machine per demo interview first
    assert row is not None
    entries = [e for e in review_study.db["audit_log"].rows if e["action"] == "transcript revised"]
    assert any(e["participant_id"] == NEEDS_REVIEW and e["actor"] == "reviewer" for e in entries)
    assert not any("finally" in e["detail"] for e in entries)  # no transcript text in the log


async def test_n_jumps_to_the_next_low_probability_word(review_study: Study) -> None:
    interview = interview_of(review_study, NEEDS_REVIEW)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        seen: list[tuple[int, int]] = []
        for _ in range(3):
            await pilot.press("n")
            await pilot.pause()
            assert screen.word is not None
            word = words_of(screen.segments[screen.turn])[screen.word]
            assert word.probability < LOW_PROBABILITY
            seen.append((screen.turn, screen.word))
        assert seen == sorted(seen) and len(set(seen)) == 3
        assert f"p={word.probability:.2f}" in str(
            screen.query_one("#review-status", Static).content
        )


async def test_speaker_split_merge_and_marks(review_study: Study) -> None:
    interview = interview_of(review_study, NEEDS_REVIEW)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        count = len(screen.segments)
        await pilot.press("down", "down", "down")  # "On the ward?" (participant)
        assert screen.segments[3].text == "On the ward?"
        await pilot.press("m")  # merge with "We mostly …" (participant too)
        await pilot.pause()
        assert len(screen.segments) == count - 1
        assert screen.segments[3].text.startswith("On the ward? We mostly")
        await pilot.press("right", "right", "right", "x")  # split before "We"
        await pilot.pause()
        assert len(screen.segments) == count
        assert screen.segments[3].text == "On the ward?"
        assert screen.segments[4].text.startswith("We mostly")
        assert screen.turn == 4
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("3")  # the chooser: interviewer, participant, unknown
        await pilot.pause()
        assert screen.segments[4].speaker is Speaker.UNKNOWN
        await pilot.press("s", "1")
        await pilot.pause()
        assert screen.segments[4].speaker is Speaker.INTERVIEWER
        await pilot.press("s", "1")  # for an interviewer turn the participant comes first
        await pilot.pause()
        assert screen.segments[4].speaker is Speaker.PARTICIPANT
        await pilot.press("right", "i")
        await pilot.pause()
        assert screen.segments[4].text.startswith("We [inaudible] mostly")
        await pilot.press("c")
        await pilot.pause()
        assert "[crosstalk]" in screen.segments[4].text
        await pilot.press("ctrl+s")
        await pilot.pause()
    _, segments = latest_segments(review_study, interview)
    assert segments[3].text == "On the ward?"
    assert segments[4].speaker is Speaker.PARTICIPANT
    assert segments[4].text.startswith("We [crosstalk] [inaudible] mostly") or segments[
        4
    ].text.startswith("We [inaudible] [crosstalk] mostly")
    mark = next(w for w in segments[4].words if w.word == "[inaudible]")
    assert segments[4].start <= mark.start <= segments[4].end


async def test_question_markers_and_search(review_study: Study) -> None:
    interview = interview_of(review_study, NEEDS_REVIEW)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        lines = [str(q.content) for q in screen.query(QuestionLine)]
        assert len(lines) == 4
        assert "could you tell me about the mental-health services" in lines[0]
        await pilot.press("slash")
        await pilot.pause()
        await pilot.press(*"riverton", "enter")
        await pilot.pause()
        assert screen.segments[screen.turn].speaker is Speaker.PARTICIPANT
        assert words_of(screen.segments[screen.turn])[screen.word or 0].word == "Riverton"
        await pilot.press("slash")
        await pilot.pause()
        await pilot.press(*"no such words", "enter")
        await wait_for_notification(pilot, "is not in this transcript")


def test_find_next_matches_phrases_and_wraps(review_study: Study) -> None:
    interview = interview_of(review_study, NEEDS_REVIEW)
    _, segments = latest_segments(review_study, interview)
    first = find_next(segments, "recovery", 0, 0)
    assert first is not None and segments[first[0]].speaker is Speaker.PARTICIPANT
    second = find_next(segments, "recovery", *first)
    assert second is not None and second > first
    assert find_next(segments, "peer support worker", 0, 0) is not None
    last = max(
        p
        for p in [find_next(segments, "recovery", i, 0) for i in range(len(segments))]
        if p is not None
    )
    assert find_next(segments, "recovery", *last) == first  # wraps round


async def test_a_sent_transcript_is_read_only(review_study: Study) -> None:
    interview = interview_of(review_study, SENT)
    before, _ = latest_segments(review_study, interview)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        assert "read only" in str(screen.query_one("#review-bar", Static).content)
        await pilot.press("s")
        await wait_for_notification(pilot, "can no longer be edited", "error")
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert latest_segments(review_study, interview)[0] == before


async def test_playing_without_an_output_device_says_so(
    review_study: Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No sound card and no sound server here: a clear notification, and the review goes on."""
    from fieldkit.audio import playback
    from fieldkit.errors import AudioError

    def no_device(*args: object, **kwargs: object) -> None:
        raise AudioError("no audio output device found", playback.NO_OUTPUT_HINT)

    monkeypatch.setattr(playback, "_default_output", no_device)
    interview = interview_of(review_study, NEEDS_REVIEW)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        await pilot.press("space")
        await wait_for_notification(pilot, "No audio output device found", "error")
        assert screen.playback is None
        await pilot.press("down")
        assert screen.turn == 1


async def test_escape_with_unsaved_changes_asks_first(review_study: Study) -> None:
    interview = interview_of(review_study, NEEDS_REVIEW)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        await pilot.press("s", "3", "escape")  # a change, then Escape
        await wait_until(pilot, lambda: app.screen is not screen)  # the Confirm dialog
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is screen)
        assert screen.query_one(ReviewTurns) is not None


async def test_space_plays_the_turn_on_a_real_output_device_and_stops_it(
    review_study: Study, sound_server: object
) -> None:
    """Through the sound server's null sink: the turn starts playing, and space stops it."""
    interview = interview_of(review_study, NEEDS_REVIEW)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.playback is not None)  # opened in a worker
        assert screen.playback is not None and screen.playback.active
        await wait_for_notification(pilot, "Playing 00:00")
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.playback is None)
