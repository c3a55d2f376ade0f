"""Snapshot tests: every screen and dialog of the app on the demo study (navigate.py has the keys
that reach each one; the passphrase screen is the encrypted demo's), at 80×24 and 120×40.

A snapshot is the SVG Textual renders of the screen (no terminal, no fonts, no network), stored in
tests/tui/__snapshots__/test_snapshots/. A change to a screen's layout or wording fails here and
shows in review as a changed SVG. After changing a screen on purpose, look at the failure report
(snapshot_report.html), then accept the new pictures:

    pytest tests/tui/test_snapshots.py --snapshot-update

To be the same on every machine and every day, the tests freeze what changes by itself: the date
(the demo's consent dates and "days waiting" count back from today), the time zone, the disk's free
space and the interview clock; a dialog showing a path in the study shows it under a fixed folder
(navigate.SHOWN_STUDY). Textual's rendering changes between its releases, so the snapshots
record the Textual version they were made with (the [test] extra installs that one); with another
version they skip saying so (and fail under FIELDKIT_REQUIRE_ALL, as in CI).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from textual.pilot import Pilot
from textual.widgets import Input

from fieldkit.services.demo import build_demo_study, build_encrypted_demo_study
from fieldkit.services.interviews import InterviewSession
from fieldkit.services.study import Study, find_study
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.unlock import UnlockScreen
from tests.encrypted import PASSPHRASE, use_fast_kdf
from tests.requirements import require_or_skip

from .conftest import shown, wait_for_screen, wait_until
from .navigate import SCREENS

# Noon, so that a slow run can never cross midnight and change "today".
FROZEN_NOW = dt.datetime(2025, 3, 14, 12, 0, tzinfo=ZoneInfo("UTC"))
FREE_BYTES = 123 * 1024**3
SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
# Not inside __snapshots__/: syrupy would take it for an unused snapshot and delete it.
TEXTUAL_VERSION_FILE = Path(__file__).parent / "snapshots-textual-version.txt"

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


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", SCREENS)
def test_screen(snap_compare: SnapCompare, demo: Study, screen: str, size: str) -> None:
    assert snap_compare(FieldkitApp(demo), terminal_size=SIZES[size], run_before=SCREENS[screen])


@pytest.fixture
def locked_demo(frozen: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Study]:
    """The demo study, encrypted, as the app finds it before the passphrase is given."""
    use_fast_kdf(monkeypatch)
    root = tmp_path / "demo"
    build_encrypted_demo_study(lambda: PASSPHRASE, root, actor="reviewer")[0].close()
    study = find_study(root, actor="reviewer")
    yield study
    study.close()


async def one_wrong_passphrase(pilot: Pilot[Any]) -> None:
    screen = await wait_for_screen(pilot, UnlockScreen)
    field = screen.query_one("#passphrase", Input)
    field.value = "not the passphrase"
    await pilot.press("enter")
    await wait_until(pilot, lambda: "Wrong passphrase" in shown(pilot.app, "#unlock-status"))
    await wait_until(pilot, lambda: not field.disabled)


@pytest.mark.parametrize("size", SIZES)
def test_passphrase_screen(snap_compare: SnapCompare, locked_demo: Study, size: str) -> None:
    app = FieldkitApp(locked_demo)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=one_wrong_passphrase)
