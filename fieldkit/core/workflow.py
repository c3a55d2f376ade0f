"""A transcript's approval workflow: its states and the legal moves between them.

transcribing → needs review → reviewed → sent to participant → returned
                                               │                  │
                                               │                  ├→ approved
                                               │                  ├→ approved with changes
                                               │                  └→ withdrawn
                                               ├→ no response (deadline passed)
                                               └→ withdrawn
"""

from __future__ import annotations

from enum import StrEnum


class TranscriptState(StrEnum):
    TRANSCRIBING = "transcribing"
    NEEDS_REVIEW = "needs review"
    REVIEWED = "reviewed"
    SENT = "sent to participant"
    RETURNED = "returned"
    APPROVED = "approved"
    APPROVED_WITH_CHANGES = "approved with changes"
    WITHDRAWN = "withdrawn"
    NO_RESPONSE = "no response"


FINAL_STATES = frozenset(
    {
        TranscriptState.APPROVED,
        TranscriptState.APPROVED_WITH_CHANGES,
        TranscriptState.WITHDRAWN,
        TranscriptState.NO_RESPONSE,
    }
)

LEGAL_MOVES: dict[TranscriptState, frozenset[TranscriptState]] = {
    TranscriptState.TRANSCRIBING: frozenset({TranscriptState.NEEDS_REVIEW}),
    TranscriptState.NEEDS_REVIEW: frozenset({TranscriptState.REVIEWED}),
    # a reviewer may reopen a reviewed transcript before it goes out
    TranscriptState.REVIEWED: frozenset({TranscriptState.SENT, TranscriptState.NEEDS_REVIEW}),
    TranscriptState.SENT: frozenset(
        {
            TranscriptState.RETURNED,
            TranscriptState.NO_RESPONSE,
            TranscriptState.WITHDRAWN,
            TranscriptState.APPROVED,  # "no changes, approved" by e-mail or phone
        }
    ),
    TranscriptState.RETURNED: frozenset(
        {
            TranscriptState.APPROVED,
            TranscriptState.APPROVED_WITH_CHANGES,
            TranscriptState.WITHDRAWN,
        }
    ),
    TranscriptState.APPROVED: frozenset(),
    TranscriptState.APPROVED_WITH_CHANGES: frozenset(),
    TranscriptState.WITHDRAWN: frozenset(),
    TranscriptState.NO_RESPONSE: frozenset(),
}


def can_move(current: TranscriptState, target: TranscriptState) -> bool:
    return target in LEGAL_MOVES[current]


def is_ready_for_analysis(state: TranscriptState, no_response_counts_as_approval: bool) -> bool:
    """Approved transcripts (and, where the study's policy says so, unanswered ones) may be
    de-identified and exported."""
    if state in (TranscriptState.APPROVED, TranscriptState.APPROVED_WITH_CHANGES):
        return True
    return state is TranscriptState.NO_RESPONSE and no_response_counts_as_approval
