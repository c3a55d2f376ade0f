"""The keys that bring the demo study's app to each of its screens and dialogs, as a user would
press them. Shared by the snapshot tests (a picture of every screen at 80×24 and 120×40) and the
layout tests (what each screen shows at 80×24)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from fieldkit.services.approval import send_copy
from fieldkit.services.interviews import get_interview, latest_interview_ids
from fieldkit.services.review import draft_for, keep_draft
from fieldkit.services.study import Study
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.approval_dialogs import DecideDialog, SendCopyDialog
from fieldkit.tui.screens.approval_queue import ApprovalQueueScreen, ReturnedCopyScreen
from fieldkit.tui.screens.export_dialog import ExportDialog
from fieldkit.tui.screens.help import HelpScreen
from fieldkit.tui.screens.identifiers import DeidReviewScreen, IdentifiersScreen
from fieldkit.tui.screens.interview import InterviewScreen
from fieldkit.tui.screens.modals import ChooseTerm, Confirm, ConfirmDeletion, TextPrompt
from fieldkit.tui.screens.queue import QueueScreen
from fieldkit.tui.screens.report import ReportScreen
from fieldkit.tui.screens.review import ChooseSpeaker, EditTurn, RestoreDraft, ReviewScreen
from fieldkit.tui.screens.wave_choice import WaveChoice

from .conftest import wait_for_screen, wait_until

Steps = Callable[[Pilot[Any]], Awaitable[None]]

NOT_INTERVIEWED = "INTSTA001-PEER"  # consented, no interview yet
NEEDS_REVIEW = "INTSTA006-PEER"
REVIEWED = "INTSTA007-CLIN"  # signed off: its copy can be sent, edited and returned
OVERDUE = "INTSTA008-PEER"  # sent 17 days ago: every decision is open
APPROVED = "INTSTA010-PEER"  # approved with changes: ready for de-identification
# Paths in dialogs name the test's temporary folder, different on every run; a picture shows
# this one instead (a study in a reviewer's home folder).
SHOWN_STUDY = "/home/reviewer/ccu-study"


def study_of(pilot: Pilot[Any]) -> Study:
    app = pilot.app
    assert isinstance(app, FieldkitApp)
    return app.study


async def highlight(pilot: Pilot[Any], first_cell: str) -> None:
    """Put the current screen's table cursor on the row that starts with `first_cell`."""
    table = pilot.app.screen.query_one(DataTable)
    await wait_until(pilot, lambda: table.row_count > 0)
    row = next(i for i in range(table.row_count) if str(table.get_row_at(i)[0]) == first_cell)
    table.move_cursor(row=row)
    await pilot.pause()


def show_fixed_paths(pilot: Pilot[Any], *selectors: str) -> None:
    """Inputs that hold a path in the study show it under SHOWN_STUDY (see there)."""
    root = str(study_of(pilot).root)
    for selector in selectors:
        field = pilot.app.screen.query_one(selector, Input)
        field.value = field.value.replace(root, SHOWN_STUDY)
        field.cursor_position = 0


# -- the interview queue and the interview -------------------------------------------------------


async def queue(pilot: Pilot[Any]) -> None:
    await wait_for_screen(pilot, QueueScreen)
    await wait_until(pilot, lambda: pilot.app.screen.query_one(DataTable).row_count > 0)


async def queue_help(pilot: Pilot[Any]) -> None:
    await queue(pilot)
    await pilot.press("question_mark")
    await wait_for_screen(pilot, HelpScreen)


async def wave_choice(pilot: Pilot[Any]) -> None:
    """Enter on a participant whose interview has ended: start the next wave, or view it?"""
    await queue(pilot)
    await highlight(pilot, NEEDS_REVIEW)
    await pilot.press("enter")
    await wait_for_screen(pilot, WaveChoice)


async def interview(pilot: Pilot[Any]) -> None:
    await queue(pilot)
    await highlight(pilot, NOT_INTERVIEWED)
    await pilot.press("enter")
    await wait_for_screen(pilot, InterviewScreen)


