"""Participants and consent."""

from __future__ import annotations

import datetime as dt

from fieldkit.core.models import ConsentStatus, Participant
from fieldkit.core.participants import match_choice, next_number, parse_consent_date, queue_order
from fieldkit.errors import FieldkitError, UnknownParticipantError
from fieldkit.services.study import Study, now_iso
from fieldkit.store.repo import Participants


def get_participant(study: Study, participant_id: str) -> Participant:
    participant = Participants(study.db).get(participant_id.strip())
    if participant is None:
        raise UnknownParticipantError(
            f"no participant {participant_id!r} in this study",
            "see `fieldkit participant list` for the IDs",
        )
    return participant


def add_participant(study: Study, site: str, role: str) -> Participant:
    site = match_choice(site, study.config.sites, "site")
    role = match_choice(role, study.config.roles, "role")
    repo = Participants(study.db)
    with study.transaction():
        number = next_number(repo.numbers())
        participant = Participant(
            id=study.config.participant_id(number, role=role, site=site),
            site=site,
            role=role,
            number=number,
            added_at=now_iso(),
        )
        if repo.get(participant.id) is not None:
            raise FieldkitError(
                f"participant ID {participant.id} is already taken",
                "the ID template in study.toml must include {number}",
            )
        repo.insert(participant)
        study.audit("participant added", participant.id, site=site, role=role)
    return participant


def interview_queue(study: Study) -> list[Participant]:
    return queue_order(Participants(study.db).all())


def give_consent(
    study: Study,
    participant_id: str,
    date: str,
    form_version: str | None = None,
    today: dt.date | None = None,
) -> Participant:
    participant = get_participant(study, participant_id)
    consent_date = parse_consent_date(date, today or dt.date.today())
    if participant.status is ConsentStatus.CONSENTED:
        raise FieldkitError(
            f"participant {participant.id} already consented on {participant.consent_date}",
            "nothing changed",
        )
    with study.transaction():
        Participants(study.db).update(
            participant.id,
            status=ConsentStatus.CONSENTED.value,
            consent_date=consent_date.isoformat(),
            consent_form_version=form_version,
            consent_recorded_at=now_iso(),
            withdrawn_at=None,
        )
        study.audit(
            "consent given",
            participant.id,
            date=consent_date.isoformat(),
            form_version=form_version,
        )
    return get_participant(study, participant.id)


def withdraw_consent(study: Study, participant_id: str) -> Participant:
    from fieldkit.services.interviews import withdraw_open_interviews  # it builds on this module

    participant = get_participant(study, participant_id)
    if participant.status is ConsentStatus.WITHDRAWN:
        raise FieldkitError(
            f"participant {participant.id} has already withdrawn", "nothing changed"
        )
    with study.transaction():
        Participants(study.db).update(
            participant.id, status=ConsentStatus.WITHDRAWN.value, withdrawn_at=now_iso()
        )
        study.audit("consent withdrawn", participant.id)
        withdraw_open_interviews(study, participant.id)  # a recording in it stops by itself
    return get_participant(study, participant.id)
