"""The interview screen with transcription while recording (issue 12 §1): stretches are stored
while the interview is recorded; pressing `e` ends it, the app's worker decodes only the tail, and
the queue reads "needs review" within seconds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.widgets import DataTable

from fieldkit.services import transcription
from fieldkit.services.recording import INPUT_SPEED_ENV
from fieldkit.services.study import Study
from fieldkit.services.while_recording import lock_path
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.queue import QueueScreen
from tests.tui.test_recording import (
    make_app,
    nothing_left_running,  # noqa: F401  (the autouse fixture: no engine process left behind)
    open_interview,
    start_recording,
    wait_for,
    without_live_guard,
)
from tests.while_recording import SHORT_RULES, interview_wav, resumed_at, stored_parts

from .conftest import SIZE

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def one_minute(tmp_path_factory: pytest.TempPathFactory, espeak: str) -> Path:
    return interview_wav(tmp_path_factory.mktemp("speech") / "one-minute.wav", rounds=1)


async def test_e_ends_the_interview_and_the_queue_soon_reads_needs_review(
    tui_study: Study,
    nothing_left_running: list[FieldkitApp],  # noqa: F811
    one_minute: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(transcription.STRETCH_RULES_ENV, SHORT_RULES)
    monkeypatch.setenv(INPUT_SPEED_ENV, "3")
    without_live_guard(tui_study)
    app = make_app(tui_study, nothing_left_running, one_minute)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(app, pilot)
        interview = screen.session.interview
        await start_recording(pilot, screen)
        session = screen.link.session if screen.link else None
        assert session is not None and session.recording_id is not None
        recording_id = session.recording_id

        def stored_or_over() -> bool:
            return stored_parts(tui_study, recording_id) > 0 or not screen.recording

        await wait_for(pilot, "a stretch stored while recording", stored_or_over, 120)
        assert screen.recording, "no stretch was stored while the interview was recorded"

        await pilot.press("e", "y")  # while it records: the recording stops, the interview ends
        pressed = time.monotonic()
        await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen), 10)

        def stored() -> bool:
            return transcription.transcript_state(tui_study, interview.id) == "needs review"

        assert await wait_for(pilot, "the transcript", stored, 30) - pressed < 10.0
        table = app.screen.query_one(DataTable)
        await wait_for(
            pilot,
            "the queue to show it",
            lambda: str(table.get_cell(interview.participant_id, "transcript")) == "needs review",
            5,
        )
    assert transcription.machine_transcript(tui_study, interview.id)
    assert resumed_at(tui_study, recording_id) >= 15  # the app's worker decoded the tail only
    assert not lock_path(tui_study, recording_id).exists()
