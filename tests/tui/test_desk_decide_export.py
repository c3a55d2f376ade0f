"""Issue 11 §1, the reviewer's desk through Pilot: d records the participant's decision (only
the decisions open now; a withdrawal as the study's policy says, deleting only after a y), and
x exports approved transcripts from the approval queue and shows where the files went."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from docx import Document
from textual.widgets import Checkbox, OptionList, RadioSet

from fieldkit.config import write_config
from fieldkit.core.workflow import TranscriptState
from fieldkit.services.approval import accept_returned, approval_state, read_returned, send_copy
from fieldkit.services.deid import deidentify
from fieldkit.services.export import default_out_dir
from fieldkit.services.study import Study
from fieldkit.store.deid_repo import Exports
from fieldkit.store.repo import Recordings, Transcripts
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.approval_dialogs import DecideDialog
from fieldkit.tui.screens.approval_queue import ApprovalQueueScreen
from fieldkit.tui.screens.export_dialog import ExportDialog
from fieldkit.tui.screens.modals import ConfirmDeletion, Notice
from tests.services.test_withdrawal_deletion import where_is
from tests.tui.conftest import interview_of

from .desk import (
    APPROVED,
    DELETED_SENTENCE,
    NEEDS_REVIEW,
    OVERDUE,
    REVIEWED,
    SENT,
    edit_docx,
    highlight,
    open_approvals,
    screen_text,
    wait_for_notice,
    wait_for_screen,
    wait_until,
)

SMALL = (80, 24)
LARGE = (120, 40)
WORD = "Zyqvorbl"  # in no demo transcript: it enters through the returned copy only


def state_of(study: Study, participant: str) -> TranscriptState:
    return approval_state(study, interview_of(study, participant).id)


def set_withdrawal_policy(study: Study, policy: str) -> None:
    approval = dataclasses.replace(study.config.approval, withdrawn_data=policy)
    study.config = dataclasses.replace(study.config, approval=approval)
    write_config(study.paths.config, study.config)


def returned_with_word(study: Study, participant: str) -> tuple[Path, Path]:
    """The copy sent (inside the study) and the participant's edit of it, with WORD, stored."""
    folder = study.paths.exports / "participant-copies"
    folder.mkdir(parents=True, exist_ok=True)
    sent = folder / f"{participant}_commencement.docx"
    send_copy(study, participant, sent)
    returned = folder / f"{participant}_commencement.returned.docx"
    edit_docx(sent, returned, DELETED_SENTENCE, "do that for others", f"My {WORD} helped.")
    accept_returned(study, read_returned(study, participant, returned))
    return sent, returned


async def choose(pilot: object, dialog: DecideDialog, word: str) -> None:
    """Highlight `word` in the decision list with the arrow keys, then Enter."""
    options = dialog.query_one(OptionList)
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    target = ids.index(word)
    await wait_until(pilot, lambda: options.has_focus, "the decision list focused")  # type: ignore[arg-type]
    await pilot.press("home", *(["down"] * target))  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: options.highlighted == target, f"{word} highlighted")  # type: ignore[arg-type]
    await pilot.press("enter")  # type: ignore[attr-defined]


def offered(dialog: DecideDialog) -> list[str | None]:
    options = dialog.query_one(OptionList)
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


# -- d: decisions --------------------------------------------------------------------------------


async def test_decide_offers_what_is_open_now_and_no_response_only_after_the_deadline(
    review_study: Study,
) -> None:
    app = FieldkitApp(review_study)
    async with app.run_test(size=SMALL) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, SENT)
        await pilot.press("d")
        dialog = await wait_for_screen(pilot, DecideDialog)
        assert offered(dialog) == ["approved", "withdrawn"]
        text = screen_text(app)
        assert "No response can be recorded after the reply deadline" in text
        assert "policy on withdrawal is to keep" in text
        await pilot.press("escape")
        await wait_for_notice(pilot, "Nothing recorded")
        assert state_of(review_study, SENT) is TranscriptState.SENT

        await highlight(pilot, queue, OVERDUE)
        await pilot.press("d")
        dialog = await wait_for_screen(pilot, DecideDialog)
        assert offered(dialog) == ["approved", "withdrawn", "no-response"]
        assert "which has passed" in screen_text(app)
        await choose(pilot, dialog, "no-response")
        await wait_until(
            pilot,
            lambda: state_of(review_study, OVERDUE) is TranscriptState.NO_RESPONSE,
            "no response recorded",
        )
        await wait_for_notice(pilot, f"{OVERDUE} (commencement): no response")
        # The overdue count above the table follows.
        await wait_until(pilot, lambda: "Nothing overdue" in screen_text(app), "no overdue left")


