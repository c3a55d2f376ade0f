"""The app starts with only what its queue needs: the other screens (interview with its audio,
review, approval desk, report, identifiers, passphrase, help) are imported when they are opened.

Checked by what a fresh process has imported (sys.modules) once the queue shows its rows — in a
Pilot run in a subprocess, since this test process has imported everything long ago."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fieldkit.services.demo import build_demo_study

REPO_ROOT = Path(__file__).resolve().parents[2]

START_THEN_LIST_MODULES = """
import asyncio, json, sys, time
from pathlib import Path

from fieldkit.cli.common import AppContext


async def main(root, keys):
    from textual.widgets import DataTable

    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.queue import QueueScreen

    app = FieldkitApp(AppContext(study_dir=Path(root)).study_for_app())  # as `fieldkit` does
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 20
        while not (
            isinstance(app.screen, QueueScreen) and app.screen.query_one(DataTable).row_count
        ):
            assert time.monotonic() < deadline, "the queue never showed its rows"
            await pilot.pause(0.02)
        at_first_paint = sorted(sys.modules)
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.2)
        after_keys = sorted(sys.modules)
        await app.action_quit()
    return {"first": at_first_paint, "after": after_keys}


print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2:]))))
"""

# Modules only other screens need (and the libraries they bring).
NOT_AT_START = (
    "fieldkit.tui.screens.interview",
    "fieldkit.tui.screens.review",
    "fieldkit.tui.screens.approval_queue",
    "fieldkit.tui.screens.approval_dialogs",
    "fieldkit.tui.screens.returned_copy",
    "fieldkit.tui.screens.export_dialog",
    "fieldkit.tui.screens.identifiers",
    "fieldkit.tui.screens.report",
    "fieldkit.tui.screens.unlock",
    "fieldkit.tui.screens.help",
    "fieldkit.tui.recording_link",
    "fieldkit.tui.playing",
    "fieldkit.services.recording",
    "fieldkit.services.live_guard",
    "fieldkit.services.playback",
    "fieldkit.services.review",
    "fieldkit.services.export",
    "fieldkit.services.deletion",
    "fieldkit.services.approval.copies",
    "fieldkit.audio",
    "fieldkit.transcribe",
    "fieldkit.export",
    "numpy",
    "soundfile",
    "sounddevice",
    "faster_whisper",
    "ctranslate2",
    "av",
    "docx",
    "yaml",
    "cryptography",
    "sqlcipher3",
)


def start_app(tmp_path: Path, *keys: str) -> dict[str, set[str]]:
    root = tmp_path / "demo"
    build_demo_study(root, transcripts=True).close()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", START_THEN_LIST_MODULES, str(root), *keys],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    return {moment: set(modules) for moment, modules in report.items()}


def loaded_of(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n in modules or any(m.startswith(f"{n}.") for m in modules))


def test_the_queue_shows_without_the_other_screens_or_audio(tmp_path: Path) -> None:
    modules = start_app(tmp_path)
    assert "fieldkit.tui.screens.queue" in modules["first"]
    assert loaded_of(modules["first"], NOT_AT_START) == []


def test_a_screen_is_imported_when_it_is_opened(tmp_path: Path) -> None:
    modules = start_app(tmp_path, "R")  # the study report
    assert "fieldkit.tui.screens.report" not in modules["first"]
    assert "fieldkit.tui.screens.report" in modules["after"]
