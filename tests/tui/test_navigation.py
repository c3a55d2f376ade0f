"""The queue screen reaches every other screen of the app by key (the full demo study)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from fieldkit.services.demo import build_demo_study
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.approval_queue import ApprovalQueueScreen
from fieldkit.tui.screens.identifiers import DeidReviewScreen, IdentifiersScreen
from fieldkit.tui.screens.queue import QueueScreen
from fieldkit.tui.screens.report import ReportScreen
from tests.tui.conftest import SIZE, wait_for_screen


@pytest.mark.parametrize(
    ("key", "screen"),
    [("a", ApprovalQueueScreen), ("R", ReportScreen), ("I", IdentifiersScreen)],
)
async def test_keys_open_the_screens_and_escape_returns(
    tmp_path: Path, key: str, screen: type
) -> None:
    study = build_demo_study(tmp_path / "demo", transcripts=True)
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, QueueScreen)
        await pilot.press(key)
        await wait_for_screen(pilot, screen)
        await pilot.press("escape")
        await wait_for_screen(pilot, QueueScreen)


async def test_d_opens_de_identification_of_the_highlighted_participant(tmp_path: Path) -> None:
    study = build_demo_study(tmp_path / "demo", transcripts=True)
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        queue = await wait_for_screen(pilot, QueueScreen)
        table = queue.query_one(DataTable)
        approved = "INTSTA010-PEER"  # approved with changes in the demo
        row = next(i for i, key in enumerate(table.rows) if key.value == approved)
        table.move_cursor(row=row)
        await pilot.press("D")
        deid = await wait_for_screen(pilot, DeidReviewScreen)
        assert deid.interview.participant_id == approved
