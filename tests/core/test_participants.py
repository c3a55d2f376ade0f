import datetime as dt

import pytest

from fieldkit.core.models import ConsentStatus, Participant
from fieldkit.core.participants import (
    match_choice,
    next_number,
    parse_consent_date,
    queue_order,
    require_consent,
)
from fieldkit.errors import ConsentError, FieldkitError


def person(number: int, status: ConsentStatus, date: str | None = None) -> Participant:
    return Participant(
        id=f"P{number}", site="Site 1", role="PEER", number=number, status=status, consent_date=date
    )


def test_numbers_run_on_across_roles() -> None:
    assert next_number([]) == 1
    assert next_number([1, 2, 7]) == 8


def test_queue_is_consent_order_then_pending_then_withdrawn() -> None:
    people = [
        person(1, ConsentStatus.WITHDRAWN),
        person(2, ConsentStatus.PENDING),
        person(3, ConsentStatus.CONSENTED, "2026-03-10"),
        person(4, ConsentStatus.CONSENTED, "2026-03-02"),
        person(5, ConsentStatus.PENDING),
    ]
    assert [p.id for p in queue_order(people)] == ["P4", "P3", "P2", "P5", "P1"]


def test_consent_date_must_be_a_real_past_date() -> None:
    today = dt.date(2026, 5, 1)
    assert parse_consent_date("2026-04-30", today) == dt.date(2026, 4, 30)
    with pytest.raises(FieldkitError, match="not a date"):
        parse_consent_date("30/04/2026", today)
    with pytest.raises(FieldkitError, match="in the future"):
        parse_consent_date("2026-05-02", today)


def test_sites_and_roles_match_case_insensitively() -> None:
    assert match_choice("site 1", ("Site 1", "Site 2"), "site") == "Site 1"
    with pytest.raises(FieldkitError, match="unknown role 'NURSE'"):
        match_choice("NURSE", ("PEER", "CLIN"), "role")


def test_recording_needs_current_consent() -> None:
    require_consent(person(1, ConsentStatus.CONSENTED, "2026-01-01"))
    with pytest.raises(ConsentError, match="no recorded consent"):
        require_consent(person(2, ConsentStatus.PENDING))
    with pytest.raises(ConsentError, match="withdrawn"):
        require_consent(person(3, ConsentStatus.WITHDRAWN))
