"""Issue 11 §4 for the reviewer's desk: dialogs wrap their text, the help overlay is titled for
the screen it describes, and the approval queue and returned-copy screens are usable at 80×24
(every column, the overdue count and the essential keys on screen)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from fieldkit.core.models import ConsentStatus
from fieldkit.services.approval import send_copy
from fieldkit.services.demo import build_demo_study
from fieldkit.services.interviews import current_interview
from fieldkit.services.participants import interview_queue
from fieldkit.services.study import Study
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.help import HelpScreen, help_title
from fieldkit.tui.screens.identifiers import IdentifiersScreen
from fieldkit.tui.screens.interview import InterviewScreen
from fieldkit.tui.screens.modals import Confirm, ConfirmDeletion, Notice, TextPrompt
from fieldkit.tui.screens.queue import QueueScreen
from fieldkit.tui.screens.report import ReportScreen
from fieldkit.tui.screens.returned_copy import ReturnedCopyScreen
from fieldkit.tui.screens.review import ReviewScreen

from .desk import (
    ADDED_SENTENCE,
    DELETED_SENTENCE,
    NEEDS_REVIEW,
    OVERDUE,
    REVIEWED,
    edit_docx,
    highlight,
    open_approvals,
    screen_lines,
    screen_text,
    wait_for_screen,
    wait_until,
)

SMALL = (80, 24)
LARGE = (120, 40)
# The interview screen's question when Escape is pressed while recording (issue 11 §4).
LONG_QUESTION = (
    "Stop recording and go back to the queue? Everything recorded is kept and the interview "
    "stays open."
)


@pytest.fixture
def desk_study(tmp_path: Path) -> Iterator[Study]:
    study = build_demo_study(tmp_path / "demo", actor="reviewer", transcripts=True)
    yield study
    study.close()


def words_on_screen(app: Any) -> str:
    """The words inside the dialog's box, as the terminal shows them, joined across lines."""
    box = app.screen.query_one(".dialog-box").region
    lines = screen_lines(app)[box.y + 1 : box.bottom - 1]
    return " ".join(" ".join(line[box.x + 1 : box.right - 1] for line in lines).split())


@pytest.mark.parametrize("dialog", [Confirm, ConfirmDeletion])
async def test_a_dialog_wraps_its_question_instead_of_cutting_it_off(
    desk_study: Study, dialog: type[Confirm]
) -> None:
    app = FieldkitApp(desk_study)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for_screen(pilot, QueueScreen)
        app.push_screen(dialog(LONG_QUESTION, details=LONG_QUESTION.upper()))
        await wait_for_screen(pilot, dialog)
        shown = words_on_screen(app)
        assert LONG_QUESTION in shown
        assert LONG_QUESTION.upper() in shown


async def test_a_prompt_and_a_notice_wrap_their_text(desk_study: Study) -> None:
    app = FieldkitApp(desk_study)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for_screen(pilot, QueueScreen)
        app.push_screen(TextPrompt("A title", description=LONG_QUESTION))
        await wait_for_screen(pilot, TextPrompt)
        assert LONG_QUESTION in words_on_screen(app)
        app.pop_screen()
        app.push_screen(Notice("Done", [LONG_QUESTION, "/a/very/long/path/" * 6]))
        await wait_for_screen(pilot, Notice)
        assert LONG_QUESTION in words_on_screen(app)


Opener = Callable[[Pilot[Any], Study], Awaitable[None]]


async def on_queue(pilot: Pilot[Any], study: Study) -> None:
    await wait_for_screen(pilot, QueueScreen)


async def on_interview(pilot: Pilot[Any], study: Study) -> None:
    await wait_for_screen(pilot, QueueScreen)
    table = pilot.app.screen.query_one(DataTable)
    await wait_until(pilot, lambda: table.row_count, "rows")
    fresh = [  # consented and not interviewed yet: Enter opens the interview at once
        p.id
        for p in interview_queue(study)
        if p.status is ConsentStatus.CONSENTED and current_interview(study, p.id) is None
    ]
    table.move_cursor(row=table.get_row_index(fresh[0]))
    await pilot.press("enter")
    await wait_for_screen(pilot, InterviewScreen)


