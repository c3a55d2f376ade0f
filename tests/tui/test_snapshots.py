"""Snapshot tests: every screen of the app on the demo study, at 80×24 and 120×40.

A snapshot is the SVG Textual renders of the screen (no terminal, no fonts, no network), stored in
tests/tui/__snapshots__/test_snapshots/. A change to a screen's layout or wording fails here and
shows in review as a changed SVG. After changing a screen on purpose, look at the failure report
(snapshot_report.html), then accept the new pictures:

    pytest tests/tui/test_snapshots.py --snapshot-update

To be the same on every machine and every day, the tests freeze what changes by itself: the date
(the demo's consent dates and "days waiting" count back from today), the time zone, the disk's free
space and the interview clock. Textual's rendering changes between its releases, so the snapshots
record the Textual version they were made with (the [test] extra installs that one); with another
version they skip saying so (and fail under FIELDKIT_REQUIRE_ALL, as in CI).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from fieldkit.services.approval import send_copy
from fieldkit.services.demo import build_demo_study
from fieldkit.services.interviews import InterviewSession
from fieldkit.services.study import Study
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.approval_queue import ApprovalQueueScreen, ReturnedCopyScreen
from fieldkit.tui.screens.help import HelpScreen
from fieldkit.tui.screens.identifiers import DeidReviewScreen, IdentifiersScreen
from fieldkit.tui.screens.interview import InterviewScreen
from fieldkit.tui.screens.modals import Confirm, TextPrompt
from fieldkit.tui.screens.queue import QueueScreen
from fieldkit.tui.screens.report import ReportScreen
from fieldkit.tui.screens.review import ReviewScreen
from tests.requirements import require_or_skip

from .conftest import wait_for_screen, wait_until

# Noon, so that a slow run can never cross midnight and change "today".
FROZEN_NOW = dt.datetime(2025, 3, 14, 12, 0, tzinfo=ZoneInfo("UTC"))
FREE_BYTES = 123 * 1024**3
SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
# Not inside __snapshots__/: syrupy would take it for an unused snapshot and delete it.
TEXTUAL_VERSION_FILE = Path(__file__).parent / "snapshots-textual-version.txt"

NOT_INTERVIEWED = "INTSTA001-PEER"  # consented, no interview yet
NEEDS_REVIEW = "INTSTA006-PEER"
REVIEWED = "INTSTA007-CLIN"  # signed off: its copy can be sent, edited and returned
APPROVED = "INTSTA010-PEER"  # approved with changes: ready for de-identification

Steps = Callable[[Pilot[Any]], Awaitable[None]]
SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def same_textual(request: pytest.FixtureRequest) -> None:
    """The snapshots were drawn by one Textual release; another draws differently."""
    from importlib.metadata import version

    running = version("textual")
    if request.config.option.update_snapshots:
        TEXTUAL_VERSION_FILE.write_text(running + "\n", encoding="utf-8")
        return
    made_with = TEXTUAL_VERSION_FILE.read_text(encoding="utf-8").strip()
    if running != made_with:
        require_or_skip(
            f"the snapshots were made with textual {made_with}, this is textual {running} "
            f"(pip install textual=={made_with}, or check the screens and run "
            "pytest tests/tui/test_snapshots.py --snapshot-update)"
        )


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Today, the time zone, the free disk space and the interview clock held still."""

    def disk_usage(path: object) -> tuple[int, int, int]:
        return shutil._ntuple_diskusage(4 * FREE_BYTES, 3 * FREE_BYTES, FREE_BYTES)  # type: ignore[attr-defined]

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    monkeypatch.setattr(InterviewSession, "elapsed", lambda self: 0.0)
    with time_machine.travel(FROZEN_NOW, tick=True):
        yield


@pytest.fixture
def demo(frozen: None, tmp_path: Path) -> Iterator[Study]:
    """The demo study `fieldkit demo` opens, with transcripts in every state, built 'today'."""
    study = build_demo_study(tmp_path / "demo", actor="reviewer", transcripts=True)
    yield study
    study.close()


