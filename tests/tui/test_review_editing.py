"""The review screen's editing keys through Pilot: M merges with the previous turn, s offers the
two speakers first and "Unknown speaker" last, n says how many unsure words remain, and unsaved
edits survive the app closing (kept in the study database, offered on reopening)."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from fieldkit.core.diff import words_of
from fieldkit.core.models import Speaker
from fieldkit.services.review import draft_for, keep_draft, save_review
from fieldkit.services.study import Study
from fieldkit.store.drafts import ReviewDrafts
from fieldkit.store.repo import InterviewRow, Transcripts
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens import review as review_screen
from fieldkit.tui.screens.modals import Confirm
from fieldkit.tui.screens.review import ChooseSpeaker, RestoreDraft, ReviewScreen
from tests.tui.conftest import interview_of, wait_until

SIZE = (120, 40)
NEEDS_REVIEW = "INTSTA006-PEER"


async def open_review(
    app: FieldkitApp, pilot: Pilot[None], interview: InterviewRow
) -> ReviewScreen:
    screen = ReviewScreen(interview)
    app.push_screen(screen)
    await wait_until(pilot, lambda: screen.is_mounted and bool(screen.word_places))
    return screen


def status(screen: ReviewScreen) -> str:
    return str(screen.query_one("#review-status", Static).content)


def errors(app: FieldkitApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


# -- merging with the previous turn ----------------------------------------------------------


async def test_M_merges_the_turn_into_the_previous_one(review_study: Study) -> None:
    interview = interview_of(review_study, NEEDS_REVIEW)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        count = len(screen.segments)
        await pilot.press("down", "down", "down", "down", "right", "right")  # "We mostly handed"
        assert screen.segments[4].text.startswith("We mostly")
        await pilot.press("M")
        await pilot.pause()
        assert len(screen.segments) == count - 1
        assert screen.segments[3].text.startswith("On the ward? We mostly handed")
        assert screen.turn == 3
        assert words_of(screen.segments[3])[screen.word or 0].word == "handed"  # the same word

        await pilot.press("M")  # "On the ward? …" follows the interviewer's question
        await pilot.pause()
        assert len(screen.segments) == count - 1
        assert any("Only turns of the same speaker merge" in m for m in errors(app))

        await pilot.press("up", "up", "up", "M")  # the first turn has none before it
        await pilot.pause()
        assert any("first turn has no turn before it" in m for m in errors(app))
        await pilot.press("ctrl+s")
        await pilot.pause()
    row = Transcripts(review_study.db).revision(interview.id)
    assert row is not None and row.revision == 1
    notes = [r["summary"] for r in review_study.db["revision_notes"].rows]
    assert any("merged with the previous turn" in n for n in notes)


# -- the speaker chooser ---------------------------------------------------------------------


async def chooser_lines(pilot: Pilot[None], app: FieldkitApp) -> list[str]:
    await pilot.press("s")
    await wait_until(pilot, lambda: isinstance(app.screen, ChooseSpeaker))
    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_s_offers_the_two_speakers_first_and_unknown_last(review_study: Study) -> None:
    interview = interview_of(review_study, NEEDS_REVIEW)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        assert screen.segments[1].speaker is Speaker.PARTICIPANT
        await pilot.press("down")
        assert await chooser_lines(pilot, app) == [
            "1  Interviewer",
            f"2  {NEEDS_REVIEW}  (now)",
            "3  Unknown speaker",
        ]
        await pilot.press("escape")  # keeps the speaker
        await pilot.pause()
        assert app.screen is screen and screen.segments[1].speaker is Speaker.PARTICIPANT
        assert not screen.draft or not screen.draft.dirty

        await pilot.press("up")  # an interviewer turn: the participant comes first
        assert await chooser_lines(pilot, app) == [
            f"1  {NEEDS_REVIEW}",
            "2  Interviewer  (now)",
            "3  Unknown speaker",
        ]
        await pilot.press("enter")  # the highlighted (first) choice
        await pilot.pause()
        assert screen.segments[0].speaker is Speaker.PARTICIPANT
        assert f"· {NEEDS_REVIEW}" in status(screen)  # labelled as everywhere else

        assert await chooser_lines(pilot, app) == [
            "1  Interviewer",
            f"2  {NEEDS_REVIEW}  (now)",
            "3  Unknown speaker",
        ]
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert screen.segments[0].speaker is Speaker.UNKNOWN


# -- how many unsure words remain ------------------------------------------------------------


async def test_the_unsure_words_count_shows_how_many_remain(review_study: Study) -> None:
    interview = interview_of(review_study, NEEDS_REVIEW)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        total = sum(w.probability < 0.5 for segment in screen.segments for w in words_of(segment))
        assert total == 9
        assert f"unsure word 1 of {total}, {total - 1} to go" in status(screen)  # "Thanks"
        await pilot.press("down", "down")  # a turn with none
        assert f"{total} unsure words, {total - 3} to go" in status(screen)
        await pilot.press("n")
        await pilot.pause()
        assert f"unsure word 4 of {total}, {total - 4} to go" in status(screen)
        await pilot.press("n", "n")
        await pilot.pause()
        assert f"unsure word 6 of {total}, {total - 6} to go" in status(screen)
        assert any(f"Unsure word 6 of {total}" in n.message for n in app._notifications)

        # correcting the word takes it off the list
        turn, word = screen.turn, screen.word or 0
        words = [w.word for w in words_of(screen.segments[turn])]
        words[word] = "corrected"
        await pilot.press("e")
        await wait_until(pilot, lambda: app.screen is not screen)
        app.screen.query_one("#turn-editor").text = " ".join(words)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert f"{total - 1} unsure words" in status(screen)


# -- drafts ----------------------------------------------------------------------------------


async def make_an_edit_and_wait_for_the_draft(
    app: FieldkitApp, pilot: Pilot[None], study: Study, interview: InterviewRow
) -> ReviewScreen:
    screen = await open_review(app, pilot, interview)
    await pilot.press("down", "down", "s", "3")  # turn 3 (interviewer) → unknown
    await pilot.pause()
    assert screen.segments[2].speaker is Speaker.UNKNOWN
    # kept every few seconds, before (and whether or not) the app closes
    await wait_until(pilot, lambda: ReviewDrafts(study.db).get(interview.id) is not None)
    return screen


async def test_unsaved_edits_are_kept_and_offered_when_the_transcript_is_reopened(
    review_study: Study,
) -> None:
    interview = interview_of(review_study, NEEDS_REVIEW)
    async with FieldkitApp(review_study).run_test(size=SIZE) as pilot:
        await make_an_edit_and_wait_for_the_draft(pilot.app, pilot, review_study, interview)  # type: ignore[arg-type]
    # the app closed without saving; the draft is in the study database, not in a file
    kept = ReviewDrafts(review_study.db).get(interview.id)
    assert kept is not None and kept.segments[2].speaker is Speaker.UNKNOWN
    assert Transcripts(review_study.db).revision(interview.id).revision == 0  # type: ignore[union-attr]

    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = ReviewScreen(interview)
        app.push_screen(screen)
        await wait_until(pilot, lambda: isinstance(app.screen, RestoreDraft))
        assert "1 unsaved change from" in str(app.screen.query_one(".dialog-question").content)  # type: ignore[attr-defined]
        await pilot.press("r")
        await wait_until(pilot, lambda: app.screen is screen)
        assert screen.segments[2].speaker is Speaker.UNKNOWN
        assert "1 unsaved change" in str(screen.query_one("#review-bar", Static).content)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert ReviewDrafts(review_study.db).get(interview.id) is None  # saved: nothing to offer
    _, segments = latest(review_study, interview)
    assert segments[2].speaker is Speaker.UNKNOWN


async def test_a_kept_draft_can_be_discarded(review_study: Study) -> None:
    interview = interview_of(review_study, NEEDS_REVIEW)
    async with FieldkitApp(review_study).run_test(size=SIZE) as pilot:
        await make_an_edit_and_wait_for_the_draft(pilot.app, pilot, review_study, interview)  # type: ignore[arg-type]

    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = ReviewScreen(interview)
        app.push_screen(screen)
        await wait_until(pilot, lambda: isinstance(app.screen, RestoreDraft))
        await pilot.press("d")
        await wait_until(pilot, lambda: app.screen is screen)
        assert screen.segments[2].speaker is Speaker.INTERVIEWER
        assert ReviewDrafts(review_study.db).get(interview.id) is None


async def test_leaving_without_saving_forgets_the_draft(review_study: Study) -> None:
    interview = interview_of(review_study, NEEDS_REVIEW)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await make_an_edit_and_wait_for_the_draft(app, pilot, review_study, interview)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_until(pilot, lambda: not screen.is_attached)
        assert ReviewDrafts(review_study.db).get(interview.id) is None


async def test_a_draft_overtaken_by_a_saved_revision_is_not_restored(review_study: Study) -> None:
    """Someone saved a revision (another terminal) after the draft was kept: restoring the old
    edits would undo theirs, so the draft is dropped and the reviewer told."""
    interview = interview_of(review_study, NEEDS_REVIEW)
    mine = draft_for(review_study, interview)
    theirs = draft_for(review_study, interview)
    theirs.merge(3)
    save_review(review_study, theirs)
    mine.set_speaker(2, Speaker.UNKNOWN)
    keep_draft(review_study, mine)  # my app kept editing revision 0, then closed

    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        await wait_until(pilot, lambda: bool(app._notifications))
        assert app.screen is screen
        warnings = [n.message for n in app._notifications if n.severity == "warning"]
        assert any("revision 1 was saved since" in m for m in warnings)
        assert screen.segments[2].speaker is Speaker.INTERVIEWER
    assert ReviewDrafts(review_study.db).get(interview.id) is None


def latest(study: Study, interview: InterviewRow) -> tuple[int, list]:  # type: ignore[type-arg]
    row = Transcripts(study.db).revision(interview.id)
    assert row is not None
    return row.revision, Transcripts(study.db).segments(row.id)


async def test_closing_the_app_right_after_an_edit_keeps_it(
    review_study: Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No need to wait for the next periodic save: closing the app keeps the draft too."""
    monkeypatch.setattr(review_screen, "DRAFT_EVERY_S", 3600.0)  # no periodic save here
    interview = interview_of(review_study, NEEDS_REVIEW)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot, interview)
        await pilot.press("s", "3")
        await pilot.pause()
        assert screen.segments[0].speaker is Speaker.UNKNOWN
        assert ReviewDrafts(review_study.db).get(interview.id) is None
    kept = ReviewDrafts(review_study.db).get(interview.id)
    assert kept is not None and kept.segments[0].speaker is Speaker.UNKNOWN
