"""Issue 9 in the app, with real parts (Pilot, a real study, the virtual microphone, other
fieldkit processes): the clock is recorded audio only (1), ending without audio asks first (2),
one recording per participant (6), a withdrawal in another process stops the app's recording
within 2 s (7), and the app re-queues a job its dead worker left running (8)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
from textual.pilot import Pilot
from textual.widgets import DataTable

from fieldkit.core.models import ConsentStatus, InterviewStatus
from fieldkit.services.interviews import start_interview
from fieldkit.services.participants import get_participant, interview_queue
from fieldkit.services.study import Study, now_iso
from fieldkit.services.transcription import stop_worker
from fieldkit.store.repo import Interviews, Jobs, Recordings
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.interview import InterviewScreen
from fieldkit.tui.screens.modals import Confirm
from fieldkit.tui.screens.queue import QueueScreen
from tests.conftest import REPO_ROOT

from .conftest import SIZE, notifications, shown


async def wait_for(
    pilot: Pilot[None], what: str, ready: Callable[[], bool], seconds: float
) -> float:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await pilot.pause(0.05)
    return time.monotonic()


@pytest.fixture
def long_tone(tmp_path: Path) -> Path:
    """30 s, 16 kHz stereo: a virtual microphone that outlasts every test here."""
    t = np.arange(30 * 16000) / 16000
    audio = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], 1)
    path = tmp_path / "long.wav"
    soundfile.write(path, audio, 16000)
    return path


@pytest.fixture
def apps() -> Iterator[list[FieldkitApp]]:
    """No transcription worker an app started outlives the test."""
    started: list[FieldkitApp] = []
    yield started
    for app in started:
        if app.transcriber is not None:
            stop_worker(app.transcriber)


def make_app(study: Study, apps: list[FieldkitApp], input_file: Path | None = None) -> FieldkitApp:
    """The app without the live guard (no model needed here)."""
    transcription = dataclasses.replace(study.config.transcription, live_guard=False)
    study.config = dataclasses.replace(study.config, transcription=transcription)
    app = FieldkitApp(study, input_file=input_file)
    apps.append(app)
    return app


def fieldkit_command(study: Study, *args: object) -> list[str]:
    return [sys.executable, "-m", "fieldkit", "--study", str(study.root), *map(str, args)]


CHILD_ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


async def open_interview(app: FieldkitApp, pilot: Pilot[None], participant: str) -> InterviewScreen:
    table = app.screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(participant))
    await pilot.press("enter")
    await wait_for(pilot, "the interview", lambda: isinstance(app.screen, InterviewScreen), 5)
    assert isinstance(app.screen, InterviewScreen)
    return app.screen


# -- items 1 and 2 ---------------------------------------------------------------------------
async def test_the_clock_waits_for_audio_and_ending_without_any_asks_first(
    tui_study: Study, apps: list[FieldkitApp]
) -> None:
    participant = interview_queue(tui_study)[0].id
    app = make_app(tui_study, apps)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(app, pilot, participant)
        await pilot.pause(1.3)  # time on the screen, the clock ticking once a second …
        assert shown(app, "#clock").startswith("⏱ 00:00 / ")  # … counts for nothing
        await pilot.press("e")
        await wait_for(pilot, "the question", lambda: isinstance(app.screen, Confirm), 5)
        assert isinstance(app.screen, Confirm)
        assert "Nothing has been recorded in this interview" in app.screen.question
        await pilot.press("y")
        await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen), 10)
        assert any("ended without audio" in m for _, m in notifications(app))
    ended = Interviews(tui_study.db).get(screen.session.interview.id)
    assert (ended.status, ended.duration_s) == (InterviewStatus.ENDED, 0.0)
    assert Jobs(tui_study.db).latest_for(ended.id) is None  # nothing to transcribe


# -- item 6 ----------------------------------------------------------------------------------
async def test_the_app_cannot_record_a_participant_fieldkit_record_is_recording(
    tui_study: Study, long_tone: Path, apps: list[FieldkitApp]
) -> None:
    participant = interview_queue(tui_study)[0].id
    command = fieldkit_command(tui_study, "record", participant, "--input", long_tone)
    other = subprocess.Popen(command, env=CHILD_ENV, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not Recordings(tui_study.db).with_status("recording"):
            assert time.monotonic() < deadline, "the other recording did not start"
            time.sleep(0.05)
        app = make_app(tui_study, apps, long_tone)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_interview(app, pilot, participant)
            await pilot.press("space")
            await wait_for(pilot, "the refusal", lambda: not screen.starting, 10)
            errors = [m for s, m in notifications(app) if s == "error"]
            assert len(errors) == 1
            assert f"already being recorded by `fieldkit record` (PID {other.pid})" in errors[0]
            assert not screen.recording
    finally:
        other.terminate()
        other.communicate(timeout=20)
    assert len(Recordings(tui_study.db).for_interview(screen.session.interview.id)) == 1


# -- item 7 ----------------------------------------------------------------------------------
async def test_withdrawal_in_another_process_stops_the_app_recording_within_2_s(
    tui_study: Study, long_tone: Path, apps: list[FieldkitApp]
) -> None:
    participant = interview_queue(tui_study)[0].id
    app = make_app(tui_study, apps, long_tone)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(app, pilot, participant)
        await pilot.press("space")
        await wait_for(pilot, "the recording", lambda: screen.recording, 10)
        await wait_for(pilot, "some audio", lambda: screen.session.elapsed() > 1.0, 10)

        withdraw = await asyncio.create_subprocess_exec(
            *fieldkit_command(tui_study, "consent", participant, "--withdraw"),
            env=CHILD_ENV,
            stdout=asyncio.subprocess.PIPE,
        )
        withdrawn = await wait_for(
            pilot,
            "the withdrawal to be recorded",
            lambda: get_participant(tui_study, participant).status is ConsentStatus.WITHDRAWN,
            20,
        )
        stopped = await wait_for(pilot, "the recording to stop", lambda: not screen.recording, 10)
        assert stopped - withdrawn <= 2.0
        kept = screen.session.elapsed()
        out, _ = await withdraw.communicate()
        assert withdraw.returncode == 0
        assert "stopped the recording by the fieldkit app" in out.decode()
        await wait_for(
            pilot,
            "the explanation",
            lambda: any("withdrew consent" in m for _, m in notifications(app)),
            5,
        )
        await pilot.pause(0.7)  # no more audio arrives after the stop
        assert screen.session.elapsed() == kept

        await pilot.press("e", "y")  # ending keeps it withdrawn, and queues nothing
        await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen), 10)
        assert any("Consent was withdrawn" in m for _, m in notifications(app))
    interview = Interviews(tui_study.db).get(screen.session.interview.id)
    assert interview.status is InterviewStatus.WITHDRAWN
    [row] = Recordings(tui_study.db).for_interview(interview.id)
    assert (row.status, row.stop_reason) == ("complete", "withdrawn")
    wav = tui_study.paths.absolute(row.path)
    assert row.duration_s == pytest.approx(soundfile.info(str(wav)).duration, abs=0.01)
    assert interview.duration_s == pytest.approx(row.duration_s, abs=0.01)
    assert Jobs(tui_study.db).latest_for(interview.id) is None


# -- item 8 ----------------------------------------------------------------------------------
async def test_the_app_requeues_a_job_its_dead_worker_left_running(
    tui_study: Study, apps: list[FieldkitApp]
) -> None:
    participant = interview_queue(tui_study)[0].id
    interview = start_interview(tui_study, participant)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    job_id = Jobs(tui_study.db).add(interview.id, "tiny.en", now_iso())
    Jobs(tui_study.db).update(
        job_id, status="running", progress=0.4, worker_pid=dead.pid, started_at=now_iso()
    )
    app = make_app(tui_study, apps)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            "the job to be taken up again",
            lambda: Jobs(tui_study.db).get(job_id).worker_pid != dead.pid,
            10,
        )
        assert app.transcriber is not None  # the app started a worker for it
    job = Jobs(tui_study.db).get(job_id)
    assert job.crashes == 1
