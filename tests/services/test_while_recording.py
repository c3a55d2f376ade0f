"""Transcription while recording (issue 12 §1), through the recording session and the real
background transcriber and worker processes: stretches are stored while the interview is still
being recorded, only the tail is left at the end, and the transcript equals an offline one."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from fieldkit.services import transcription
from fieldkit.services.demo import build_demo_study, build_encrypted_demo_study
from fieldkit.services.participants import withdraw_consent
from fieldkit.services.recording import (
    RecordingSession,
    begin_recording,
    capture_settings,
    finish_interview,
    import_recording,
)
from fieldkit.services.study import Study, now_iso
from fieldkit.services.while_recording import lock_path, transcribe_while_recorded
from fieldkit.store.repo import Interviews, Jobs, Recordings
from tests.encrypted import PASSPHRASE, use_fast_kdf
from tests.while_recording import (
    OTHER_PID,
    PID,
    SHORT_RULES,
    as_compared,
    interview_wav,
    offline_segments,
    resumed_at,
    stored_parts,
    wait_until,
)

pytestmark = pytest.mark.model
SPEED = 3.0  # the virtual microphone plays three times faster than real time
READY_WITHIN_S = 10.0


@pytest.fixture(scope="module")
def two_minutes(tmp_path_factory: pytest.TempPathFactory, espeak: str) -> Path:
    return interview_wav(tmp_path_factory.mktemp("speech") / "two-minutes.wav")


@pytest.fixture(scope="module")
def one_minute(tmp_path_factory: pytest.TempPathFactory, espeak: str) -> Path:
    return interview_wav(tmp_path_factory.mktemp("speech") / "one-minute.wav", rounds=1)


@pytest.fixture(autouse=True)
def short_stretches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every process of the test (recorder, background transcriber, worker) cuts alike."""
    monkeypatch.setenv(transcription.STRETCH_RULES_ENV, SHORT_RULES)


def record(study: Study, source: Path, speed: float = SPEED) -> RecordingSession:
    settings = dataclasses.replace(capture_settings(study, input_file=source), input_speed=speed)
    return begin_recording(study, PID, None, settings)


def parts_while_recording(study: Study, session: RecordingSession) -> int:
    """Wait until the background transcriber has stored a stretch; the recording must still be
    going on then."""
    assert session.recording_id is not None
    wait_until(
        "a stretch stored while recording",
        lambda: stored_parts(study, session.recording_id or 0) > 0 or session.state == "stopped",
        120,
    )
    assert session.state == "recording", "no stretch was stored while the recording went on"
    return stored_parts(study, session.recording_id)


def transcribe_at_end(study: Study, session: RecordingSession) -> float:
    """End the interview as `fieldkit record` does; the seconds from the end of the recording
    until the transcript is stored."""
    session.wait()
    stopped = time.monotonic()
    ended = finish_interview(study, session)
    job = transcription.queue_transcript_now(study, ended)
    assert job is not None
    done = transcription.follow_job(study, job.id)
    took = time.monotonic() - stopped
    assert done.status == "done", done.message
    assert transcription.transcript_state(study, ended.id) == "needs review"
    return took


def test_a_two_minute_recording_is_transcribed_while_recorded_and_equals_offline(
    tmp_path: Path, two_minutes: Path
) -> None:
    study = build_demo_study(tmp_path / "demo")
    session = record(study, two_minutes)
    assert session.background is not None
    parts_while_recording(study, session)
    assert session.recording_id is not None
    took = transcribe_at_end(study, session)
    assert took < READY_WITHIN_S
    interview = Interviews(study.db).get(session.interview.id)
    [row] = Recordings(study.db).for_interview(interview.id)
    stored = transcription.machine_transcript(study, interview.id)
    offline = offline_segments(study, study.paths.absolute(row.path), row.channel_map)
    assert len(stored) > 10
    assert as_compared(stored) == as_compared(offline)
    assert resumed_at(study, row.id) >= 60  # the job decoded the tail only
    assert not lock_path(study, row.id).exists()