async def on_approvals(pilot: Pilot[Any], study: Study) -> None:
    await open_approvals(pilot)


async def on_review(pilot: Pilot[Any], study: Study) -> None:
    queue = await open_approvals(pilot)
    await highlight(pilot, queue, NEEDS_REVIEW)
    await pilot.press("enter")
    await wait_for_screen(pilot, ReviewScreen)


async def on_returned_copy(pilot: Pilot[Any], study: Study) -> None:
    copy = study.paths.root / "copy.docx"
    send_copy(study, REVIEWED, copy)
    edit_docx(copy, study.paths.root / "back.docx", DELETED_SENTENCE, "for others", ADDED_SENTENCE)
    queue = await open_approvals(pilot)
    await highlight(pilot, queue, REVIEWED)
    await pilot.press("v")
    prompt = await wait_for_screen(pilot, TextPrompt)
    prompt.query_one(Input).value = str(study.paths.root / "back.docx")
    await pilot.press("enter")
    await wait_for_screen(pilot, ReturnedCopyScreen)


async def on_report(pilot: Pilot[Any], study: Study) -> None:
    await wait_for_screen(pilot, QueueScreen)
    await pilot.press("R")
    await wait_for_screen(pilot, ReportScreen)


async def on_identifiers(pilot: Pilot[Any], study: Study) -> None:
    await wait_for_screen(pilot, QueueScreen)
    await pilot.press("I")
    await wait_for_screen(pilot, IdentifiersScreen)


@pytest.mark.parametrize(
    ("opener", "title"),
    [
        (on_queue, "Interview queue"),
        (on_interview, "Interview"),
        (on_approvals, "Approval queue"),
        (on_review, "Review"),
        (on_returned_copy, "Returned copy"),
        (on_report, "Study report"),
        (on_identifiers, "Identifier list"),
    ],
)
async def test_the_help_overlay_is_titled_for_its_screen(
    desk_study: Study, opener: Opener, title: str
) -> None:
    app = FieldkitApp(desk_study)
    async with app.run_test(size=SMALL) as pilot:
        await opener(pilot, desk_study)
        described = app.screen
        await pilot.press("question_mark")
        help_screen = await wait_for_screen(pilot, HelpScreen)
        assert help_screen.help_title == title == help_title(described)
        assert f"Keys — {title}" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is described, "the screen again")


def test_a_screen_without_a_listed_name_is_titled_from_its_class() -> None:
    class WaveChoiceScreen:
        pass

    assert help_title(WaveChoiceScreen()) == "Wave choice"  # type: ignore[arg-type]


def footer_line(app: Any) -> str:
    return screen_lines(app)[-1]


async def test_the_approval_queue_fits_80_by_24(desk_study: Study) -> None:
    app = FieldkitApp(desk_study)
    async with app.run_test(size=SMALL) as pilot:
        await open_approvals(pilot)
        lines = screen_lines(app)
        footer = footer_line(app)
        for key in ("s Send", "v Returned copy", "d Decide", "x Export", "esc Back", "? Help"):
            assert key in footer, f"{key!r} missing from the footer: {footer!r}"
        row = next(line for line in lines if line.lstrip().startswith(OVERDUE))
        assert row.rstrip().endswith("OVERDUE")  # the last column is whole
        assert "commencement" in row and "sent to participant" in row and "17 days" in row
        assert any("⚠ 1 overdue" in line for line in lines)
        # Wider, the deadline shows its year again.
        await pilot.resize_terminal(*LARGE)
        await wait_until(
            pilot,
            lambda: any(OVERDUE in ln and "-" in ln.split("days")[-1] for ln in screen_lines(app)),
            "the deadline as a full date",
        )


async def test_the_returned_copy_screen_fits_80_by_24(desk_study: Study) -> None:
    app = FieldkitApp(desk_study)
    async with app.run_test(size=SMALL) as pilot:
        await on_returned_copy(pilot, desk_study)
        footer = footer_line(app)
        for key in ("s Store", "n Next change", "p Previous change", "esc Cancel", "? Help"):
            assert key in footer, f"{key!r} missing from the footer: {footer!r}"
        text = screen_text(app)
        assert "What was sent" in text and "What came back" in text
        assert "Deleted: red, struck through (left)" in text