async def interview_help(pilot: Pilot[Any]) -> None:
    await interview(pilot)
    await pilot.press("question_mark")
    await wait_for_screen(pilot, HelpScreen)


async def field_note(pilot: Pilot[Any]) -> None:
    await interview(pilot)
    await pilot.press("f")
    await wait_for_screen(pilot, TextPrompt)


async def end_interview_dialog(pilot: Pilot[Any]) -> None:
    await interview(pilot)
    await pilot.press("e")
    await wait_for_screen(pilot, Confirm)


# -- the approval queue and its dialogs ----------------------------------------------------------


async def approval_queue(pilot: Pilot[Any]) -> None:
    await queue(pilot)
    await pilot.press("a")
    await wait_for_screen(pilot, ApprovalQueueScreen)


async def approval_help(pilot: Pilot[Any]) -> None:
    await approval_queue(pilot)
    await pilot.press("question_mark")
    await wait_for_screen(pilot, HelpScreen)


async def send_dialog(pilot: Pilot[Any]) -> None:
    await approval_queue(pilot)
    await highlight(pilot, REVIEWED)
    await pilot.press("s")
    await wait_for_screen(pilot, SendCopyDialog)
    show_fixed_paths(pilot, "#send-folder")


async def returned_copy_prompt(pilot: Pilot[Any]) -> None:
    await approval_queue(pilot)
    await highlight(pilot, OVERDUE)
    await pilot.press("v")
    await wait_for_screen(pilot, TextPrompt)
    show_fixed_paths(pilot, "#prompt-input")


async def returned_copy(pilot: Pilot[Any]) -> None:
    """The participant deleted a sentence and added one; the copy comes back."""
    study = study_of(pilot)
    copy = study.paths.exports / "returned-copy.txt"
    send_copy(study, REVIEWED, copy)
    text = copy.read_text(encoding="utf-8").replace("It feels more like a home.", "")
    copy.write_text(text.replace("for others", "for others, like my brother"), encoding="utf-8")
    await approval_queue(pilot)
    await highlight(pilot, REVIEWED)
    await pilot.press("v")
    prompt = await wait_for_screen(pilot, TextPrompt)
    prompt.query_one(Input).value = str(copy)
    await pilot.press("enter")
    await wait_for_screen(pilot, ReturnedCopyScreen)


async def returned_copy_help(pilot: Pilot[Any]) -> None:
    await returned_copy(pilot)
    await pilot.press("question_mark")
    await wait_for_screen(pilot, HelpScreen)


async def decide_dialog(pilot: Pilot[Any]) -> None:
    """The overdue transcript: every decision is open, no response included."""
    await approval_queue(pilot)
    await highlight(pilot, OVERDUE)
    await pilot.press("d")
    await wait_for_screen(pilot, DecideDialog)


async def withdrawal_confirmation(pilot: Pilot[Any]) -> None:
    """Withdrawn, in a study whose policy deletes a withdrawn participant's data."""
    study = study_of(pilot)
    approval = dataclasses.replace(study.config.approval, withdrawn_data="delete")
    study.config = dataclasses.replace(study.config, approval=approval)
    await decide_dialog(pilot)
    dialog = pilot.app.screen
    choices = [c.word for c in dialog.choices] if isinstance(dialog, DecideDialog) else []
    for _ in range(choices.index("withdrawn")):
        await pilot.press("down")
    await pilot.press("enter")
    await wait_for_screen(pilot, ConfirmDeletion)


async def export_dialog(pilot: Pilot[Any]) -> None:
    await approval_queue(pilot)
    await highlight(pilot, APPROVED)
    await pilot.press("x")
    await wait_for_screen(pilot, ExportDialog)
    show_fixed_paths(pilot, "#export-folder")


# -- review ----------------------------------------------------------------------------------------


