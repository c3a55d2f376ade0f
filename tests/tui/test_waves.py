"""Issue 9, item 3 in the app: Enter on a participant whose current wave has ended never starts a
new wave silently. It asks: start the next wave (named), view the ended interview, or cancel."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList

from fieldkit.core.models import InterviewStatus
from fieldkit.services.participants import interview_queue, withdraw_consent
from fieldkit.services.recording import import_recording
from fieldkit.services.study import Study
from fieldkit.store.repo import Interviews
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.interview import InterviewScreen
from fieldkit.tui.screens.queue import QueueScreen
from fieldkit.tui.screens.wave_choice import WaveChoice

from .conftest import SIZE, notifications, shown


async def wait_for(
    pilot: Pilot[None], what: str, ready: Callable[[], bool], seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await pilot.pause(0.05)


@pytest.fixture
def interviewed(tui_study: Study, tmp_path: Path) -> str:
    """A consented participant whose commencement interview has ended (imported audio)."""
    t = np.arange(2 * 16000) / 16000
    audio = np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * 2, axis=1)
    soundfile.write(tmp_path / "tone.wav", audio, 16000)
    participant = interview_queue(tui_study)[0].id
    import_recording(tui_study, participant, tmp_path / "tone.wav")
    return participant


async def press_enter_on(app: FieldkitApp, pilot: Pilot[None], participant: str) -> None:
    table = app.screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(participant))
    await pilot.press("enter")
    await wait_for(pilot, "a screen", lambda: not isinstance(app.screen, QueueScreen), 5)


def choices(app: FieldkitApp) -> list[str]:
    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_enter_on_an_ended_wave_asks_and_cancel_changes_nothing(
    tui_study: Study, interviewed: str
) -> None:
    app = FieldkitApp(tui_study)
    async with app.run_test(size=SIZE) as pilot:
        await press_enter_on(app, pilot, interviewed)
        assert isinstance(app.screen, WaveChoice)
        assert choices(app) == [
            "Start the follow-up interview (a new wave)",
            "View the commencement interview (view only)",
            "Cancel",
        ]
        await pilot.press("escape")
        await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen), 5)
    assert [i.wave for i in Interviews(tui_study.db).for_participant(interviewed)] == [
        "commencement"
    ]


async def test_starting_the_next_wave_is_a_choice_that_names_it(
    tui_study: Study, interviewed: str
) -> None:
    app = FieldkitApp(tui_study)
    async with app.run_test(size=SIZE) as pilot:
        await press_enter_on(app, pilot, interviewed)
        await pilot.press("enter")  # the first choice: start the follow-up interview
        await wait_for(pilot, "the interview", lambda: isinstance(app.screen, InterviewScreen), 5)
        assert "wave: follow-up" in shown(app, "#participant-info")
    rows = Interviews(tui_study.db).for_participant(interviewed)
    assert [(r.wave, r.status) for r in rows] == [
        ("commencement", InterviewStatus.ENDED),
        ("follow-up", InterviewStatus.IN_PROGRESS),
    ]


async def test_viewing_the_ended_interview_changes_nothing_in_it(
    tui_study: Study, interviewed: str
) -> None:
    files = sorted(tui_study.paths.audio.iterdir())
    app = FieldkitApp(tui_study)
    async with app.run_test(size=SIZE) as pilot:
        await press_enter_on(app, pilot, interviewed)
        await pilot.press("down", "enter")  # view the commencement interview
        await wait_for(pilot, "the interview", lambda: isinstance(app.screen, InterviewScreen), 5)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        assert "wave: commencement" in shown(app, "#participant-info")
        assert "view only" in shown(app, "#recording-hint")
        assert shown(app, "#clock").startswith("⏱ 00:02")  # the audio it holds
        await pilot.press("n", "m", "space", "e")
        await pilot.pause()
        assert not screen.recording
        messages = [m for _, m in notifications(app)]
        assert any("nothing more can be recorded" in m for m in messages)
        assert any("has ended: it cannot be ended again" in m for m in messages)
        await pilot.press("escape")
        await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen), 5)
    [row] = Interviews(tui_study.db).for_participant(interviewed)
    assert row.status is InterviewStatus.ENDED and row.duration_s == pytest.approx(2.0, abs=0.01)
    kinds = [e["kind"] for e in tui_study.db["interview_events"].rows]
    assert kinds == []  # neither a question move nor a marker was stored
    assert sorted(tui_study.paths.audio.iterdir()) == files  # nothing was recorded


async def test_a_withdrawn_participant_can_only_view(tui_study: Study, interviewed: str) -> None:
    withdraw_consent(tui_study, interviewed)
    app = FieldkitApp(tui_study)
    async with app.run_test(size=SIZE) as pilot:
        await press_enter_on(app, pilot, interviewed)
        assert isinstance(app.screen, WaveChoice)
        assert choices(app) == ["View the commencement interview (view only)", "Cancel"]
