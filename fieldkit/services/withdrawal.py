"""A participant withdraws consent: recorded, and under the study's delete policy every one of
their interviews' data is deleted completely (`fieldkit.services.deletion`) and each transcript
marked withdrawn, whatever stage it had reached."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fieldkit.core.models import ConsentStatus, Participant
from fieldkit.core.workflow import TranscriptState
from fieldkit.errors import FieldkitError
from fieldkit.services.approval.decisions import will_delete_on_withdrawal
from fieldkit.services.approval.states import approval_state_or_none, record_move
from fieldkit.services.deletion import (
    Deletion,
    check_nothing_running,
    finish_deletion,
    purge_interviews,
    remove_files,
)
from fieldkit.services.participants import get_participant, withdraw_consent
from fieldkit.services.study import Study, now_iso
from fieldkit.store.approvals import Approvals
from fieldkit.store.repo import InterviewRow, Interviews, Recordings, Transcripts

# How long a deletion waits for a recording that the withdrawal asked to stop.
RECORDING_STOP_WAIT_S = 5.0
CONSENT_NOTE = "consent withdrawn; data deleted as the study's policy says"


@dataclass(frozen=True)
class ConsentWithdrawal:
    participant: Participant
    newly_withdrawn: bool  # False: consent was already withdrawn, only the data was deleted now
    deletion: Deletion | None  # None: the policy keeps the data


def check_withdrawal(study: Study, participant_id: str) -> bool:
    """Refuse (one line) a withdrawal that `withdraw_participant` would refuse, changing
    nothing; else say whether it will delete data (for a face to ask first)."""
    participant = get_participant(study, participant_id)
    deleting = will_delete_on_withdrawal(study)
    if participant.status is ConsentStatus.WITHDRAWN and not (
        deleting and _has_data(study, participant.id)
    ):
        raise FieldkitError(
            f"participant {participant.id} has already withdrawn", "nothing changed"
        )
    return deleting


def withdraw_participant(study: Study, participant_id: str) -> ConsentWithdrawal:
    """Record the withdrawal of consent; under the delete policy, then delete the data of every
    interview of the participant. The faces ask before calling this when it will delete.

    Run again for a participant who has already withdrawn, it deletes what is left (after a
    failed attempt, or when the policy changed to delete later); with nothing left it refuses."""
    deleting = check_withdrawal(study, participant_id)
    participant = get_participant(study, participant_id)
    already = participant.status is ConsentStatus.WITHDRAWN
    if not already:
        participant = withdraw_consent(study, participant.id)
    if not deleting:
        return ConsentWithdrawal(participant, True, None)
    interviews = Interviews(study.db).for_participant(participant.id)
    _wait_for_recordings(study, interviews)
    with study.transaction():
        states = {i.id: approval_state_or_none(study, i.id) for i in interviews}
        plan = purge_interviews(study, interviews, CONSENT_NOTE)
        for interview in interviews:
            _mark_withdrawn(study, interview, states[interview.id])
        remove_files(plan)  # last: see fieldkit.services.deletion
    return ConsentWithdrawal(participant, not already, finish_deletion(study, plan))


def _mark_withdrawn(study: Study, interview: InterviewRow, state: TranscriptState | None) -> None:
    """Consent withdrawal overrides the approval workflow: a transcript at any stage becomes
    withdrawn (one that was never transcribed has no approval state to change)."""
    if state in (None, TranscriptState.TRANSCRIBING, TranscriptState.WITHDRAWN):
        return
    assert state is not None
    record_move(
        study, interview, state, TranscriptState.WITHDRAWN, None, CONSENT_NOTE, None, now_iso()
    )


def _has_data(study: Study, participant_id: str) -> bool:
    """Is anything a deletion removes still there (rows, or copies at their recorded paths)?"""
    for interview in Interviews(study.db).for_participant(participant_id):
        if Transcripts(study.db).for_interview(interview.id):
            return True
        if Recordings(study.db).for_interview(interview.id):
            return True
        copies = [s.path for s in Approvals(study.db).sends(interview.id) if s.path]
        copies += [r.path for r in Approvals(study.db).returns(interview.id) if r.path]
        if any(study.paths.absolute(path).exists() for path in copies):
            return True
    return False


def _wait_for_recordings(study: Study, interviews: list[InterviewRow]) -> None:
    """A recording that the withdrawal stopped may take a moment to close its file. Wait
    outside the write lock (the recorder needs it to finish), then check again inside it."""
    deadline = time.monotonic() + RECORDING_STOP_WAIT_S
    while True:
        try:
            check_nothing_running(study, interviews)
            return
        except FieldkitError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)
