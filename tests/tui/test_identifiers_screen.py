"""The identifier list and the suggestion review through Pilot."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from fieldkit.services.deid import list_identifiers
from fieldkit.services.study import Study
from fieldkit.services.transcription import load_transcript
from fieldkit.store.repo import InterviewRow, Transcripts
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.identifiers import DeidReviewScreen, IdentifiersScreen
from fieldkit.tui.screens.modals import ChooseTerm, Confirm, TextPrompt
from tests.export.factory import add_identifiers, approve, make_interview, sample_segments

from .conftest import wait_for_notification, wait_for_screen, wait_until

SIZE = (120, 40)


@pytest.fixture
def approved(study: Study, tmp_path: Path) -> InterviewRow:
    interview = make_interview(study, sample_segments())
    add_identifiers(study)
    approve(study, interview, tmp_path / "copies")
    return interview


async def test_add_and_delete_identifiers(study: Study) -> None:
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        screen = IdentifiersScreen()
        app.push_screen(screen)
        await wait_for_screen(pilot, IdentifiersScreen)
        await pilot.press("a")
        prompt = await wait_for_screen(pilot, TextPrompt)
        prompt.query_one(Input).value = "Diane"
        await pilot.press("enter")
        await wait_for_screen(pilot, ChooseTerm)
        await pilot.press("enter")  # the first category: person
        await wait_until(pilot, lambda: app.screen is screen)
        assert [(r.text, r.category.value) for r in list_identifiers(study)] == [
            ("Diane", "person")
        ]
        table = screen.query_one(DataTable)
        assert table.get_row_at(0) == ["person", "Diane"]
        await pilot.press("d")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen and table.row_count == 0)
        assert list_identifiers(study) == []


async def test_review_suggestions_one_by_one_and_save(study: Study, approved: InterviewRow) -> None:
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        screen = DeidReviewScreen(approved)
        app.push_screen(screen)
        await wait_for_screen(pilot, DeidReviewScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 12
        context = str(screen.query_one("#deid-context", Static).content)
        assert "Riverton Community Health" in context and "[ORGANISATION 1]" in context
        await pilot.press("n")  # keep the organisation as said
        await pilot.pause()
        assert table.cursor_row == 1  # on to the next undecided one
        await pilot.press("y")
        await pilot.press("ctrl+s")  # 10 undecided: refused
        await wait_for_notification(pilot, "not decided yet")
        assert len(Transcripts(study.db).for_interview(approved.id)) == 1
        await pilot.press("A")  # replace the rest
        await pilot.pause()
        bar = str(screen.query_one("#deid-bar", Static).content)
        assert "11 replace, 1 keep, 0 undecided" in bar
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is not screen)
    view = load_transcript(study, approved.participant_id)
    assert view.kind == "deidentified"
    assert view.segments[1].text == (
        "I started at Riverton Community Health in March. [PERSON 1]'s my manager."
    )


async def test_decisions_are_kept_when_leaving_and_coming_back(
    study: Study, approved: InterviewRow
) -> None:
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        first = DeidReviewScreen(approved)
        app.push_screen(first)
        await wait_for_screen(pilot, DeidReviewScreen)
        await pilot.press("n", "y", "escape")
        await wait_until(pilot, lambda: app.screen is not first)
        again = DeidReviewScreen(approved)
        app.push_screen(again)
        await wait_until(pilot, lambda: app.screen is again and again.is_mounted)
        assert again.review is not None
        assert [i.decision for i in again.review.items[:3]] == ["rejected", "accepted", "pending"]
        assert again.query_one(DataTable).cursor_row == 2


async def test_playing_without_a_recording_is_a_notification(
    study: Study, approved: InterviewRow
) -> None:
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        screen = DeidReviewScreen(approved)
        app.push_screen(screen)
        await wait_for_screen(pilot, DeidReviewScreen)
        await pilot.press("space")
        await wait_for_notification(pilot, "no recording")
        assert app.screen is screen and screen.playback is None


async def test_a_transcript_not_approved_cannot_be_reviewed(study: Study) -> None:
    interview = make_interview(study, sample_segments())
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        screen = DeidReviewScreen(interview)
        app.push_screen(screen)
        await wait_for_notification(pilot, "still needs review")
        assert screen.review is None