async def review(pilot: Pilot[Any]) -> None:
    await approval_queue(pilot)
    await highlight(pilot, NEEDS_REVIEW)
    await pilot.press("enter")
    await wait_for_screen(pilot, ReviewScreen)


async def review_help(pilot: Pilot[Any]) -> None:
    await review(pilot)
    await pilot.press("question_mark")
    await wait_for_screen(pilot, HelpScreen)


async def edit_turn(pilot: Pilot[Any]) -> None:
    await review(pilot)
    await pilot.press("e")
    await wait_for_screen(pilot, EditTurn)


async def speaker_choice(pilot: Pilot[Any]) -> None:
    await review(pilot)
    await pilot.press("down", "s")  # the participant's first turn
    await wait_for_screen(pilot, ChooseSpeaker)


async def draft_offer(pilot: Pilot[Any]) -> None:
    """Edits left unsaved when the app closed are offered again on opening the transcript."""
    study = study_of(pilot)
    interview = get_interview(study, latest_interview_ids(study)[NEEDS_REVIEW])
    draft = draft_for(study, interview)
    draft.edit_text(1, draft.segments[1].text.replace("six years", "seven years"))
    keep_draft(study, draft)
    await approval_queue(pilot)
    await highlight(pilot, NEEDS_REVIEW)
    await pilot.press("enter")  # the offer comes up over the review screen at once
    await wait_for_screen(pilot, RestoreDraft)


# -- de-identification, the identifier list, the report -------------------------------------------


async def deidentification(pilot: Pilot[Any]) -> None:
    await queue(pilot)
    await highlight(pilot, APPROVED)
    await pilot.press("D")
    screen = await wait_for_screen(pilot, DeidReviewScreen)
    await wait_until(pilot, lambda: screen.review is not None)


async def deidentification_help(pilot: Pilot[Any]) -> None:
    await deidentification(pilot)
    await pilot.press("question_mark")
    await wait_for_screen(pilot, HelpScreen)


async def identifiers(pilot: Pilot[Any]) -> None:
    await queue(pilot)
    await pilot.press("I")
    await wait_for_screen(pilot, IdentifiersScreen)


async def identifier_prompt(pilot: Pilot[Any]) -> None:
    await identifiers(pilot)
    await pilot.press("a")
    await wait_for_screen(pilot, TextPrompt)


async def identifier_category(pilot: Pilot[Any]) -> None:
    await identifier_prompt(pilot)
    await pilot.press(*"Maple Street", "enter")
    await wait_for_screen(pilot, ChooseTerm)


async def report(pilot: Pilot[Any]) -> None:
    await queue(pilot)
    await pilot.press("R")
    screen = await wait_for_screen(pilot, ReportScreen)
    await wait_until(pilot, lambda: screen.report is not None)  # gathered in a worker


# Every screen and dialog of the app on the demo study (the passphrase screen needs an encrypted
# study: see test_snapshots.py).
SCREENS: dict[str, Steps] = {
    "queue": queue,
    "queue-help": queue_help,
    "wave-choice": wave_choice,
    "interview": interview,
    "interview-help": interview_help,
    "field-note": field_note,
    "end-interview-dialog": end_interview_dialog,
    "approval-queue": approval_queue,
    "approval-help": approval_help,
    "send-dialog": send_dialog,
    "returned-copy-prompt": returned_copy_prompt,
    "returned-copy": returned_copy,
    "returned-copy-help": returned_copy_help,
    "decide-dialog": decide_dialog,
    "withdrawal-confirmation": withdrawal_confirmation,
    "export-dialog": export_dialog,
    "review": review,
    "review-help": review_help,
    "edit-turn": edit_turn,
    "speaker-choice": speaker_choice,
    "draft-offer": draft_offer,
    "deidentification": deidentification,
    "deidentification-help": deidentification_help,
    "identifiers": identifiers,
    "identifier-prompt": identifier_prompt,
    "identifier-category": identifier_category,
    "report": report,
}