async def highlight(pilot: Pilot[Any], first_cell: str) -> None:
    """Put the current screen's table cursor on the row that starts with `first_cell`."""
    table = pilot.app.screen.query_one(DataTable)
    await wait_until(pilot, lambda: table.row_count > 0)
    row = next(i for i in range(table.row_count) if str(table.get_row_at(i)[0]) == first_cell)
    table.move_cursor(row=row)
    await pilot.pause()


async def queue(pilot: Pilot[Any]) -> None:
    await wait_for_screen(pilot, QueueScreen)
    await wait_until(pilot, lambda: pilot.app.screen.query_one(DataTable).row_count > 0)


async def interview(pilot: Pilot[Any]) -> None:
    await queue(pilot)
    await highlight(pilot, NOT_INTERVIEWED)
    await pilot.press("enter")
    await wait_for_screen(pilot, InterviewScreen)


async def end_interview_dialog(pilot: Pilot[Any]) -> None:
    await interview(pilot)
    await pilot.press("e")
    await wait_for_screen(pilot, Confirm)


async def interview_help(pilot: Pilot[Any]) -> None:
    await interview(pilot)
    await pilot.press("question_mark")
    await wait_for_screen(pilot, HelpScreen)


async def queue_help(pilot: Pilot[Any]) -> None:
    await queue(pilot)
    await pilot.press("question_mark")
    await wait_for_screen(pilot, HelpScreen)


async def approval_queue(pilot: Pilot[Any]) -> None:
    await queue(pilot)
    await pilot.press("a")
    await wait_for_screen(pilot, ApprovalQueueScreen)


async def review(pilot: Pilot[Any]) -> None:
    await approval_queue(pilot)
    await highlight(pilot, NEEDS_REVIEW)
    await pilot.press("enter")
    await wait_for_screen(pilot, ReviewScreen)


async def returned_copy(pilot: Pilot[Any]) -> None:
    """The participant deleted a sentence and added one; the copy comes back."""
    app = pilot.app
    assert isinstance(app, FieldkitApp)
    copy = app.study.paths.exports / "returned-copy.txt"
    send_copy(app.study, REVIEWED, copy)
    text = copy.read_text(encoding="utf-8").replace("It feels more like a home.", "")
    copy.write_text(text.replace("for others", "for others, like my brother"), encoding="utf-8")
    await approval_queue(pilot)
    await highlight(pilot, REVIEWED)
    await pilot.press("v")
    prompt = await wait_for_screen(pilot, TextPrompt)
    prompt.query_one(Input).value = str(copy)
    await pilot.press("enter")
    await wait_for_screen(pilot, ReturnedCopyScreen)


async def report(pilot: Pilot[Any]) -> None:
    await queue(pilot)
    await pilot.press("R")
    screen = await wait_for_screen(pilot, ReportScreen)
    await wait_until(pilot, lambda: screen.report is not None)  # gathered in a worker


async def identifiers(pilot: Pilot[Any]) -> None:
    await queue(pilot)
    await pilot.press("I")
    await wait_for_screen(pilot, IdentifiersScreen)


async def deidentification(pilot: Pilot[Any]) -> None:
    await queue(pilot)
    await highlight(pilot, APPROVED)
    await pilot.press("D")
    screen = await wait_for_screen(pilot, DeidReviewScreen)
    await wait_until(pilot, lambda: screen.review is not None)


SCREENS: dict[str, Steps] = {
    "queue": queue,
    "interview": interview,
    "interview-help": interview_help,
    "end-interview-dialog": end_interview_dialog,
    "queue-help": queue_help,
    "approval-queue": approval_queue,
    "review": review,
    "returned-copy": returned_copy,
    "report": report,
    "identifiers": identifiers,
    "deidentification": deidentification,
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", SCREENS)
def test_screen(snap_compare: SnapCompare, demo: Study, screen: str, size: str) -> None:
    assert snap_compare(FieldkitApp(demo), terminal_size=SIZES[size], run_before=SCREENS[screen])
