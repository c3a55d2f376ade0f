"""Counts and states in plain words: "1 turn", "2 turns" (never "turn(s)"), "has ended"."""

from __future__ import annotations

from fieldkit.core.models import InterviewStatus


def counted(n: int, one: str, many: str = "") -> str:
    """ "1 file", "3 files", "0 files"; `many` for a plural that is not `one` + "s"
    ("1 note or marker", "2 notes or markers")."""
    return f"{n} {one if n == 1 else many or one + 's'}"


# An interview's status as the end of a sentence that starts "This interview …".
_INTERVIEW_STATUS_PHRASES = {
    InterviewStatus.NOT_STARTED: "has not started",
    InterviewStatus.IN_PROGRESS: "is in progress",
    InterviewStatus.ENDED: "has ended",
    InterviewStatus.INTERRUPTED: "was interrupted",
    InterviewStatus.WITHDRAWN: "ended when consent was withdrawn",
}


def interview_status_phrase(status: InterviewStatus) -> str:
    """ "has ended", "was interrupted" …: the status in plain words, not its stored name."""
    return _INTERVIEW_STATUS_PHRASES[status]
