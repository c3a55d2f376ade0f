"""Issue 9, items 1–3 and 8 at the service level: the interview clock and its duration are
recorded audio only, an interview without audio is not "audio-recorded", a new wave never starts
silently, and the job queue gives up on a job that keeps taking its worker down.

Real parts: a real study (SQLite file), recordings made through the virtual microphone (the
capture path a microphone uses), real processes for the liveness checks."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
import sqlite_utils

from fieldkit.core.models import InterviewStatus
from fieldkit.errors import FieldkitError
from fieldkit.services.interviews import (
    InterviewSession,
    list_interviews,
    start_interview,
    wave_to_record,
)
from fieldkit.services.participants import add_participant, get_participant, give_consent
from fieldkit.services.recording import RecordingSession, capture_settings, import_recording
from fieldkit.services.report import study_report
from fieldkit.services.study import Study, now_iso
from fieldkit.services.transcription import MAX_WORKER_CRASHES, requeue_stale_jobs
from fieldkit.store.db import open_database, schema_version, transaction
from fieldkit.store.migrations import MIGRATIONS, m007_recording_integrity
from fieldkit.store.repo import Interviews, Jobs, Recordings


@pytest.fixture
def tone(tmp_path: Path) -> Path:
    """10 s of two tones, 16 kHz stereo: longer than any recording made from it here."""
    t = np.arange(10 * 16000) / 16000
    audio = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], 1)
    path = tmp_path / "tone.wav"
    soundfile.write(path, audio, 16000)
    return path


def consented(study: Study) -> str:
    participant = add_participant(study, "Site 1", "PEER")
    give_consent(study, participant.id, "2025-03-01")
    return participant.id


def record(study: Study, session: InterviewSession, tone: Path, seconds: float) -> float:
    """One sitting: record `seconds` into the open interview, as the app does."""
    settings = capture_settings(study, input_file=tone)
    offset = session.clock.now()
    recording = RecordingSession(study, session.interview, settings, offset_s=offset)
    recording.start()
    session.clock.source = recording.elapsed
    return recording.wait(seconds).duration_s


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# -- item 1: the clock and the duration are recorded audio only ---------------------------------
def test_two_sittings_then_ending_without_recording_store_the_audio_recorded(
    study: Study, tone: Path
) -> None:
    pid = consented(study)
    first = InterviewSession.start(study, pid)
    first_s = record(study, first, tone, 1.2)
    second = InterviewSession.start(study, pid)  # reopened later: the interview resumes
    assert second.elapsed() == pytest.approx(first_s, abs=0.01)
    second_s = record(study, second, tone, 0.8)
    third = InterviewSession.start(study, pid)  # reopened once more, and ended at once
    time.sleep(0.5)  # time on the screen without recording
    ended = third.end()

    recordings = Recordings(study.db).for_interview(ended.id)
    assert [r.duration_s for r in recordings] == pytest.approx([first_s, second_s], abs=0.001)
    assert ended.duration_s == pytest.approx(first_s + second_s, abs=0.01)
    [summary] = list_interviews(study)
    assert summary.duration_s == pytest.approx(first_s + second_s, abs=0.01)


def test_the_clock_stands_still_until_recording_starts(study: Study) -> None:
    session = InterviewSession.start(study, consented(study))
    time.sleep(0.4)
    assert session.elapsed() == 0.0
    at = session.marker("before recording")  # before any audio: the start of it
    assert at == 0.0


# -- item 2: no audio, not audio-recorded --------------------------------------------------------
def test_an_interview_ended_without_audio_is_not_counted_as_audio_recorded(
    study: Study, tone: Path
) -> None:
    recorded = consented(study)
    import_recording(study, recorded, tone)
    silent = consented(study)
    ended = InterviewSession.start(study, silent).end()
    assert ended.status is InterviewStatus.ENDED and ended.duration_s == 0.0

    report = study_report(study)
    assert report.interviewed == 1
    assert report.durations.n == 1
    assert "1 interview was audio-recorded with 1 participant" in report.methods


def test_migration_recomputes_stored_durations_from_the_recordings(tmp_path: Path) -> None:
    """A study written before: 4.3 s + 3.3 s recorded, 5.3 s stored (the screen's clock)."""
    path = tmp_path / "old.db"
    # The schema as it was just before the migration, holding the old figures.
    conn = sqlite3.connect(path, isolation_level=None)
    old = sqlite_utils.Database(conn)
    before = MIGRATIONS.index(m007_recording_integrity)
    for number, migration in enumerate(MIGRATIONS[:before], start=1):
        with transaction(old):
            migration(old)
            old.execute(f"PRAGMA user_version = {number}")
    old["participants"].insert(
        {"id": "P1", "number": 1, "site": "S", "role": "R", "status": "consented", "added_at": "x"}
    )
    for interview_id, status, stored in ((1, "ended", 5.3), (2, "ended", 61.0)):
        old["interviews"].insert(
            {
                "id": interview_id,
                "participant_id": "P1",
                "wave": f"w{interview_id}",
                "status": status,
                "duration_s": stored,
            }
        )
    for n, seconds in enumerate((4.3, 3.3)):
        old["recordings"].insert(
            {"interview_id": 1, "path": f"a{n}.wav", "status": "complete", "duration_s": seconds}
        )
    conn.close()

    db = open_database(path)
    assert schema_version(db) == len(MIGRATIONS)
    durations = {r["id"]: r["duration_s"] for r in db["interviews"].rows}
    assert durations == {1: 7.6, 2: 0.0}  # the second had no audio at all


# -- item 3: no new wave starts silently ---------------------------------------------------------
def test_after_an_ended_wave_recording_needs_the_next_wave_named(study: Study, tone: Path) -> None:
    pid = consented(study)
    import_recording(study, pid, tone)  # commencement, ended
    participant = get_participant(study, pid)
    with pytest.raises(FieldkitError) as refused:
        wave_to_record(study, participant, None)
    assert "add --wave follow-up" in refused.value.one_line()
    with pytest.raises(FieldkitError, match="recording again starts the next wave"):
        start_interview(study, pid)
    with pytest.raises(FieldkitError, match=r"next wave, 'follow-up'"):
        import_recording(study, pid, tone)
    assert wave_to_record(study, participant, "follow-up") == "follow-up"
    assert [r.wave for r in Interviews(study.db).for_participant(pid)] == ["commencement"]


def test_a_wave_name_must_be_one_of_the_study_s(study: Study, tone: Path) -> None:
    pid = consented(study)
    for bad in ("../../x", "follow-up/..", "baseline"):
        with pytest.raises(FieldkitError, match="unknown wave"):
            import_recording(study, pid, tone, wave=bad)
    assert list(study.paths.audio.iterdir()) == []


# -- item 8: a job that keeps taking its worker down fails ---------------------------------------
def test_a_job_that_stopped_three_workers_fails_with_a_clear_message(study: Study) -> None:
    pid = consented(study)
    interview = start_interview(study, pid)
    job_id = Jobs(study.db).add(interview.id, "tiny.en", now_iso())
    for crash in range(1, MAX_WORKER_CRASHES + 1):
        # A worker claimed the job and died (a real process that has exited).
        Jobs(study.db).update(
            job_id, status="running", worker_pid=dead_pid(), started_at=now_iso(), progress=0.3
        )
        requeue_stale_jobs(study)
        job = Jobs(study.db).get(job_id)
        assert job.crashes == crash
        if crash < MAX_WORKER_CRASHES:
            assert (job.status, job.worker_pid, job.progress) == ("queued", None, 0.0)
    assert job.status == "failed"
    assert job.message is not None and "stopped 3 times" in job.message
    assert "fieldkit transcribe again" in job.message


def test_a_job_held_by_a_live_worker_or_one_from_before_a_restart(study: Study) -> None:
    pid = consented(study)
    interview = start_interview(study, pid)
    jobs = Jobs(study.db)
    live = jobs.add(interview.id, "tiny.en", now_iso())
    jobs.update(live, status="running", worker_pid=os.getpid(), started_at=now_iso())
    assert requeue_stale_jobs(study) == 0
    assert jobs.get(live).status == "running"
    # The same live PID, but the job was claimed before the machine last started: a PID reused.
    jobs.update(live, started_at="2000-01-01T00:00:00+00:00")
    assert requeue_stale_jobs(study) == 1
    assert jobs.get(live).status == "queued"