def test_pauses_and_two_sittings(tmp_path: Path, one_minute: Path) -> None:
    study = build_demo_study(tmp_path / "demo")
    first = record(study, one_minute)
    first.pause()
    wait_until("the pause", lambda: first.state == "paused", 5)
    first.resume()
    parts_while_recording(study, first)
    first.wait()
    second = record(study, one_minute)  # the same interview, a second sitting
    assert second.interview.id == first.interview.id and second.offset_s > 50
    parts_while_recording(study, second)
    took = transcribe_at_end(study, second)
    assert took < READY_WITHIN_S
    rows = Recordings(study.db).for_interview(first.interview.id)
    assert len(rows) == 2
    offline = [
        segment
        for row in rows
        for segment in offline_segments(
            study, study.paths.absolute(row.path), row.channel_map, row.offset_s
        )
    ]
    stored = transcription.machine_transcript(study, first.interview.id)
    assert as_compared(stored) == as_compared(offline)
    assert all(resumed_at(study, row.id) >= 15 for row in rows)  # both sittings were resumed


def test_off_starts_no_background_transcriber(tmp_path: Path, one_minute: Path) -> None:
    study = build_demo_study(tmp_path / "demo")
    settings = study.config.transcription
    study.config = dataclasses.replace(
        study.config, transcription=dataclasses.replace(settings, while_recording=False)
    )
    session = record(study, one_minute, speed=20)
    assert session.background is None
    assert session.recording_id is not None
    session.wait()
    assert stored_parts(study, session.recording_id) == 0
    assert not lock_path(study, session.recording_id).exists()
    assert not (study.root / "logs" / transcription.WORKER_LOG).exists()


def test_a_withdrawal_stops_it_and_nothing_is_stored_afterwards(
    tmp_path: Path, two_minutes: Path
) -> None:
    study = build_demo_study(tmp_path / "demo")
    session = record(study, two_minutes)
    background = session.background
    assert background is not None and session.recording_id is not None
    parts_while_recording(study, session)
    withdraw_consent(study, PID)
    kept = stored_parts(study, session.recording_id)
    result = session.wait()  # the consent watch stops the recording within a second
    assert result.stop_reason == "withdrawn"
    assert background.process.poll() is not None  # stopped with the recording, not later
    assert stored_parts(study, session.recording_id) == kept


def imported(study: Study, source: Path) -> int:
    interview = import_recording(study, OTHER_PID, source)
    [row] = Recordings(study.db).for_interview(interview.id)
    return row.id


def test_a_transcriber_stores_nothing_once_the_job_has_taken_the_recording_over(
    tmp_path: Path, one_minute: Path
) -> None:
    """A background transcriber that starts (or stores) after the job has claimed the
    interview would store stretches the job decodes too: it stops instead."""
    study = build_demo_study(tmp_path / "demo")
    recording_id = imported(study, one_minute)
    interview = Interviews(study.db).get(Recordings(study.db).get(recording_id).interview_id)
    job = transcription.enqueue(study, interview)
    assert job is not None and Jobs(study.db).claim(job.id, 1, now_iso())
    assert transcribe_while_recorded(study, recording_id, lambda: True, poll_s=0.05) == 0
    assert stored_parts(study, recording_id) == 0


def test_a_transcriber_stores_nothing_for_a_participant_who_withdrew(
    tmp_path: Path, one_minute: Path
) -> None:
    study = build_demo_study(tmp_path / "demo")
    recording_id = imported(study, one_minute)
    withdraw_consent(study, OTHER_PID)
    assert transcribe_while_recorded(study, recording_id, lambda: True, poll_s=0.05) == 0
    assert stored_parts(study, recording_id) == 0


def test_an_encrypted_study(
    tmp_path: Path, one_minute: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key goes to the background transcriber over its pipe; it reads the growing
    encrypted recording in memory."""
    use_fast_kdf(monkeypatch)
    study, _ = build_encrypted_demo_study(lambda: PASSPHRASE, tmp_path / "demo")
    session = record(study, one_minute)
    background = session.background
    assert background is not None and session.recording_id is not None
    secret = study.data_key.secret.hex() if study.data_key else ""
    assert secret and not any(secret in str(part) for part in background.process.args)
    parts_while_recording(study, session)
    took = transcribe_at_end(study, session)
    assert took < READY_WITHIN_S
    [row] = Recordings(study.db).for_interview(session.interview.id)
    assert row.path.endswith(".fka")
    stored = transcription.machine_transcript(study, session.interview.id)
    offline = offline_segments(study, study.paths.absolute(row.path), row.channel_map)
    assert stored and as_compared(stored) == as_compared(offline)
    assert resumed_at(study, row.id) >= 15
