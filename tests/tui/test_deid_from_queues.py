"""`D` opens the de-identification screen from the interview queue and from the approval queue,
for the transcript chosen (any wave, not only the latest), and explains in plain words when a
transcript is not approved yet instead of opening an empty screen."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList

from fieldkit.services.demo import build_demo_study
from fieldkit.services.study import Study
from fieldkit.services.transcription import load_transcript
from fieldkit.store.repo import InterviewRow, Interviews
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.approval_queue import ApprovalQueueScreen
from fieldkit.tui.screens.identifiers import DeidReviewScreen
from fieldkit.tui.screens.modals import ChooseTerm
from fieldkit.tui.screens.queue import QueueScreen
from tests.export.factory import add_identifiers, approve, make_interview, sample_segments, send

from .conftest import notifications

SIZE = (120, 40)
APPROVED = "INTSTA010-PEER"  # the demo's transcript approved with changes
SENT = "INTSTA009-CLIN"  # sent to the participant, not overdue
NOT_INTERVIEWED = "INTSTA001-PEER"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Study]:
    study = build_demo_study(tmp_path / "demo", actor="reviewer", transcripts=True)
    yield study
    study.close()


@pytest.fixture
def two_waves(study: Study, tmp_path: Path) -> tuple[InterviewRow, InterviewRow]:
    """One participant: commencement approved, follow-up sent to them (the latest)."""
    first = make_interview(study, sample_segments())
    add_identifiers(study)
    approve(study, first, tmp_path / "copies")
    second = make_interview(
        study, sample_segments(), participant_id=first.participant_id, wave="follow-up"
    )
    send(study, second, tmp_path / "copies")
    return first, second


async def wait_for(pilot: Pilot[None], what: str, ready: Callable[[], bool]) -> None:
    """Poll (keeping the app running) until `ready()`."""
    deadline = time.monotonic() + 10
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def interview_of(study: Study, participant_id: str) -> InterviewRow:
    return Interviews(study.db).for_participant(participant_id)[-1]


async def highlight(pilot: Pilot[None], row_key: str) -> None:
    """Put the cursor of the current screen's table on `row_key`."""
    table = pilot.app.screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(row_key))
    await pilot.pause()


async def on_queue(app: FieldkitApp, pilot: Pilot[None]) -> QueueScreen:
    await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen))
    assert isinstance(app.screen, QueueScreen)
    return app.screen


async def on_approval_queue(app: FieldkitApp, pilot: Pilot[None]) -> ApprovalQueueScreen:
    await on_queue(app, pilot)
    await pilot.press("a")
    await wait_for(pilot, "the approval queue", lambda: isinstance(app.screen, ApprovalQueueScreen))
    assert isinstance(app.screen, ApprovalQueueScreen)
    return app.screen


def warned(app: FieldkitApp) -> list[str]:
    return [message for severity, message in notifications(app) if severity == "warning"]


async def test_d_on_the_queue_opens_the_approved_transcript(demo: Study) -> None:
    app = FieldkitApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await on_queue(app, pilot)
        await highlight(pilot, APPROVED)
        await pilot.press("D")
        await wait_for(pilot, "the review", lambda: isinstance(app.screen, DeidReviewScreen))
        screen = app.screen
        assert isinstance(screen, DeidReviewScreen)
        assert screen.interview.id == interview_of(demo, APPROVED).id
        assert screen.review is not None and screen.query_one(DataTable).row_count > 0


async def test_d_on_the_queue_explains_a_transcript_not_yet_approved(demo: Study) -> None:
    app = FieldkitApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        queue = await on_queue(app, pilot)
        await highlight(pilot, SENT)
        await pilot.press("D")
        await wait_for(pilot, "a notification", lambda: bool(warned(app)))
        assert warned(app) == [
            f"{SENT}'s transcript (commencement) is sent to the participant. De-identify it "
            "once it is approved"
        ]
        assert app.screen is queue
        await highlight(pilot, NOT_INTERVIEWED)
        await pilot.press("D")
        await wait_for(pilot, "a second notification", lambda: len(notifications(app)) == 2)
        assert notifications(app)[-1][1] == (
            f"{NOT_INTERVIEWED} has not been interviewed yet: nothing to de-identify."
        )
        assert app.screen is queue


async def test_d_on_the_queue_asks_which_interview(
    study: Study, two_waves: tuple[InterviewRow, InterviewRow]
) -> None:
    first, _ = two_waves
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        queue = await on_queue(app, pilot)
        await highlight(pilot, first.participant_id)
        await pilot.press("D")
        await wait_for(pilot, "the choice", lambda: isinstance(app.screen, ChooseTerm))
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels == ["commencement · approved", "follow-up · sent to participant"]
        await pilot.press("down", "enter")  # the latest, not approved: explained
        await wait_for(pilot, "a notification", lambda: bool(warned(app)))
        assert warned(app) == [
            f"{first.participant_id}'s transcript (follow-up) is sent to the participant. "
            "De-identify it once it is approved"
        ]
        assert app.screen is queue
        await pilot.press("D")
        await wait_for(pilot, "the choice", lambda: isinstance(app.screen, ChooseTerm))
        await pilot.press("enter")  # the earlier wave, approved
        await wait_for(pilot, "the review", lambda: isinstance(app.screen, DeidReviewScreen))
        assert isinstance(app.screen, DeidReviewScreen)
        assert app.screen.interview.id == first.id
        assert app.screen.query_one(DataTable).row_count == 12


async def test_d_on_the_approval_queue_opens_saves_and_comes_back(demo: Study) -> None:
    app = FieldkitApp(demo)
    interview = interview_of(demo, APPROVED)
    async with app.run_test(size=SIZE) as pilot:
        approvals = await on_approval_queue(app, pilot)
        await highlight(pilot, str(interview.id))
        await pilot.press("D")
        await wait_for(pilot, "the review", lambda: isinstance(app.screen, DeidReviewScreen))
        assert isinstance(app.screen, DeidReviewScreen)
        assert app.screen.interview.id == interview.id
        await pilot.press("A", "ctrl+s")  # replace every suggestion, save
        await wait_for(pilot, "the approval queue", lambda: app.screen is approvals)
    view = load_transcript(demo, APPROVED)
    assert view.kind == "deidentified"
    text = " ".join(s.text for s in view.segments)
    assert "Riverton" not in text and "[PLACE 1]" in text


async def test_d_on_the_approval_queue_explains_each_state(demo: Study) -> None:
    app = FieldkitApp(demo)
    expected = {
        "INTSTA006-PEER": "INTSTA006-PEER's transcript (commencement) still needs review. "
        "Review it and send it to the participant; de-identify it once it is approved",
        "INTSTA007-CLIN": "INTSTA007-CLIN's transcript (commencement) is reviewed but not yet "
        "sent to the participant. Send it; de-identify it once it is approved",
        "INTSTA008-PEER": "INTSTA008-PEER's transcript (commencement) is sent to the "
        "participant. De-identify it once it is approved",
    }
    async with app.run_test(size=SIZE) as pilot:
        approvals = await on_approval_queue(app, pilot)
        for number, (participant_id, message) in enumerate(expected.items(), start=1):
            await highlight(pilot, str(interview_of(demo, participant_id).id))
            await pilot.press("D")
            await wait_for(pilot, message, lambda n=number: len(warned(app)) == n)
            assert warned(app)[-1] == message
            assert app.screen is approvals
