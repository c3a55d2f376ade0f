"""The participant approval workflow, one concern per module:

- `states`: a transcript's state (stored or derived), moves with history and audit, sign-off;
- `queue`: every transcript's status for the approval queue;
- `copies`: the participant's copy, sent and returned;
- `decisions`: approved, approved with changes, withdrawn, no response.

Deleting a withdrawn interview's data completely lives in `fieldkit.services.deletion` (a
consent withdrawal, `fieldkit.services.withdrawal`, uses it too). The names below are the
package's public interface.
"""

from fieldkit.core.workflow import TranscriptState
from fieldkit.services.approval.copies import (
    COPY_TITLE,
    ReturnedCopy,
    SentCopy,
    TurnDiff,
    accept_returned,
    copy_labels,
    copy_turns,
    read_returned,
    render_cover_note,
    send_copy,
    turn_groups,
)
from fieldkit.services.approval.decisions import (
    DecisionOutcome,
    check_decision,
    decide,
    will_delete_on_withdrawal,
)
from fieldkit.services.approval.queue import ApprovalStatus, approval_statuses
from fieldkit.services.approval.states import (
    approval_state,
    approval_state_or_none,
    mark_reviewed,
    move,
    policy,
    reopen_for_review,
    state_history,
    states_seen,
    stored_state,
)

__all__ = [
    "COPY_TITLE",
    "ApprovalStatus",
    "DecisionOutcome",
    "ReturnedCopy",
    "SentCopy",
    "TranscriptState",
    "TurnDiff",
    "accept_returned",
    "approval_state",
    "approval_state_or_none",
    "approval_statuses",
    "check_decision",
    "copy_labels",
    "copy_turns",
    "decide",
    "mark_reviewed",
    "move",
    "policy",
    "read_returned",
    "render_cover_note",
    "reopen_for_review",
    "send_copy",
    "state_history",
    "states_seen",
    "stored_state",
    "turn_groups",
    "will_delete_on_withdrawal",
]
