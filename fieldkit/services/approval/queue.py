"""The approval queue: every transcript with a state, overdue first, then what needs attention."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fieldkit.core.workflow import (
    TranscriptState,
    days_waiting,
    is_overdue,
    is_ready_for_analysis,
    queue_key,
)
from fieldkit.services.approval.states import approval_state_or_none, date_of, policy, today_or
from fieldkit.services.study import Study, now_iso
from fieldkit.store.approvals import Approvals
from fieldkit.store.repo import Interviews, Jobs, Transcripts


@dataclass(frozen=True)
class ApprovalStatus:
    participant: str
    wave: str
    interview_id: int
    state: TranscriptState
    since: str
    days_waiting: int
    deadline: str | None
    overdue: bool
    revision: int | None
    ready_for_analysis: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "wave": self.wave,
            "state": self.state.value,
            "since": self.since,
            "days_waiting": self.days_waiting,
            "deadline": self.deadline,
            "overdue": self.overdue,
            "revision": self.revision,
            "ready_for_analysis": self.ready_for_analysis,
        }


def approval_statuses(study: Study, today: dt.date | None = None) -> list[ApprovalStatus]:
    """Every transcript with a state, overdue first, then what needs attention."""
    today = today_or(today)
    stored = Approvals(study.db).all()
    counts = policy(study).no_response_counts_as_approval
    result: list[ApprovalStatus] = []
    for interview in Interviews(study.db).all():
        state = approval_state_or_none(study, interview.id)
        if state is None:
            continue
        row = stored.get(interview.id)
        since, revision = _since(study, interview.id, row.since if row else None)
        if row is not None:
            revision = row.revision
        deadline = date_of(row.deadline) if row else None
        result.append(
            ApprovalStatus(
                participant=interview.participant_id,
                wave=interview.wave,
                interview_id=interview.id,
                state=state,
                since=since,
                days_waiting=days_waiting(date_of(since) or today, today),
                deadline=deadline.isoformat() if deadline else None,
                overdue=is_overdue(state, deadline, today),
                revision=revision,
                ready_for_analysis=is_ready_for_analysis(state, counts),
            )
        )
    return sorted(result, key=lambda s: queue_key(s.state, s.overdue, s.days_waiting))


def _since(study: Study, interview_id: int, stored: str | None) -> tuple[str, int | None]:
    latest = Transcripts(study.db).revision(interview_id)
    if stored:
        return stored, latest.revision if latest else None
    machine = Transcripts(study.db).revision(interview_id, 0)
    if machine is not None:
        return machine.created_at, latest.revision if latest else None
    job = Jobs(study.db).latest_for(interview_id)
    return (job.created_at if job else now_iso()), None
