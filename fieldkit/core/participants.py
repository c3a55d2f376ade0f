"""Participant rules: ID allocation, consent dates and the interview queue order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from fieldkit.core.models import ConsentStatus, Participant
from fieldkit.errors import ConsentError, FieldkitError


def next_number(existing_numbers: Iterable[int]) -> int:
    """One running number across roles and sites: INTSTA001-PEER, INTSTA002-CLIN, …"""
    return max(existing_numbers, default=0) + 1


def match_choice(value: str, choices: Sequence[str], what: str) -> str:
    """Case-insensitive pick from the study's sites or roles; unknown → one clear line."""
    for choice in choices:
        if choice.casefold() == value.strip().casefold():
            return choice
    listed = ", ".join(repr(c) for c in choices)
    raise FieldkitError(
        f"unknown {what} {value!r}", f"choose one of {listed} (or add it to study.toml)"
    )


def parse_consent_date(text: str, today: dt.date) -> dt.date:
    """Consent is recorded on the day it was given: a real date, not in the future."""
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise FieldkitError(
            f"consent date {text!r} is not a date", "write it as YYYY-MM-DD, e.g. 2026-03-14"
        ) from None
    if date > today:
        raise FieldkitError(
            f"consent date {text} is in the future",
            "record consent on or after the day it is given",
        )
    return date


def require_consent(participant: Participant) -> None:
    """The guard every recording path goes through: no current consent, nothing recorded."""
    if participant.status is ConsentStatus.WITHDRAWN:
        raise_consent(participant, "has withdrawn consent", "nothing more may be recorded")
    if participant.status is not ConsentStatus.CONSENTED:
        raise_consent(
            participant,
            "has no recorded consent",
            f"record it first: fieldkit consent {participant.id} --date YYYY-MM-DD",
        )


def raise_consent(participant: Participant, what: str, hint: str) -> None:
    raise ConsentError(f"participant {participant.id} {what}", hint)


def queue_order(participants: Iterable[Participant]) -> list[Participant]:
    """Consented first in the order consent was given (the study samples by consent order),
    then those still without consent (in the order they were added), then withdrawn ones."""

    def key(p: Participant) -> tuple[int, str, int]:
        if p.status is ConsentStatus.CONSENTED:
            return (0, p.consent_date or "", p.number)
        if p.status is ConsentStatus.PENDING:
            return (1, "", p.number)
        return (2, "", p.number)

    return sorted(participants, key=key)
