"""Issue 11 §1, the reviewer's desk through Pilot: s sends the participant's copy from the app,
v reads the copy that comes back and opens the returned-copy screen (both sides, n/p between
changes, s stores, Escape stores nothing)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.widgets import Input, RadioSet

from fieldkit.core.workflow import TranscriptState
from fieldkit.services.approval import approval_state, send_copy
from fieldkit.services.study import Study
from fieldkit.store.approvals import Approvals
from fieldkit.store.repo import Transcripts
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.approval_dialogs import LEAVES_PROTECTION, SendCopyDialog
from fieldkit.tui.screens.approval_queue import ApprovalQueueScreen
from fieldkit.tui.screens.modals import Confirm, TextPrompt
from fieldkit.tui.screens.returned_copy import ReturnedCopyScreen
from fieldkit.tui.widgets.review_diff import DiffRow
from tests.tui.conftest import interview_of

from .desk import (
    ADDED_SENTENCE,
    DELETED_SENTENCE,
    NEEDS_REVIEW,
    REVIEWED,
    SENT,
    edit_docx,
    highlight,
    is_green,
    is_red,
    open_approvals,
    screen_text,
    styles_on_screen,
    wait_for_notice,
    wait_for_screen,
    wait_until,
)

SMALL = (80, 24)
LARGE = (120, 40)


def state_of(study: Study, participant: str) -> TranscriptState:
    return approval_state(study, interview_of(study, participant).id)


def latest_text(study: Study, participant: str) -> str:
    row = Transcripts(study.db).revision(interview_of(study, participant).id)
    assert row is not None
    return " ".join(s.text for s in Transcripts(study.db).segments(row.id))


async def test_send_then_receive_an_edited_docx_shows_both_sides_before_storing(
    review_study: Study, tmp_path: Path
) -> None:
    app = FieldkitApp(review_study)
    async with app.run_test(size=SMALL) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, REVIEWED)

        # s: the dialog offers Word, the study's copy folder and a name with the ID and wave.
        await pilot.press("s")
        dialog = await wait_for_screen(pilot, SendCopyDialog)
        folder = review_study.paths.exports / "participant-copies"
        assert dialog.query_one("#send-folder", Input).value == str(folder)
        name = dialog.query_one("#send-name", Input).value
        assert name == f"{REVIEWED}_commencement.docx"
        assert "leaves the study's protection" in screen_text(app).replace("\n", " ") or (
            LEAVES_PROTECTION.split(":")[0] in screen_text(app)
        )
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is queue, "back on the approval queue")
        await wait_for_notice(pilot, "Sent")
        copy = folder / name
        assert copy.is_file()
        assert state_of(review_study, REVIEWED) is TranscriptState.SENT
        [send] = Approvals(review_study.db).sends(interview_of(review_study, REVIEWED).id)
        assert send.sent_at[:10] == dt.date.today().isoformat()
        assert send.format == "docx"

        # The participant deletes one sentence and adds one, in Word.
        returned = folder / "returned-by-participant.docx"
        edit_docx(copy, returned, DELETED_SENTENCE, "do that for others", ADDED_SENTENCE)

        # v: the path starts in the copy folder; the file name is typed after it.
        await pilot.press("v")
        prompt = await wait_for_screen(pilot, TextPrompt)
        line = prompt.query_one(Input)
        assert line.value.rstrip("/") == str(folder)
        await pilot.press(*returned.name)
        assert line.value == str(returned)
        await pilot.press("enter")
        screen = await wait_for_screen(pilot, ReturnedCopyScreen)

        # Both sides, aligned by turn; the summary line counts the changes.
        assert len(screen.query(DiffRow)) == 2
        text = screen_text(app)
        assert "What was sent" in text and "What came back" in text
        assert "words deleted" in text and "added, in 2 turns" in text
        # The first change (the deletion) is in view: struck through, in red, on the left.
        assert "doors were always locked" in text
        struck = styles_on_screen(app, "locked")
        assert struck and all(s.strike for s in struck)
        assert all(is_red(s) for s in struck)
        # n brings the next change (the addition) into view: green and underlined on the right.
        await pilot.press("n")
        await wait_until(pilot, lambda: "change 2 of 2" in screen_text(app), "the second change")
        assert "garden out the back" in screen_text(app)
        added = styles_on_screen(app, "garden")
        assert added and all(s.underline for s in added)
        assert all(is_green(s) for s in added)
        line_with_garden = next(ln for ln in screen_text(app).splitlines() if "garden" in ln)
        assert line_with_garden.index("garden") > SMALL[0] // 2  # on the right: came back
        await pilot.press("p")
        await wait_until(pilot, lambda: "change 1 of 2" in screen_text(app), "the first change")
        # Nothing is stored yet.
        assert state_of(review_study, REVIEWED) is TranscriptState.SENT

        await pilot.press("s")
        await wait_until(pilot, lambda: app.screen is queue, "back on the approval queue")
        await wait_for_notice(pilot, "Stored")
    assert state_of(review_study, REVIEWED) is TranscriptState.RETURNED
    stored = latest_text(review_study, REVIEWED)
    assert ADDED_SENTENCE in stored and "doors were always locked" not in stored


async def test_escape_on_the_returned_copy_screen_stores_nothing(
    review_study: Study, tmp_path: Path
) -> None:
    interview = interview_of(review_study, REVIEWED)
    copy = tmp_path / "copy.docx"
    send_copy(review_study, REVIEWED, copy)
    revisions = len(Transcripts(review_study.db).for_interview(interview.id))
    returned = tmp_path / "back.docx"
    edit_docx(copy, returned, DELETED_SENTENCE, "do that for others", ADDED_SENTENCE)
    app = FieldkitApp(review_study)
    async with app.run_test(size=LARGE) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, REVIEWED)
        await pilot.press("v")
        prompt = await wait_for_screen(pilot, TextPrompt)
        prompt.query_one(Input).value = str(returned)
        await pilot.press("enter")
        await wait_for_screen(pilot, ReturnedCopyScreen)
        assert "garden out the back" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is queue, "back on the approval queue")
        await wait_for_notice(pilot, "Nothing stored")
        assert state_of(review_study, REVIEWED) is TranscriptState.SENT
        assert len(Transcripts(review_study.db).for_interview(interview.id)) == revisions
        assert Approvals(review_study.db).returns(interview.id) == []
        # The same file can still be received afterwards.
        await pilot.press("v")
        prompt = await wait_for_screen(pilot, TextPrompt)
        prompt.query_one(Input).value = str(returned)
        await pilot.press("enter")
        await wait_for_screen(pilot, ReturnedCopyScreen)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.screen is queue, "back on the approval queue")
    assert state_of(review_study, REVIEWED) is TranscriptState.RETURNED


async def test_send_as_text_to_a_new_folder_which_is_then_remembered(
    review_study: Study, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox" / "march"
    app = FieldkitApp(review_study)
    async with app.run_test(size=SMALL) as pilot:
        queue = await open_approvals(pilot)
        # r signs the needs-review transcript off, so two can be sent.
        await highlight(pilot, queue, NEEDS_REVIEW)
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: state_of(review_study, NEEDS_REVIEW) is TranscriptState.REVIEWED,
            "the sign-off",
        )
        await highlight(pilot, queue, REVIEWED)
        await pilot.press("s")
        dialog = await wait_for_screen(pilot, SendCopyDialog)
        # Plain text, chosen with the keys: back to the format choice, → then space.
        await pilot.press("shift+tab", "shift+tab")
        formats = dialog.query_one("#send-format", RadioSet)
        await wait_until(pilot, lambda: formats.has_focus_within, "the format choice focused")
        await pilot.press("right", "space")
        name = dialog.query_one("#send-name", Input)
        await wait_until(pilot, lambda: name.value.endswith(".txt"), "a .txt file name")
        dialog.query_one("#send-folder", Input).value = str(outbox)
        await pilot.press("ctrl+s")
        confirm = await wait_for_screen(pilot, Confirm)
        assert "does not exist yet" in confirm.question
        await pilot.press("y")
        await wait_for_notice(pilot, "Sent")
        assert (outbox / f"{REVIEWED}_commencement.txt").is_file()
        assert state_of(review_study, REVIEWED) is TranscriptState.SENT

        # The next copy defaults to that folder, and so does a returned copy.
        await highlight(pilot, queue, NEEDS_REVIEW)
        await pilot.press("s")
        dialog = await wait_for_screen(pilot, SendCopyDialog)
        assert dialog.query_one("#send-folder", Input).value == str(outbox)
        await pilot.press("escape")
        await wait_for_notice(pilot, "Nothing sent")
        assert state_of(review_study, NEEDS_REVIEW) is TranscriptState.REVIEWED
        await highlight(pilot, queue, REVIEWED)
        await pilot.press("v")
        prompt = await wait_for_screen(pilot, TextPrompt)
        assert prompt.query_one(Input).value.rstrip("/") == str(outbox)


async def test_a_second_copy_gets_a_new_name_and_keeps_the_deadline(review_study: Study) -> None:
    interview = interview_of(review_study, REVIEWED)
    app = FieldkitApp(review_study)
    async with app.run_test(size=LARGE) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, REVIEWED)
        names = (f"{REVIEWED}_commencement.docx", f"{REVIEWED}_commencement-2.docx")
        for count, expected in enumerate(names, start=1):
            await pilot.press("s")
            dialog = await wait_for_screen(pilot, SendCopyDialog)
            assert dialog.query_one("#send-name", Input).value == expected
            await pilot.press("enter")  # Enter in the file name sends too
            await wait_until(
                pilot,
                lambda n=count: (
                    len(Approvals(review_study.db).sends(interview.id)) == n and not queue.busy
                ),
                "the send recorded and shown",
            )
    sends = Approvals(review_study.db).sends(interview.id)
    assert sends[0].deadline == sends[1].deadline


@pytest.mark.parametrize(
    ("key", "participant", "words"),
    [
        ("s", NEEDS_REVIEW, "still needs review; sign it off before sending"),
        ("v", REVIEWED, "nothing can come back before it is sent"),
        ("d", NEEDS_REVIEW, "decisions come after the participant's copy is sent"),
    ],
)
async def test_a_refusal_is_one_notice_in_plain_words_with_the_key_to_use(
    review_study: Study, key: str, participant: str, words: str
) -> None:
    app = FieldkitApp(review_study)
    async with app.run_test(size=LARGE) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, participant)
        await pilot.press(key)
        message = await wait_for_notice(pilot, words, "error")
        assert "fieldkit " not in message  # the app's keys, never a command to type
        assert "(" in message and ")" in message  # e.g. "sign it off (r)"
        assert app.screen is queue


async def test_a_wrong_returned_file_is_refused_and_nothing_opens(
    review_study: Study, tmp_path: Path
) -> None:
    other = tmp_path / "other.txt"
    send_copy(review_study, REVIEWED, other)
    app = FieldkitApp(review_study)
    async with app.run_test(size=LARGE) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, SENT)
        await pilot.press("v")
        prompt = await wait_for_screen(pilot, TextPrompt)
        prompt.query_one(Input).value = str(other)
        await pilot.press("enter")
        message = await wait_for_notice(pilot, f"is the copy sent to {REVIEWED}", "error")
        assert "--wave" not in message and "fieldkit " not in message
        assert app.screen is queue
        assert isinstance(queue, ApprovalQueueScreen) and not queue.busy


async def test_a_copy_returned_unchanged_says_no_changes(
    review_study: Study, tmp_path: Path
) -> None:
    interview = interview_of(review_study, REVIEWED)
    copy = tmp_path / "copy.txt"
    send_copy(review_study, REVIEWED, copy)
    revisions = len(Transcripts(review_study.db).for_interview(interview.id))
    app = FieldkitApp(review_study)
    async with app.run_test(size=SMALL) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, REVIEWED)
        await pilot.press("v")
        prompt = await wait_for_screen(pilot, TextPrompt)
        prompt.query_one(Input).value = str(copy)
        await pilot.press("enter")
        screen = await wait_for_screen(pilot, ReturnedCopyScreen)
        text = screen_text(app)
        assert "No changes" in text and "turn(s)" not in text and "0 turn" not in text
        assert "returned it without changes" in text
        assert len(screen.query(DiffRow)) == 0
        await pilot.press("n")
        await wait_for_notice(pilot, "changed nothing")
        await pilot.press("s")
        await wait_for_notice(pilot, "no changes")
        await wait_until(pilot, lambda: app.screen is queue, "back on the approval queue")
    assert state_of(review_study, REVIEWED) is TranscriptState.RETURNED
    assert len(Transcripts(review_study.db).for_interview(interview.id)) == revisions
