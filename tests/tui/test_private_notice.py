"""The app says once that opening the study made its files owner-only."""

from __future__ import annotations

import time
from pathlib import Path

from textual.pilot import Pilot

from fieldkit.services.study import init_study, open_study
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.queue import QueueScreen

from .conftest import SIZE, notifications

NOTE = (
    "Tightened permissions on 3 of fieldkit's files and folders in the study so only you can "
    "read them."
)


async def wait_for_queue(pilot: Pilot[None], app: FieldkitApp) -> None:
    deadline = time.monotonic() + 10
    while not isinstance(app.screen, QueueScreen):
        assert time.monotonic() < deadline, "the queue screen did not open"
        await pilot.pause(0.05)


async def test_the_app_notifies_once_that_it_tightened_the_study(tmp_path: Path) -> None:
    root = tmp_path / "study"
    init_study(root, title="Loose", actor="tester").close()
    for path, loose in ((root, 0o755), (root / "study.toml", 0o644), (root / "fieldkit.db", 0o644)):
        path.chmod(loose)

    study = open_study(root, actor="tester")
    app = FieldkitApp(study)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_queue(pilot, app)
        assert [m for _, m in notifications(app) if "permissions" in m] == [NOTE]
    study.close()

    again = open_study(root, actor="tester")  # all private now: nothing to say
    app = FieldkitApp(again)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_queue(pilot, app)
        assert not [m for _, m in notifications(app) if "permissions" in m]
    again.close()
