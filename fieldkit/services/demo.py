"""The throw-away demo study `fieldkit demo` opens.

Five participants waiting to be interviewed (four with consent) and, with transcripts=True, five
more already interviewed whose transcripts stand at different points of review and approval, so
a newcomer can try recording, review and approval at once. The interviewed ones share the shipped
demo interview and its machine transcript, made once with the bundled model
(audio/demo-interview.transcript.json, see audio/make_demo_transcript.py): no model runs here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from fieldkit.config import write_config
from fieldkit.core.models import Segment, Speaker, Word
from fieldkit.core.workflow import TranscriptState
from fieldkit.paths import demo_root, shipped_demo_audio
from fieldkit.private import private_mkdir, write_private_text
from fieldkit.services.participants import add_participant, give_consent
from fieldkit.services.study import (
    PassphraseSource,
    Study,
    init_encrypted_study,
    init_study,
    now_iso,
)
from fieldkit.store.repo import Events, InterviewRow

# (site, role, days before today that consent was given, or None for not yet)
DEMO_PARTICIPANTS: list[tuple[str, str, int | None]] = [
    ("Site 1", "PEER", 9),
    ("Site 1", "CLIN", 12),
    ("Site 2", "PEER", 5),
    ("Site 2", "CLIN", None),
    ("Site 1", "CLIN", 2),
]


@dataclass(frozen=True)
class DemoTranscript:
    site: str
    role: str
    target: TranscriptState
    days_ago: int  # when it reached its state (sent: the day the copy went out)


# Interviewed participants, added after the five above (INTSTA006-PEER …). They consented three
# weeks before their interview, so they head the queue (consent order), already interviewed.
DEMO_TRANSCRIPTS: list[DemoTranscript] = [
    DemoTranscript("Site 2", "PEER", TranscriptState.NEEDS_REVIEW, 3),
    DemoTranscript("Site 1", "CLIN", TranscriptState.REVIEWED, 2),
    DemoTranscript("Site 1", "PEER", TranscriptState.SENT, 17),  # deadline passed: overdue
    DemoTranscript("Site 2", "CLIN", TranscriptState.SENT, 4),
    DemoTranscript("Site 2", "PEER", TranscriptState.APPROVED_WITH_CHANGES, 1),
]
DEMO_TRANSCRIPT_FILE = "demo-interview.transcript.json"
DEMO_TITLE = "CCU staff study (demo)"

# The interviewer's questions in the demo interview: (time, topic, question) in the schedule.
DEMO_QUESTIONS = [
    (0.8, "before-and-here", "past-work"),
    (27.6, "before-and-here", "how-different"),
    (58.8, "expectations", "typical-week"),
    (73.3, "choosing", "drew-you"),
]
# What the reviewer fixes in the demo (Whisper heard the crosstalk as "And I live,").
REVIEW_FIX = ("And I live, why did you choose", "And finally, why did you choose")
# What the demo participant redacted and added in their returned copy.
PARTICIPANT_EDIT = (
    ("My manager is Diane ", ""),
    ("do that for others", "do that for others. I hope to stay for a long time."),
)


def new_demo_dir() -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    root = demo_root() / f"study-{stamp}"
    suffix = 1
    while root.exists():
        suffix += 1
        root = demo_root() / f"study-{stamp}-{suffix}"
    return root


def build_demo_study(
    root: Path | None = None, actor: str = "demo", transcripts: bool = False
) -> Study:
    """The demo study; with `transcripts`, also the interviewed participants whose transcripts
    wait at each point of review and approval (`fieldkit demo` wants them; tests that count
    interviews do not)."""
    study = init_study(root or new_demo_dir(), title=DEMO_TITLE, actor=actor)
    fill_demo_study(study, transcripts)
    return study


def build_encrypted_demo_study(
    passphrase: PassphraseSource,
    root: Path | None = None,
    actor: str = "demo",
    transcripts: bool = False,
) -> tuple[Study, str]:
    """The demo study, encrypted (`fieldkit demo --encrypt`), and its recovery key."""
    study, recovery_key = init_encrypted_study(
        root or new_demo_dir(), passphrase, title=DEMO_TITLE, actor=actor
    )
    fill_demo_study(study, transcripts)
    return study, recovery_key


def fill_demo_study(study: Study, transcripts: bool) -> None:
    record_from_demo_interview(study)
    today = dt.date.today()
    for site, role, consent_days_ago in DEMO_PARTICIPANTS:
        participant = add_participant(study, site, role)
        if consent_days_ago is not None:
            date = today - dt.timedelta(days=consent_days_ago)
            give_consent(study, participant.id, date.isoformat(), form_version="v2.1")
    if transcripts:
        from fieldkit.services.deid import add_demo_identifiers

        add_demo_transcripts(study, today)
        add_demo_identifiers(study)  # the made-up manager and suburb the demo participant names


def record_from_demo_interview(study: Study) -> None:
    """Name the shipped demo interview in study.toml as the study's virtual microphone, so that
    the study records from it whenever it is opened (there may be no microphone). Named where
    fieldkit is installed, not copied: a demo study stays small."""
    path = demo_interview_audio().resolve()
    recording = dataclasses.replace(study.config.recording, input=str(path))
    study.config = dataclasses.replace(study.config, recording=recording)
    write_config(study.paths.config, study.config)


def demo_interview_audio() -> Path:
    """The synthesized two-channel demo interview (audio/demo-interview.flac in the repository)."""
    return shipped_demo_audio("demo-interview.flac")


def demo_machine_transcript() -> list[Segment]:
    """The shipped machine transcript of the demo interview (made once with the bundled model)."""
    data = json.loads(shipped_demo_audio(DEMO_TRANSCRIPT_FILE).read_text(encoding="utf-8"))
    return [
        Segment(
            start=s["start"],
            end=s["end"],
            speaker=Speaker(s["speaker"]),
            text=s["text"],
            words=tuple(
                Word(w["start"], w["end"], w["word"], w["probability"], Speaker(s["speaker"]))
                for w in s["words"]
            ),
        )
        for s in data["segments"]
    ]


def add_demo_transcripts(study: Study, today: dt.date) -> None:
    from fieldkit.services.recording import import_recording

    segments = demo_machine_transcript()
    audio = demo_interview_audio()
    for demo in DEMO_TRANSCRIPTS:
        participant = add_participant(study, demo.site, demo.role)
        consent = today - dt.timedelta(days=demo.days_ago + 21)
        give_consent(study, participant.id, consent.isoformat(), form_version="v2.1")
        interview = import_recording(study, participant.id, audio)
        _store_machine_transcript(study, interview, segments)
        _advance(study, interview, demo, today)


def _store_machine_transcript(
    study: Study, interview: InterviewRow, segments: list[Segment]
) -> None:
    from fieldkit.services.transcription import store_machine_transcript

    with study.transaction():
        store_machine_transcript(study, interview, segments, "tiny.en", channels=2)
        for at, topic, question in DEMO_QUESTIONS:
            Events(study.db).add(
                interview.id, at, "question", now_iso(), topic_id=topic, question_id=question
            )
        study.audit("transcribed", interview.participant_id, interview.id, model="tiny.en")


def _advance(study: Study, interview: InterviewRow, demo: DemoTranscript, today: dt.date) -> None:
    """Walk the transcript to its demo state the way a reviewer would, on earlier days."""
    from fieldkit.services import approval
    from fieldkit.services.review import draft_for, save_review

    if demo.target is TranscriptState.NEEDS_REVIEW:
        return
    day = today - dt.timedelta(days=demo.days_ago)
    at = dt.datetime.combine(day, dt.time(10, 0)).astimezone().isoformat(timespec="seconds")
    draft = draft_for(study, interview)
    index = next(i for i, s in enumerate(draft.segments) if REVIEW_FIX[0] in s.text)
    draft.edit_text(index, draft.segments[index].text.replace(*REVIEW_FIX))
    save_review(study, draft, author=study.actor)
    approval.move(study, interview, TranscriptState.REVIEWED, note="signed off", at=at)
    if demo.target is TranscriptState.REVIEWED:
        return
    outbox = study.paths.exports / "participant-copies"
    private_mkdir(outbox, parents=True, exist_ok=True)
    fmt = "txt" if demo.target is not TranscriptState.SENT else "docx"
    copy = outbox / f"{interview.participant_id}_{interview.wave}.{fmt}"
    approval.send_copy(study, interview.participant_id, copy, today=day, at=at)
    if demo.target is TranscriptState.SENT:
        return
    returned = outbox / f"{interview.participant_id}_{interview.wave}.returned.txt"
    text = copy.read_text(encoding="utf-8")
    for old, new in PARTICIPANT_EDIT:
        text = text.replace(old, new)
    write_private_text(returned, text)
    back = approval.read_returned(study, interview.participant_id, returned)
    approval.accept_returned(study, back, at=at)
    approval.move(study, interview, demo.target, note="decided: approved-with-changes", at=at)
