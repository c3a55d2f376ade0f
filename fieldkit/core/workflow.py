"""A transcript's approval workflow: its states, the legal moves between them, and the rules
about deadlines and decisions. Pure: no I/O, no dates from the clock (callers pass `today`).

transcribing → needs review ⇄ reviewed → sent to participant → returned
                                               │                  │
                                               │                  ├→ approved
                                               │                  ├→ approved with changes
                                               │                  └→ withdrawn
                                               ├→ approved (by e-mail or phone, no changes)
                                               ├→ no response (deadline passed)
                                               └→ withdrawn
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from fieldkit.errors import WorkflowError


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

# The words `fieldkit approval decide PID DECISION` takes, and the state each one moves to.
DECISIONS: dict[str, TranscriptState] = {
    "approved": TranscriptState.APPROVED,
    "approved-with-changes": TranscriptState.APPROVED_WITH_CHANGES,
    "withdrawn": TranscriptState.WITHDRAWN,
    "no-response": TranscriptState.NO_RESPONSE,
}

# A reviewer edits only before the transcript goes out: after that the participant's copy and
# the stored text must stay the same (a later de-identification adds its own revisions).
EDITABLE_STATES = frozenset({TranscriptState.NEEDS_REVIEW, TranscriptState.REVIEWED})

# The queue screen lists what needs someone's attention first.
QUEUE_ORDER: tuple[TranscriptState, ...] = (
    TranscriptState.RETURNED,
    TranscriptState.NEEDS_REVIEW,
    TranscriptState.REVIEWED,
    TranscriptState.SENT,
    TranscriptState.TRANSCRIBING,
    TranscriptState.APPROVED_WITH_CHANGES,
    TranscriptState.APPROVED,
    TranscriptState.NO_RESPONSE,
    TranscriptState.WITHDRAWN,
)


def can_move(current: TranscriptState, target: TranscriptState) -> bool:
    return target in LEGAL_MOVES[current]


def check_move(
    current: TranscriptState, target: TranscriptState, who: str = "the transcript"
) -> None:
    """Refuse an illegal move with one line that says what would be legal instead."""
    if can_move(current, target):
        return
    message = f"{who} is {current.value}: it cannot become {target.value}"
    raise WorkflowError(message, _hint(current, target))


def _hint(current: TranscriptState, target: TranscriptState) -> str:
    if current in FINAL_STATES:
        return "its approval is decided; nothing changed"
    if target in FINAL_STATES and current in (
        TranscriptState.TRANSCRIBING,
        TranscriptState.NEEDS_REVIEW,
        TranscriptState.REVIEWED,
    ):
        return "decisions come after the participant's copy is sent (fieldkit approval send)"
    if target is TranscriptState.APPROVED_WITH_CHANGES:
        return "record the returned copy first (fieldkit approval receive)"
    legal = ", ".join(sorted(s.value for s in LEGAL_MOVES[current]))
    return f"from {current.value} it can become: {legal}"


def parse_decision(word: str) -> TranscriptState:
    try:
        return DECISIONS[word.strip().lower()]
    except KeyError:
        choices = ", ".join(DECISIONS)
        raise WorkflowError(f"unknown decision {word!r}", f"choose one of: {choices}") from None


def decision_word(state: TranscriptState) -> str:
    return next(word for word, target in DECISIONS.items() if target is state)


def deadline_for(sent_on: dt.date, response_days: int) -> dt.date:
    """The last day the participant has to respond."""
    return sent_on + dt.timedelta(days=response_days)


def is_overdue(state: TranscriptState, deadline: dt.date | None, today: dt.date) -> bool:
    """Sent out, no answer, and the deadline has passed."""
    return state is TranscriptState.SENT and deadline is not None and today > deadline


def check_no_response(deadline: dt.date | None, today: dt.date) -> None:
    """ "No response" is a decision for after the deadline, not before."""
    if deadline is not None and today <= deadline:
        raise WorkflowError(
            f"the participant has until {deadline.isoformat()} to respond",
            "record no-response after the deadline has passed",
        )


def days_waiting(since: dt.date, today: dt.date) -> int:
    return max(0, (today - since).days)


def queue_key(state: TranscriptState, overdue: bool, waiting_days: int) -> tuple[int, int, int]:
    """Overdue first (longest waiting first), then by state as QUEUE_ORDER lists them."""
    return (0 if overdue else 1, QUEUE_ORDER.index(state), -waiting_days)


def is_ready_for_analysis(state: TranscriptState, no_response_counts_as_approval: bool) -> bool:
    """Approved transcripts (and, where the study's policy says so, unanswered ones) may be
    de-identified and exported."""
    if state in (TranscriptState.APPROVED, TranscriptState.APPROVED_WITH_CHANGES):
        return True
    return state is TranscriptState.NO_RESPONSE and no_response_counts_as_approval