async def test_decide_approved_with_changes_after_the_copy_came_back(review_study: Study) -> None:
    returned_with_word(review_study, REVIEWED)
    app = FieldkitApp(review_study)
    async with app.run_test(size=LARGE) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, REVIEWED)
        await pilot.press("d")
        dialog = await wait_for_screen(pilot, DecideDialog)
        assert offered(dialog) == ["approved", "approved-with-changes", "withdrawn"]
        await choose(pilot, dialog, "approved-with-changes")
        await wait_until(
            pilot,
            lambda: state_of(review_study, REVIEWED) is TranscriptState.APPROVED_WITH_CHANGES,
            "approved with changes",
        )


async def test_withdrawn_under_the_delete_policy_asks_then_leaves_no_byte(
    review_study: Study,
) -> None:
    set_withdrawal_policy(review_study, "delete")
    sent, returned = returned_with_word(review_study, REVIEWED)
    interview = interview_of(review_study, REVIEWED)
    [recording] = Recordings(review_study.db).for_interview(interview.id)
    audio = review_study.paths.absolute(recording.path)
    assert where_is(review_study.root, WORD), "the word is in the study before the withdrawal"
    app = FieldkitApp(review_study)
    async with app.run_test(size=SMALL) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, REVIEWED)
        await pilot.press("d")
        dialog = await wait_for_screen(pilot, DecideDialog)
        assert "policy on withdrawal is to delete" in screen_text(app)
        await choose(pilot, dialog, "withdrawn")
        confirm = await wait_for_screen(pilot, ConfirmDeletion)
        assert "cannot be undone" in screen_text(app)
        assert f"Delete the commencement interview of {REVIEWED} now?" in screen_text(app)
        # Enter out of habit deletes nothing.
        await pilot.press("enter")
        await wait_for_notice(pilot, "Nothing changed")
        assert app.screen is queue and not confirm.is_attached
        assert state_of(review_study, REVIEWED) is TranscriptState.RETURNED
        assert audio.exists() and returned.exists()

        await pilot.press("d")
        dialog = await wait_for_screen(pilot, DecideDialog)
        await choose(pilot, dialog, "withdrawn")
        await wait_for_screen(pilot, ConfirmDeletion)
        await pilot.press("y")
        notice = await wait_for_screen(pilot, Notice)
        assert notice.notice_title == "Deleted"
        shown = "\n".join(notice.lines)
        # The machine transcript, the reviewer's and the participant's versions.
        assert "Deleted 3 versions of the transcript" in shown
        assert sent.name in shown and returned.name in shown and audio.name in shown
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is queue, "back on the approval queue")
    assert state_of(review_study, REVIEWED) is TranscriptState.WITHDRAWN
    assert Transcripts(review_study.db).for_interview(interview.id) == []
    assert not audio.exists() and not sent.exists() and not returned.exists()
    assert where_is(review_study.root, WORD) == []
    review_study.close()
    assert where_is(review_study.root, WORD) == []


async def test_withdrawn_under_the_keep_policy_keeps_the_data_without_asking(
    review_study: Study,
) -> None:
    interview = interview_of(review_study, SENT)
    revisions = Transcripts(review_study.db).for_interview(interview.id)
    app = FieldkitApp(review_study)
    async with app.run_test(size=LARGE) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, SENT)
        await pilot.press("d")
        dialog = await wait_for_screen(pilot, DecideDialog)
        assert "(its data is kept)" in screen_text(app)
        await choose(pilot, dialog, "withdrawn")
        await wait_for_notice(pilot, f"{SENT} (commencement): withdrawn")
        assert app.screen is queue
    assert state_of(review_study, SENT) is TranscriptState.WITHDRAWN
    assert Transcripts(review_study.db).for_interview(interview.id) == revisions
    [recording] = Recordings(review_study.db).for_interview(interview.id)
    assert review_study.paths.absolute(recording.path).exists()


