"""The approval queue through Pilot: overdue first, days waiting, sign-off, opening the review,
and a returned copy shown side by side before it is stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from fieldkit.core.workflow import TranscriptState
from fieldkit.services.approval import approval_state, send_copy
from fieldkit.services.study import Study
from fieldkit.store.repo import Interviews
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.approval_queue import ApprovalQueueScreen, ReturnedCopyScreen
from fieldkit.tui.screens.modals import TextPrompt
from fieldkit.tui.screens.review import ReviewScreen
from fieldkit.tui.widgets.review_diff import DiffRow

from .conftest import wait_for_notification, wait_for_screen, wait_until

SIZE = (120, 40)


@pytest.fixture
def queue_study(tmp_path: Path) -> Iterator[Study]:
    from fieldkit.services.demo import build_demo_study

    study = build_demo_study(tmp_path / "demo", actor="reviewer", transcripts=True)
    yield study
    study.close()


def rows(screen: ApprovalQueueScreen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def open_queue(app: FieldkitApp, pilot: object) -> ApprovalQueueScreen:
    screen = ApprovalQueueScreen()
    app.push_screen(screen)
    await wait_until(pilot, lambda: app.screen is screen and screen.is_mounted)  # type: ignore[arg-type]
    return screen


async def test_overdue_first_with_days_waiting(queue_study: Study) -> None:
    app = FieldkitApp(queue_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_queue(app, pilot)
        table = rows(screen)
        assert table[0][0] == "INTSTA008-PEER"
        assert table[0][2] == "sent to participant" and table[0][5] == "OVERDUE"
        assert table[0][3] == "17 days"
        assert [r[5] for r in table[1:]] == [""] * (len(table) - 1)
        states = [r[2] for r in table]
        assert {"needs review", "reviewed", "approved with changes"} <= set(states)


async def test_enter_opens_the_review_screen(queue_study: Study) -> None:
    app = FieldkitApp(queue_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_queue(app, pilot)
        await pilot.press("down")
        expected = rows(screen)[1][0]
        await pilot.press("enter")
        review = await wait_for_screen(pilot, ReviewScreen)
        assert review.interview.participant_id == expected
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)


async def test_r_signs_off_and_the_row_moves(queue_study: Study) -> None:
    app = FieldkitApp(queue_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_queue(app, pilot)
        index = next(i for i, r in enumerate(rows(screen)) if r[2] == "needs review")
        pid = rows(screen)[index][0]
        screen.query_one(DataTable).move_cursor(row=index)
        await pilot.press("r")
        await wait_until(pilot, lambda: dict((r[0], r[2]) for r in rows(screen))[pid] == "reviewed")
    [interview] = Interviews(queue_study.db).for_participant(pid)
    assert approval_state(queue_study, interview.id) is TranscriptState.REVIEWED


async def test_a_returned_copy_is_shown_side_by_side_then_stored(
    queue_study: Study, tmp_path: Path
) -> None:
    pid = "INTSTA007-CLIN"  # reviewed in the demo
    copy = tmp_path / "copy.txt"
    send_copy(queue_study, pid, copy)
    text = copy.read_text(encoding="utf-8").replace("It feels more like a home.", "")
    copy.write_text(text.replace("for others", "for others, like my brother"), encoding="utf-8")
    app = FieldkitApp(queue_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_queue(app, pilot)
        index = next(i for i, r in enumerate(rows(screen)) if r[0] == pid)
        screen.query_one(DataTable).move_cursor(row=index)
        await pilot.press("v")
        prompt = await wait_for_screen(pilot, TextPrompt)
        prompt.query_one(Input).value = str(copy)
        await pilot.press("enter")
        returned = await wait_for_screen(pilot, ReturnedCopyScreen)
        diff_rows = returned.query(DiffRow)
        assert len(diff_rows) == 2
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen)
        assert dict((r[0], r[2]) for r in rows(screen))[pid] == "returned"
    [interview] = Interviews(queue_study.db).for_participant(pid)
    assert approval_state(queue_study, interview.id) is TranscriptState.RETURNED
    kinds = [
        r["kind"]
        for r in queue_study.db["transcripts"].rows_where("interview_id = ?", [interview.id])
    ]
    assert kinds[-1] == "participant"


async def test_a_wrong_file_is_one_error_notification(queue_study: Study, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    send_copy(queue_study, "INTSTA007-CLIN", other)
    app = FieldkitApp(queue_study)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_queue(app, pilot)
        assert rows(screen)[0][0] == "INTSTA008-PEER"  # sent, overdue: a different participant
        await pilot.press("v")
        prompt = await wait_for_screen(pilot, TextPrompt)
        prompt.query_one(Input).value = str(other)
        await pilot.press("enter")
        await wait_for_notification(pilot, "is the copy sent to INTSTA007-CLIN", "error")
        assert app.screen is screen
