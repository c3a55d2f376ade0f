"""services.playback: an interview's audio read into memory by interview time (across the parts of
a paused recording), no recording as a clear error, and the speed steps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from fieldkit.errors import AudioError
from fieldkit.services.playback import (
    SPEEDS,
    interview_audio,
    load_interview_audio,
    step_speed,
)
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow, Interviews, Recordings


@pytest.fixture
def review_study(tmp_path: Path) -> Iterator[Study]:
    from fieldkit.services.demo import build_demo_study

    study = build_demo_study(tmp_path / "demo", actor="reviewer", transcripts=True)
    yield study
    study.close()


def interview_of(study: Study, pid: str) -> InterviewRow:
    [interview] = Interviews(study.db).for_participant(pid)
    return interview


def add_part(study: Study, interview: InterviewRow, offset: float, samples: np.ndarray) -> None:
    """A second recording of the interview (recording resumed after a pause)."""
    path = study.paths.audio / f"part-{offset:g}.wav"
    soundfile.write(path, samples, 16000, subtype="FLOAT")
    Recordings(study.db).insert(
        interview_id=interview.id,
        path=str(path.relative_to(study.root)),
        samplerate=16000,
        channels=samples.shape[1],
        channel_map=("interviewer", "participant"),
        source="import",
        offset_s=offset,
        duration_s=len(samples) / 16000,
        status="complete",
    )


def test_a_range_is_read_by_interview_time(review_study: Study) -> None:
    interview = interview_of(review_study, "INTSTA006-PEER")
    samples, rate = load_interview_audio(review_study, interview.id, 10.0, 12.5)
    assert rate == 16000
    assert samples.shape == (40000, 2) and samples.dtype == np.float32
    [recording] = Recordings(review_study.db).for_interview(interview.id)
    direct, _ = soundfile.read(review_study.paths.absolute(recording.path), dtype="float32")
    assert np.array_equal(samples, direct[160000:200000])


def test_a_range_across_two_parts_is_one_piece(review_study: Study) -> None:
    interview = interview_of(review_study, "INTSTA006-PEER")
    audio = interview_audio(review_study, interview.id)
    first_end = audio.duration
    marker = np.full((16000, 2), 0.25, dtype=np.float32)  # 1 s of a constant, easy to find
    add_part(review_study, interview, first_end, marker)

    samples, rate = load_interview_audio(review_study, interview.id, first_end - 0.5, first_end + 1)
    assert len(samples) == round(1.5 * rate)
    assert np.allclose(samples[8000:], 0.25)  # the second part starts where the first ends
    assert not np.allclose(samples[:8000], 0.25)
    assert interview_audio(review_study, interview.id).duration == pytest.approx(first_end + 1)


def test_an_interview_without_a_recording_is_a_clear_error(review_study: Study) -> None:
    interview = interview_of(review_study, "INTSTA006-PEER")
    review_study.db.execute("delete from recordings where interview_id = ?", [interview.id])
    with pytest.raises(AudioError, match="has no recording"):
        load_interview_audio(review_study, interview.id, 0.0, 1.0)


def test_speed_steps_stay_between_the_slowest_and_the_fastest() -> None:
    assert SPEEDS[0] == 0.75 and SPEEDS[-1] == 1.5
    assert step_speed(1.0, 1) == 1.1
    assert step_speed(1.0, -1) == 0.9
    assert step_speed(1.5, 1) == 1.5
    assert step_speed(0.75, -1) == 0.75
    speed, seen = 0.75, [0.75]
    while speed != 1.5:
        speed = step_speed(speed, 1)
        seen.append(speed)
    assert seen == list(SPEEDS)