# -- x: export -----------------------------------------------------------------------------------


async def test_export_the_highlighted_transcript_from_the_approval_queue(
    review_study: Study,
) -> None:
    deidentify(review_study, APPROVED)
    out_dir = default_out_dir(review_study)
    app = FieldkitApp(review_study)
    async with app.run_test(size=SMALL) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, APPROVED)
        await pilot.press("x")
        dialog = await wait_for_screen(pilot, ExportDialog)
        text = screen_text(app)
        assert f"only {APPROVED} (commencement)" in text
        assert "Ctrl+S" in text  # the whole dialog fits at 80x24, its last line too
        which = dialog.query_one("#export-which", RadioSet)
        assert which.pressed_button is not None and which.pressed_button.id == "which-highlighted"
        # No times in the text: Tab from the format list to the folder, then to the box, space.
        await pilot.press("tab", "tab")
        box = dialog.query_one("#export-timestamps", Checkbox)
        await wait_until(pilot, lambda: box.has_focus, "the times box focused")
        await pilot.press("space")
        await wait_until(pilot, lambda: not box.value, "the times box cleared")
        await pilot.press("ctrl+s")
        notice = await wait_for_screen(pilot, Notice)
        assert notice.notice_title == "Exported"
        shown = "\n".join(notice.lines)
        assert str(out_dir) in shown and f"{APPROVED}_commencement.docx" in shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is queue, "back on the approval queue")
    document = Document(str(out_dir / f"{APPROVED}_commencement.docx"))
    turns = [p.text for p in document.paragraphs if p.text.startswith(("Interviewer:", "INT"))]
    assert turns and not any("[" in t.split(":")[1][:3] for t in turns)  # no time after label
    [record] = Exports(review_study.db).all()
    assert record["format"] == "nvivo-docx" and APPROVED in record["transcripts"]


async def test_export_every_approved_transcript_as_qdpx_chosen_with_the_keys(
    review_study: Study,
) -> None:
    deidentify(review_study, APPROVED)
    out_dir = default_out_dir(review_study)
    app = FieldkitApp(review_study)
    async with app.run_test(size=LARGE) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, NEEDS_REVIEW)  # not approved: "every approved" only
        await pilot.press("x")
        dialog = await wait_for_screen(pilot, ExportDialog)
        assert "only " not in screen_text(app)
        formats = dialog.query_one("#export-format", RadioSet)
        await wait_until(pilot, lambda: formats.has_focus, "the format list focused")
        box = dialog.query_one("#export-timestamps", Checkbox)
        await pilot.press("down", "down", "down", "enter")  # csv: no times in the text
        await wait_until(pilot, lambda: dialog.fmt == "csv", "csv chosen")
        assert box.disabled
        await pilot.press("up", "enter")  # qdpx
        await wait_until(pilot, lambda: dialog.fmt == "qdpx", "qdpx chosen")
        assert not box.disabled and box.value
        await pilot.press("ctrl+s")
        notice = await wait_for_screen(pilot, Notice)
        assert "fieldkit-project.qdpx" in "\n".join(notice.lines)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is queue, "back on the approval queue")
    assert (out_dir / "fieldkit-project.qdpx").is_file()


async def test_export_refusal_names_the_key_that_fixes_it(review_study: Study) -> None:
    app = FieldkitApp(review_study)
    async with app.run_test(size=LARGE) as pilot:
        queue = await open_approvals(pilot)
        await highlight(pilot, queue, APPROVED)  # approved, but not de-identified yet
        await pilot.press("x")
        await wait_for_screen(pilot, ExportDialog)
        await pilot.press("ctrl+s")
        message = await wait_for_notice(pilot, "not de-identified yet", "error")
        assert "D on the interview queue" in message and "fieldkit " not in message
        await wait_until(pilot, lambda: not queue.busy, "the export finished")
        assert isinstance(app.screen, ApprovalQueueScreen)
    assert not default_out_dir(review_study).exists()
