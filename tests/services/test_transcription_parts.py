"""A transcription job stores each stretch as it is done and resumes after the last one stored
(issue 12): a worker killed mid-job loses no finished stretch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from fieldkit.core.models import Segment, Speaker, Word
from fieldkit.paths import shipped_demo_audio
from fieldkit.services import transcription
from fieldkit.services.demo import build_demo_study
from fieldkit.services.recording import import_recording
from fieldkit.services.study import Study, open_study
from fieldkit.store.approvals import purge_interview_content
from fieldkit.store.parts import TranscriptParts
from fieldkit.store.repo import Interviews, Jobs, Recordings, Transcripts
from fieldkit.transcribe.engine import StretchRules

pytestmark = pytest.mark.model
PID = "INTSTA001-PEER"
REPO = Path(__file__).resolve().parents[2]
# The demo interview is 92 s: cut it into four or so stretches.
SHORT = StretchRules(min_s=15, max_s=40)

# Runs the queue in a child process and kills it (SIGKILL) right after the second stretch has
# been stored, as a crash or power loss would.
KILLED_WORKER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import fieldkit.transcribe.engine as engine
    from fieldkit.services.study import open_study
    from fieldkit.services.transcription import run_pending
    from fieldkit.store.parts import TranscriptParts

    study = open_study(Path(sys.argv[1]))
    real = engine.transcribe_recording

    def dies_after_two_stretches(*args, on_stretch, **kwargs):
        def store(done):
            on_stretch(done)  # committed when it returns
            if TranscriptParts(study.db).table.count >= 2:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, on_stretch=store, **kwargs)

    engine.transcribe_recording = dies_after_two_stretches
    run_pending(study, rules=engine.StretchRules(min_s=15, max_s=40))
    """
)


def queued_demo_interview(root: Path) -> Study:
    build_demo_study(root)
    study = open_study(root)
    interview = import_recording(study, PID, shipped_demo_audio("demo-interview.flac"))
    assert transcription.enqueue(study, interview) is not None
    return study


def words(segments: list[Segment]) -> list[tuple[str, float, Speaker]]:
    return [(w.word, w.start, w.speaker) for s in segments for w in s.words]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> list[Segment]:
    study = queued_demo_interview(tmp_path_factory.mktemp("whole") / "study")
    assert transcription.run_pending(study, rules=SHORT) == 1
    job = Jobs(study.db).with_status("done")[0]
    return transcription.machine_transcript(study, job.interview_id)


def test_a_killed_worker_keeps_its_stretches_and_the_next_one_resumes_after_them(
    tmp_path: Path, uninterrupted: list[Segment], monkeypatch: pytest.MonkeyPatch
) -> None:
    study = queued_demo_interview(tmp_path / "study")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.run(
        [sys.executable, "-c", KILLED_WORKER, str(study.root)], env=env, capture_output=True
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]

    recording = Recordings(study.db).for_interview(Interviews(study.db).all()[-1].id)[0]
    job = Jobs(study.db).with_status("running")[0]  # left running by the dead worker
    stored = TranscriptParts(study.db).table.rows_where(order_by="start_s")
    kept = [(row["start_s"], row["end_s"]) for row in stored]
    assert len(kept) == 2 and kept[0][0] == 0.0 and kept[1][0] == kept[0][1]
    assert not Transcripts(study.db).for_interview(job.interview_id)

    import fieldkit.transcribe.engine as engine

    started_at: list[float] = []
    real = engine.transcribe_recording

    def spy(*args: Any, **kwargs: Any) -> Any:
        started_at.append(kwargs["start_s"])
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "transcribe_recording", spy)
    assert transcription.run_pending(study, rules=SHORT) == 1
    assert started_at == [kept[1][1]]  # resumed after the second stretch, not from 0
    assert Jobs(study.db).get(job.id).status == "done"
    resumed = transcription.machine_transcript(study, job.interview_id)
    assert words(resumed) == words(uninterrupted)
    assert TranscriptParts(study.db).count(recording.id) == 0  # done: the parts are gone


def test_parts_decoded_with_other_settings_are_not_reused(tmp_path: Path) -> None:
    study = queued_demo_interview(tmp_path / "study")
    recording = Recordings(study.db).for_interview(Interviews(study.db).all()[-1].id)[0]
    stale = Segment(0.0, 1.0, Speaker.INTERVIEWER, "stale", (Word(0.0, 1.0, "stale", 0.9),))
    with study.transaction():
        TranscriptParts(study.db).add(recording.id, 0.0, 30.0, "another model", [stale], "now")
    assert transcription.run_pending(study, rules=SHORT) == 1
    segments = transcription.machine_transcript(study, recording.interview_id)
    assert "stale" not in [w.word for s in segments for w in s.words]
    assert segments[0].start < 5.0  # the start of the recording was transcribed
    assert TranscriptParts(study.db).count(recording.id) == 0


def test_deleting_a_recordings_row_takes_its_parts_along(tmp_path: Path) -> None:
    """A withdrawal with the delete policy purges an interview's rows: the stretches of a job
    that never finished hold what was said too."""
    study = queued_demo_interview(tmp_path / "study")
    interview = Interviews(study.db).all()[-1]
    recording = Recordings(study.db).for_interview(interview.id)[0]
    said = Segment(0.0, 1.0, Speaker.PARTICIPANT, "zanzibar", (Word(0.0, 1.0, "zanzibar", 0.9),))
    with study.transaction():
        TranscriptParts(study.db).add(recording.id, 0.0, 30.0, "settings", [said], "now")
    with study.transaction():
        purge_interview_content(study.db, interview.id)
    assert TranscriptParts(study.db).table.count == 0
