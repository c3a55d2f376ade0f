"""A transcript's approval state: read it (stored, or derived before it is stored), move it with
the move's history and audit entry, and the reviewer's sign-off.

The state of a transcript is stored once it moves past "needs review"; before that it is
derived (a machine transcript and no stored state = needs review), so transcription itself
does not need to know about approval.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fieldkit.config import ApprovalSettings
from fieldkit.core.workflow import TranscriptState, check_move
from fieldkit.errors import WorkflowError
from fieldkit.services.study import Study, now_iso
from fieldkit.services.transcription import find_interview
from fieldkit.store.approvals import Approvals, MoveRow
from fieldkit.store.repo import InterviewRow, Jobs, Transcripts


def policy(study: Study) -> ApprovalSettings:
    return study.config.approval


def today_or(today: dt.date | None) -> dt.date:
    return today or dt.date.today()


def date_of(iso: str | None) -> dt.date | None:
    if not iso:
        return None
    return dt.datetime.fromisoformat(iso).date() if "T" in iso else dt.date.fromisoformat(iso)


def who(interview: InterviewRow) -> str:
    return f"the transcript of {interview.participant_id} ({interview.wave})"


def approval_state_or_none(study: Study, interview_id: int) -> TranscriptState | None:
    """The stored state; else needs review (a transcript exists), transcribing (a job is queued
    or running), or None (nothing to approve yet)."""
    row = Approvals(study.db).get(interview_id)
    if row is not None:
        return TranscriptState(row.state)
    if Transcripts(study.db).revision(interview_id, 0) is not None:
        return TranscriptState.NEEDS_REVIEW
    job = Jobs(study.db).latest_for(interview_id)
    if job is not None and job.status in ("queued", "running"):
        return TranscriptState.TRANSCRIBING
    return None


def approval_state(study: Study, interview_id: int) -> TranscriptState:
    """The transcript's state; "transcribing" while there is no transcript yet."""
    return approval_state_or_none(study, interview_id) or TranscriptState.TRANSCRIBING


def stored_state(study: Study, interview_id: int) -> str | None:
    """What `fieldkit interviews` shows once a transcript has an approval state stored."""
    row = Approvals(study.db).get(interview_id)
    return row.state if row else None


def state_history(study: Study, interview_id: int) -> list[MoveRow]:
    return Approvals(study.db).moves(interview_id)


def states_seen(study: Study, interview_id: int) -> set[str]:
    """Every state the transcript has been in (the study report counts returned and edited)."""
    seen = {m.to_state for m in state_history(study, interview_id)}
    current = approval_state_or_none(study, interview_id)
    if current is not None:
        seen.add(current.value)
    if seen - {TranscriptState.TRANSCRIBING.value}:
        seen.add(TranscriptState.NEEDS_REVIEW.value)
    return seen


def move(
    study: Study,
    interview: InterviewRow,
    target: TranscriptState,
    *,
    revision: int | None = None,
    note: str = "",
    deadline: dt.date | None = None,
    at: str | None = None,
) -> None:
    """Move the transcript to `target`, or refuse with one line. The state is read, checked and
    written with its history and audit entry in one write transaction (BEGIN IMMEDIATE), so a
    second terminal moving the same transcript waits, then sees the new state."""
    with study.transaction():
        current = approval_state_or_none(study, interview.id)
        if current is None:
            raise WorkflowError(
                f"{interview.participant_id} ({interview.wave}) has no transcript yet",
                f"transcribe it first: fieldkit transcribe {interview.participant_id}",
            )
        check_move(current, target, who(interview))
        record_move(study, interview, current, target, revision, note, deadline, at or now_iso())


def record_move(
    study: Study,
    interview: InterviewRow,
    current: TranscriptState,
    target: TranscriptState,
    revision: int | None,
    note: str,
    deadline: dt.date | None,
    at: str,
) -> None:
    """Write the move: the current state, its history row and the audit entry. Call inside the
    transaction that read `current` and checked the move."""
    repo = Approvals(study.db)
    existing = repo.get(interview.id)
    if revision is None:
        latest = Transcripts(study.db).revision(interview.id)
        revision = latest.revision if latest else None
    values: dict[str, Any] = {
        "state": target.value,
        "since": at,
        "revision": revision,
        "updated_by": study.actor,
        "deadline": deadline.isoformat() if deadline else (existing.deadline if existing else None),
    }
    repo.put(interview.id, **values)
    repo.add_move(
        interview.id,
        from_state=current.value,
        to_state=target.value,
        at=at,
        actor=study.actor,
        revision=revision,
        note=note or None,
    )
    study.audit(
        f"transcript {target.value}",
        interview.participant_id,
        interview.id,
        wave=interview.wave,
        revision=revision,
        note=note,
    )


def mark_reviewed(study: Study, participant_id: str, wave: str | None = None) -> InterviewRow:
    """The reviewer signs off the latest revision."""
    interview = find_interview(study, participant_id, wave)
    move(study, interview, TranscriptState.REVIEWED, note="signed off by the reviewer")
    return interview


def reopen_for_review(study: Study, interview: InterviewRow, note: str) -> None:
    """An edit after sign-off: the transcript needs reviewing (and signing off) again."""
    with study.transaction():
        if approval_state_or_none(study, interview.id) is TranscriptState.REVIEWED:
            move(study, interview, TranscriptState.NEEDS_REVIEW, note=note)
