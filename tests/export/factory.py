"""Build interviews with transcripts directly in the store (fast), and approve them through the
real approval service, for the de-identification, export and report tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from fieldkit.core.models import InterviewStatus, Segment, Speaker, Word
from fieldkit.services import approval
from fieldkit.services.participants import add_participant, give_consent
from fieldkit.services.study import Study, now_iso
from fieldkit.store.repo import Events, InterviewRow, Interviews, Transcripts

IDENTIFIERS = (
    ("Diane", "person"),
    ("Mark Tan", "person"),
    ("Riverton", "place"),
    ("Riverton Community Health", "organisation"),
    ("Harbour Club", "other"),
)

# Everything any test checks must be gone from a de-identified export.
ORIGINALS = (
    "Diane",
    "Mark Tan",
    "Riverton",
    "Harbour Club",
    "0412 345 678",
    "+44 7700 900123",
    "diane.smith@example.com",
    "12 Smith Street",
    "3 March 1985",
)


def words_of(text: str, start: float, end: float) -> tuple[Word, ...]:
    """Words with even timings that spell out `text` (as Whisper writes them: leading spaces)."""
    tokens = text.split()
    step = (end - start) / max(1, len(tokens))
    return tuple(
        Word(start + i * step, start + (i + 1) * step, f" {token}", 0.9)
        for i, token in enumerate(tokens)
    )


def seg(start: float, end: float, speaker: Speaker, text: str) -> Segment:
    return Segment(start, end, speaker, text, words_of(text, start, end))


def sample_segments() -> list[Segment]:
    """An interview that mentions every identifier class."""
    I, P = Speaker.INTERVIEWER, Speaker.PARTICIPANT  # noqa: E741
    return [
        seg(0.0, 6.0, I, "Thanks for coming in. Can you tell me about your role?"),
        seg(6.5, 20.0, P, "I started at Riverton Community Health in March. Diane's my manager."),
        seg(20.0, 30.0, P, "Diane and Mark Tan showed me around riverton on my first day."),
        seg(30.5, 36.0, I, "What has your journey been like so far?"),
        seg(36.5, 50.0, P, "A long journey. You can call me on 0412 345 678 or +44 7700 900123."),
        seg(50.0, 60.0, P, "Or write to diane.smith@example.com, I live at 12 Smith Street."),
        seg(60.5, 66.0, I, "And a bit about yourself?"),
        seg(66.5, 80.0, P, "I was born on 3 March 1985 and I swim at the Harbour Club with DIANE."),
    ]


def make_interview(
    study: Study,
    segments: Sequence[Segment] | None = None,
    *,
    site: str = "Site 1",
    role: str = "PEER",
    wave: str = "commencement",
    duration_s: float | None = 1800.0,
    interviewer: str = "alex",
    participant_id: str | None = None,
    started_at: str = "2025-03-03T10:00:00+11:00",
) -> InterviewRow:
    """A consented participant (new unless given) with an ended interview and a machine
    transcript (revision 0)."""
    if participant_id is None:
        participant = add_participant(study, site, role)
        give_consent(study, participant.id, "2025-03-01", today=dt.date(2025, 3, 2))
        participant_id = participant.id
    with study.transaction():
        interview_id = Interviews(study.db).insert(
            participant_id=participant_id,
            wave=wave,
            status=InterviewStatus.ENDED.value,
            schedule_id=study.schedule().id,
            schedule_path=study.config.schedule,
            interviewer=interviewer,
            started_at=started_at,
            ended_at=started_at,
            duration_s=duration_s,
            channel_map=("interviewer", "participant"),
        )
        if segments is not None:
            Transcripts(study.db).add(
                interview_id,
                revision=0,
                kind="machine",
                segments=list(segments),
                created_at=now_iso(),
                created_by="fieldkit",
                model="tiny.en",
                duration_s=duration_s,
                channels=2,
                speakers_known=1,
            )
    return Interviews(study.db).get(interview_id)


def add_question(study: Study, interview: InterviewRow, at: float, topic_index: int) -> None:
    """A question marker for the schedule's topic number `topic_index`."""
    topic = study.schedule().topics[topic_index]
    Events(study.db).add(
        interview.id,
        at,
        "question",
        now_iso(),
        topic_id=topic.id,
        question_id=topic.questions[0].id,
    )


def add_note(study: Study, interview: InterviewRow, at: float) -> None:
    Events(study.db).add(interview.id, at, "note", now_iso(), text="quiet room, good rapport")


def send(study: Study, interview: InterviewRow, tmp_path: Path) -> None:
    """Reviewed and sent to the participant (through the approval service)."""
    approval.mark_reviewed(study, interview.participant_id, interview.wave)
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / f"copy-{interview.participant_id}-{interview.wave}.txt"
    approval.send_copy(study, interview.participant_id, out, interview.wave)


def approve(study: Study, interview: InterviewRow, tmp_path: Path) -> None:
    """Reviewed, sent, and approved by the participant (through the approval service)."""
    send(study, interview, tmp_path)
    approval.decide(study, interview.participant_id, "approved", interview.wave)


def add_identifiers(study: Study) -> None:
    from fieldkit.services.deid import add_identifier

    for text, category in IDENTIFIERS:
        add_identifier(study, text, category)
