"""The participant approval workflow, one concern per module:

- `states`: a transcript's state (stored or derived), moves with history and audit, sign-off;
- `queue`: every transcript's status for the approval queue;
- `copies`: the participant's copy, sent and returned;
- `folders`: the folder copies are written to and read back from (remembered per study);
- `decisions`: approved, approved with changes, withdrawn, no response.

Deleting a withdrawn interview's data completely lives in `fieldkit.services.deletion` (a
consent withdrawal, `fieldkit.services.withdrawal`, uses it too). The names below are the
package's public interface.

Importing the package (or one of its modules) loads none of the modules: each public name below
is imported from its module when it is first used (PEP 562), so that reading a transcript's state
(`states`) does not load the participant's copy, deletion and export code with it. The names are
listed twice — for type checkers and readers (TYPE_CHECKING) and for the lookup (`_HOMES`);
tests/services/test_approval_package.py keeps the two in step.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fieldkit.core.workflow import TranscriptState
    from fieldkit.services.approval.copies import (
        COPY_TITLE,
        ReturnedCopy,
        SentCopy,
        TurnDiff,
        accept_returned,
        check_receive,
        check_send,
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
    from fieldkit.services.approval.folders import copy_folder, default_copy_name
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

# Each public name → the module that defines it.
_HOMES = {
    "TranscriptState": "fieldkit.core.workflow",
    **dict.fromkeys(
        (
            "COPY_TITLE",
            "ReturnedCopy",
            "SentCopy",
            "TurnDiff",
            "accept_returned",
            "check_receive",
            "check_send",
            "copy_labels",
            "copy_turns",
            "read_returned",
            "render_cover_note",
            "send_copy",
            "turn_groups",
        ),
        f"{__name__}.copies",
    ),
    **dict.fromkeys(
        ("DecisionOutcome", "check_decision", "decide", "will_delete_on_withdrawal"),
        f"{__name__}.decisions",
    ),
    **dict.fromkeys(("copy_folder", "default_copy_name"), f"{__name__}.folders"),
    **dict.fromkeys(("ApprovalStatus", "approval_statuses"), f"{__name__}.queue"),
    **dict.fromkeys(
        (
            "approval_state",
            "approval_state_or_none",
            "mark_reviewed",
            "move",
            "policy",
            "reopen_for_review",
            "state_history",
            "states_seen",
            "stored_state",
        ),
        f"{__name__}.states",
    ),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:  # not ours: `from … import copies` then imports the submodule
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # found once, then an ordinary attribute
    return value


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
    "check_receive",
    "check_send",
    "copy_folder",
    "copy_labels",
    "copy_turns",
    "decide",
    "default_copy_name",
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
