"""Plain typed domain objects shared by every layer.

Times inside an interview are seconds from the start of recording, pauses excluded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Speaker(StrEnum):
    INTERVIEWER = "interviewer"
    PARTICIPANT = "participant"
    UNKNOWN = "unknown"


class ConsentStatus(StrEnum):
    PENDING = "pending"  # added, no consent yet
    CONSENTED = "consented"
    WITHDRAWN = "withdrawn"


class InterviewStatus(StrEnum):
    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    ENDED = "ended"
    INTERRUPTED = "interrupted"  # a recording was cut off (crash, kill) and recovered
    WITHDRAWN = "withdrawn"  # consent was withdrawn while it was open: what was recorded is kept


@dataclass(frozen=True)
class Participant:
    id: str
    site: str
    role: str
    number: int
    status: ConsentStatus = ConsentStatus.PENDING
    consent_date: str | None = None  # ISO date
    consent_form_version: str | None = None
    withdrawn_date: str | None = None
    added_at: str = ""


@dataclass(frozen=True)
class GuardedTerm:
    """A word the interviewer must not say before the participant does (see core/guard.py).

    `forms` are the other spellings that count as the term; `follow_up` is the schedule's probe,
    asked once the participant has raised it. `line` is where the schedule file defines it.
    """

    term: str
    forms: tuple[str, ...]
    follow_up_id: str
    follow_up: str
    line: int = 0


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float
    speaker: Speaker = Speaker.UNKNOWN


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    speaker: Speaker
    text: str
    words: tuple[Word, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Turn:
    """Consecutive segments of one speaker read as one turn (built by fieldkit.core.turns)."""

    start: float
    end: float
    speaker: Speaker
    text: str  # the segments' texts, whitespace collapsed, joined by single spaces
    segments: tuple[int, ...]  # which segments make it: indices into the list it was built from
