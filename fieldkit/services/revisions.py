"""Transcript revisions: every save is a new revision on top; the machine transcript (revision 0)
and every revision stay retrievable forever."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fieldkit.core.models import Segment
from fieldkit.errors import FieldkitError
from fieldkit.services.study import Study, now_iso
from fieldkit.store.approvals import RevisionNotes
from fieldkit.store.repo import InterviewRow, TranscriptRow, Transcripts

REVISION_KINDS = ("machine", "review", "participant", "deidentified")


def latest_revision(study: Study, interview: InterviewRow) -> TranscriptRow:
    row = Transcripts(study.db).revision(interview.id)
    if row is None:
        raise FieldkitError(
            f"interview {interview.participant_id} ({interview.wave}) has no transcript yet",
            f"run: fieldkit transcribe {interview.participant_id}",
        )
    return row


def save_revision(
    study: Study,
    interview: InterviewRow,
    segments: Sequence[Segment],
    kind: str,
    author: str | None = None,
    summary: str = "",
) -> TranscriptRow:
    """Store `segments` as the next revision. `summary` says what changed (no transcript text:
    it goes to the audit log)."""
    if kind not in REVISION_KINDS or kind == "machine":
        raise ValueError(f"unknown revision kind {kind!r}")
    repo = Transcripts(study.db)
    with study.transaction():
        previous = latest_revision(study, interview)
        revision = previous.revision + 1
        transcript_id = repo.add(
            interview.id,
            revision=revision,
            kind=kind,
            segments=list(segments),
            created_at=now_iso(),
            created_by=author or study.actor,
            model=previous.model,
            duration_s=previous.duration_s,
            channels=previous.channels,
            speakers_known=int(previous.speakers_known),
        )
        RevisionNotes(study.db).put(transcript_id, summary)
        study.audit(
            "transcript revised",
            interview.participant_id,
            interview.id,
            revision=revision,
            kind=kind,
            summary=summary,
        )
    saved = repo.revision(interview.id, revision)
    assert saved is not None
    return saved


@dataclass(frozen=True)
class RevisionInfo:
    """One line of `fieldkit transcript history`: who made which revision when, and what
    changed (never the text itself)."""

    revision: int
    kind: str
    created_at: str
    created_by: str | None
    summary: str
    segments: int
    words: int

    def to_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "kind": self.kind,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "summary": self.summary,
            "segments": self.segments,
            "words": self.words,
        }


def revision_history(study: Study, interview: InterviewRow) -> list[RevisionInfo]:
    repo = Transcripts(study.db)
    rows = repo.for_interview(interview.id)
    notes = RevisionNotes(study.db).for_transcripts([r.id for r in rows])
    history: list[RevisionInfo] = []
    for row in rows:
        segments = repo.segments(row.id)
        summary = notes.get(row.id) or ("machine transcript" if row.kind == "machine" else "")
        history.append(
            RevisionInfo(
                revision=row.revision,
                kind=row.kind,
                created_at=row.created_at,
                created_by=row.created_by,
                summary=summary,
                segments=len(segments),
                words=sum(len(s.text.split()) for s in segments),
            )
        )
    return history
