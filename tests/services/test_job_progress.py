"""A transcription job's progress reaches the jobs table as the engine reports it, so that the
queue (which reads that table once a second) shows it advancing, not 0 % until done.

The engine here is a stand-in that reports the way the batched pipeline does: a burst of values
at once when a batch of segments is decoded, then a pause while the next batch decodes. What the
table holds during that pause is what the queue shows."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fieldkit.services.demo import build_demo_study, demo_interview_audio
from fieldkit.services.recording import import_recording
from fieldkit.services.study import Study, now_iso
from fieldkit.services.transcription import enqueue, run_job, shown_percent_changed
from fieldkit.store.repo import JobRow, Jobs

BURSTS = ((0.05, 0.12, 0.2, 0.31), (0.4, 0.47, 0.55, 0.64), (0.8, 0.9, 0.97))


@pytest.fixture
def claimed(tmp_path: Path) -> tuple[Study, JobRow]:
    """A job for an imported recording, claimed by this process (as a worker does)."""
    study = build_demo_study(tmp_path / "demo", actor="tester")
    interview = import_recording(study, "INTSTA001-PEER", demo_interview_audio())
    job = enqueue(study, interview)
    assert job is not None
    assert Jobs(study.db).claim(job.id, os.getpid(), now_iso())
    return study, Jobs(study.db).get(job.id)


def bursty_engine(study: Study, job_id: int, seen: list[float]) -> Callable[..., Any]:
    """Stands in for transcribe_recording: reports in bursts and, in the pause after each burst,
    notes the progress the jobs table holds (what the queue would show)."""
    from fieldkit.transcribe.engine import TranscriptResult

    def transcribe(path: Path, model_dir: Path, **options: Any) -> TranscriptResult:
        report: Callable[[float], None] = options["on_progress"]
        for burst in BURSTS:
            for fraction in burst:
                report(fraction)
            seen.append(Jobs(study.db).get(job_id).progress or 0.0)
        report(1.0)
        return TranscriptResult(
            segments=(), duration_s=92.0, channels=2, model="tiny.en", language="en"
        )

    return transcribe


def test_the_table_holds_the_last_progress_of_every_burst(
    claimed: tuple[Study, JobRow], monkeypatch: pytest.MonkeyPatch
) -> None:
    study, job = claimed
    seen: list[float] = []
    monkeypatch.setattr(
        "fieldkit.transcribe.engine.transcribe_recording", bursty_engine(study, job.id, seen)
    )
    outcome = run_job(study, job)
    assert outcome.ok, outcome.message
    # Each pause shows where the burst ended (the queue's "transcribing 31%", "64%", "97%"),
    # not where it began.
    assert [round(value, 2) for value in seen] == [0.31, 0.64, 0.97]
    done = Jobs(study.db).get(job.id)
    assert (done.status, done.progress) == ("done", 1.0)
    study.close()


def test_progress_is_written_when_the_shown_percent_moves() -> None:
    assert shown_percent_changed(0.0, 0.01)
    assert not shown_percent_changed(0.40, 0.409)  # "40%" either way: no write
    assert shown_percent_changed(0.409, 0.41)
