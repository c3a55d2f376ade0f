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

A participant may withdraw after a decision too: approved, approved with changes and no response
can still become withdrawn (a withdrawal under the delete policy deletes the data at any stage).
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
    # decided, but the participant may still withdraw
    TranscriptState.APPROVED: frozenset({TranscriptState.WITHDRAWN}),
    TranscriptState.APPROVED_WITH_CHANGES: frozenset({TranscriptState.WITHDRAWN}),
    TranscriptState.NO_RESPONSE: frozenset({TranscriptState.WITHDRAWN}),
    TranscriptState.WITHDRAWN: frozenset(),
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
    """Refuse an illegal move with one line, in plain words: where the transcript is and what
    to do instead (the hint names the command)."""
    if can_move(current, target):
        return
    message, hint = _refusal(current, target)
    raise WorkflowError(f"{who} {message}", hint)


# Where a transcript is, as the end of a sentence that starts with "the transcript of …".
_SITUATION: dict[TranscriptState, str] = {
    TranscriptState.TRANSCRIBING: "is still being transcribed",
    TranscriptState.NEEDS_REVIEW: "still needs review",
    TranscriptState.REVIEWED: "is signed off but not sent yet",
    TranscriptState.SENT: "is with the participant",
    TranscriptState.RETURNED: "has come back from the participant",
    TranscriptState.APPROVED: "is approved",
    TranscriptState.APPROVED_WITH_CHANGES: "is approved with changes",
    TranscriptState.WITHDRAWN: "was withdrawn",
    TranscriptState.NO_RESPONSE: "is closed with no response",
}


def situation(state: TranscriptState) -> str:
    """Where a transcript is, in plain words: "still needs review", "is with the participant"."""
    return _SITUATION[state]


# A move to the state it is already in.
_ALREADY: dict[TranscriptState, str] = {
    TranscriptState.NEEDS_REVIEW: "already needs review",
    TranscriptState.REVIEWED: "is already signed off",
    TranscriptState.SENT: "has already been sent",
    TranscriptState.RETURNED: "has already come back; a returned copy is stored only once",
}

_NEXT_STEP: dict[TranscriptState, str] = {
    TranscriptState.NEEDS_REVIEW: "review it, then sign it off: fieldkit approval reviewed",
    TranscriptState.REVIEWED: "send the participant's copy: fieldkit approval send",
    TranscriptState.SENT: "record the participant's answer: fieldkit approval receive or decide",
    TranscriptState.RETURNED: "record the participant's decision: fieldkit approval decide",
}


def _refusal(current: TranscriptState, target: TranscriptState) -> tuple[str, str]:
    """(the rest of the message after "the transcript of …", a hint) for an illegal move."""
    situation = _SITUATION[current]
    if current is TranscriptState.WITHDRAWN and target is TranscriptState.WITHDRAWN:
        return "was already withdrawn", "nothing changed"
    if current in FINAL_STATES:
        if target is TranscriptState.RETURNED:
            return f"{situation}; a returned copy can no longer be stored", "nothing changed"
        return f"{situation}; its approval is decided and cannot change", "nothing changed"
    if current is TranscriptState.TRANSCRIBING:
        return f"{situation}; wait until its transcript is ready", "fieldkit interviews shows it"
    next_step = _NEXT_STEP[current]
    if target is TranscriptState.TRANSCRIBING:
        return "already has a transcript", "nothing changed"
    if current is target:
        return _ALREADY[current], next_step
    if target in FINAL_STATES and current in (
        TranscriptState.NEEDS_REVIEW,
        TranscriptState.REVIEWED,
    ):
        return f"{situation}; decisions come after the participant's copy is sent", next_step
    if current is TranscriptState.NEEDS_REVIEW and target is TranscriptState.SENT:
        return f"{situation}; sign it off before sending", next_step
    if target is TranscriptState.RETURNED:  # from needs review or reviewed: never sent
        return f"{situation}; nothing can come back before it is sent", next_step
    if current is TranscriptState.SENT and target is TranscriptState.APPROVED_WITH_CHANGES:
        return (
            f"{situation}; store the returned copy before approving it with changes",
            "fieldkit approval receive PID FILE",
        )
    if current is TranscriptState.SENT:  # back to review
        return f"{situation}; it cannot be edited or signed off again while it is out", next_step
    if target is TranscriptState.NO_RESPONSE:  # from returned
        return f"{situation}, so it is not a case of no response", next_step
    if target is TranscriptState.SENT:  # from returned
        return f"{situation}; it cannot be sent again", next_step
    return f"{situation}; it cannot go back to review", next_step  # from returned


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
