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
from fieldkit.services.deletion import (
    Deletion,
    finish_deletion,
    purge_interviews,
    remove_files,
)
from fieldkit.services.study import Study, now_iso
from fieldkit.services.transcription import find_interview
from fieldkit.store.approvals import Approvals
from fieldkit.store.repo import InterviewRow


@dataclass(frozen=True)
class DecisionOutcome:
    interview: InterviewRow
    state: TranscriptState
    deletion: Deletion | None = None  # a withdrawal under the delete policy


def check_decision(
    study: Study,
    participant_id: str,
    decision: str,
    wave: str | None = None,
    today: dt.date | None = None,
) -> InterviewRow:
    """Refuse (one line) a decision that `decide` would refuse, changing nothing: for a face to
    call before it asks whether to delete. `decide` checks again under the write lock."""
    interview = find_interview(study, participant_id, wave)
    _check(study, interview, parse_decision(decision), today)
    return interview


def decide(
    study: Study,
    participant_id: str,
    decision: str,
    wave: str | None = None,
    today: dt.date | None = None,
) -> DecisionOutcome:
    """approved | approved-with-changes | withdrawn | no-response, after the copy was sent (and
    withdrawn after approval too). The state is read, checked and moved in one write
    transaction, so two terminals cannot both decide."""
    target = parse_decision(decision)
    interview = find_interview(study, participant_id, wave)
    deleting = target is TranscriptState.WITHDRAWN and will_delete_on_withdrawal(study)
    note = f"decided: {decision_word(target)}"
    if target is TranscriptState.WITHDRAWN:
        note += (
            "; data deleted as the study's policy says"
            if deleting
            else " (data kept, as the study's policy says)"
        )
    with study.transaction():
        state = _check(study, interview, target, today)
        plan = purge_interviews(study, [interview], note) if deleting else None
        record_move(study, interview, state, target, None, note, None, now_iso())
        if plan is not None:
            remove_files(plan)  # last: see fieldkit.services.deletion
    deletion = finish_deletion(study, plan) if plan is not None else None
    return DecisionOutcome(interview, target, deletion)


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
