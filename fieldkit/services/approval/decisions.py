"""The participant's decision on their transcript: approved, approved with changes, withdrawn
(kept or deleted, as the study's policy says), or no response after the deadline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fieldkit.core.workflow import (
    TranscriptState,
    check_move,
    check_no_response,
    decision_word,
    parse_decision,
)
from fieldkit.services.approval.states import (
    approval_state,
    date_of,
    policy,
    record_move,
    today_or,
    who,
)
from fieldkit.services.study import Study, now_iso
from fieldkit.services.transcription import find_interview
from fieldkit.store.approvals import Approvals, PurgeCounts
from fieldkit.store.repo import InterviewRow


@dataclass(frozen=True)
class DecisionOutcome:
    interview: InterviewRow
    state: TranscriptState
    deleted: PurgeCounts | None = None
    removed_files: tuple[str, ...] = ()
    sent_copies: tuple[str, ...] = ()  # copies written outside the study: fieldkit cannot reach


def decide(
    study: Study,
    participant_id: str,
    decision: str,
    wave: str | None = None,
    today: dt.date | None = None,
) -> DecisionOutcome:
    """approved | approved-with-changes | withdrawn | no-response, after the copy was sent. The
    state is read, checked and moved in one write transaction, so two terminals cannot both
    decide."""
    from fieldkit.services.withdrawal import withdraw_and_delete

    target = parse_decision(decision)
    interview = find_interview(study, participant_id, wave)
    if target is TranscriptState.WITHDRAWN and policy(study).withdrawn_data == "delete":
        return withdraw_and_delete(study, interview, _check(study, interview, target, today))
    note = f"decided: {decision_word(target)}"
    if target is TranscriptState.WITHDRAWN:
        note += " (data kept, as the study's policy says)"
    with study.transaction():
        state = _check(study, interview, target, today)
        record_move(study, interview, state, target, None, note, None, now_iso())
    return DecisionOutcome(interview, target)


def _check(
    study: Study, interview: InterviewRow, target: TranscriptState, today: dt.date | None
) -> TranscriptState:
    """The current state, if `target` may follow it (else one line)."""
    state = approval_state(study, interview.id)
    check_move(state, target, who(interview))
    if target is TranscriptState.NO_RESPONSE:
        row = Approvals(study.db).get(interview.id)
        check_no_response(date_of(row.deadline) if row else None, today_or(today))
    return state


def will_delete_on_withdrawal(study: Study) -> bool:
    return policy(study).withdrawn_data == "delete"
