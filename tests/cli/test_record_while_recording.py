"""`fieldkit record` with transcription while recording (issue 12 §1): it prints "transcript
ready" soon after the end; a kill -9 mid-recording keeps the stretches already transcribed and
`recover` queues the rest; `while_recording = false` records as before."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fieldkit.services import transcription
from fieldkit.services.recording import INPUT_SPEED_ENV
from fieldkit.services.study import Study, open_study
from fieldkit.services.while_recording import lock_path
from fieldkit.store.repo import Interviews, Jobs, Recordings
from tests.conftest import CliRun
from tests.while_recording import (
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


@pytest.fixture(scope="module")
def one_minute(tmp_path_factory: pytest.TempPathFactory, espeak: str) -> Path:
    return interview_wav(tmp_path_factory.mktemp("speech") / "one-minute.wav", rounds=1)


@pytest.fixture(autouse=True)
def fast_input_short_stretches(monkeypatch: pytest.MonkeyPatch) -> None:
    """--input plays three times faster than real time; every process cuts stretches alike."""
    monkeypatch.setenv(transcription.STRETCH_RULES_ENV, SHORT_RULES)
    monkeypatch.setenv(INPUT_SPEED_ENV, "3")


@pytest.fixture
def demo_dir(tmp_path: Path, cli: CliRun) -> Path:
    root = tmp_path / "demo"
    assert cli("demo", "--no-app", "--empty", "--dir", root).exit_code == 0
    return root


def start_recording(demo_dir: Path, source: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "fieldkit", "--study", str(demo_dir), "record", PID]
    return subprocess.Popen(
        [*command, "--input", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def recording_row(study: Study) -> int:
    rows = list(study.db["recordings"].rows)
    return int(rows[0]["id"]) if rows else 0


def wait_for_a_stretch_while_recording(study: Study, proc: subprocess.Popen[str]) -> int:
    """The recording's id, once a stretch of it is stored and it is still being recorded."""

    def stored_or_over() -> bool:
        recording_id = recording_row(study)
        return proc.poll() is not None or (
            recording_id > 0 and stored_parts(study, recording_id) > 0
        )

    wait_until("a stretch stored while recording", stored_or_over, 120)
    recording_id = recording_row(study)
    assert Recordings(study.db).get(recording_id).status == "recording", "stored too late"
    assert proc.poll() is None
    return recording_id


def test_record_says_transcript_ready_soon_after_the_end(demo_dir: Path, one_minute: Path) -> None:
    proc = start_recording(demo_dir, one_minute)
    study = open_study(demo_dir)
    recording_id = wait_for_a_stretch_while_recording(study, proc)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    ready = re.search(r"transcript ready ([\d.]+) s after the recording ended", stderr)
    assert ready is not None, stderr
    assert float(ready.group(1)) < 10.0
    interview_id = Recordings(study.db).get(recording_id).interview_id
    assert transcription.transcript_state(study, interview_id) == "needs review"
    assert resumed_at(study, recording_id) >= 15  # the worker decoded the tail only
    assert not lock_path(study, recording_id).exists()
    # The logs name recordings and stretch times, never what was said.
    log = (demo_dir / "logs" / transcription.WORKER_LOG).read_text()
    assert "while-recording" in log and "stretch 0.0-" in log
    assert not re.search(r"sister|clinic|appointments", log, re.IGNORECASE)


def test_kill_9_mid_recording_then_recover_keeps_the_stretches_and_queues_the_rest(
    demo_dir: Path, one_minute: Path, cli: CliRun
) -> None:
    proc = start_recording(demo_dir, one_minute)
    study = open_study(demo_dir)
    recording_id = wait_for_a_stretch_while_recording(study, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = stored_parts(study, recording_id)
    assert kept >= 1

    result = cli("recover", "--study", demo_dir)  # (any start of fieldkit recovers)
    assert result.exit_code == 0
    assert "queued for transcription" in result.stdout + result.stderr
    assert stored_parts(study, recording_id) >= kept  # nothing transcribed is lost
    interview = Interviews(study.db).get(Recordings(study.db).get(recording_id).interview_id)
    job = Jobs(study.db).latest_for(interview.id)
    assert job is not None and job.status == "queued"

    assert transcription.run_pending(study) == 1  # the job resumes after the stored stretches
    row = Recordings(study.db).get(recording_id)
    stored = transcription.machine_transcript(study, interview.id)
    offline = offline_segments(study, study.paths.absolute(row.path), row.channel_map)
    assert stored and as_compared(stored) == as_compared(offline)
    assert stored[-1].end > (row.duration_s or 0) - 10  # complete up to where the kill cut it
    assert not lock_path(study, recording_id).exists()  # no transcriber is left behind


def test_while_recording_off_records_as_before(demo_dir: Path, cli: CliRun, tmp_path: Path) -> None:
    toml = demo_dir / "study.toml"
    toml.write_text(toml.read_text().replace("while_recording = true", "while_recording = false"))
    tone = tmp_path / "tone.wav"
    t = np.arange(2 * 16000) / 16000
    sf.write(tone, 0.2 * np.stack([np.sin(2 * np.pi * 440 * t)] * 2, axis=1), 16000)
    result = cli("record", PID, "--input", tone, "--study", demo_dir)
    assert result.exit_code == 0, result.stderr
    assert "transcript" not in result.stderr
    [row] = json.loads(cli("interviews", "--json", "--study", demo_dir).stdout)
    assert row["status"] == "ended" and row["transcript_state"] == "none"  # nothing queued
    assert not (demo_dir / "logs" / transcription.WORKER_LOG).exists()  # nothing was started
