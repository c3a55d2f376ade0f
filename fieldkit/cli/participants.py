"""fieldkit participant add/list, fieldkit consent, fieldkit interviews."""

from __future__ import annotations

import click

from fieldkit.cli.common import echo_json, with_study
from fieldkit.cli.deletion import confirm_deletion, echo_deletion
from fieldkit.core.models import Participant
from fieldkit.errors import FieldkitError
from fieldkit.services.interviews import interviews_of, list_interviews
from fieldkit.services.participants import add_participant, give_consent, interview_queue
from fieldkit.services.study import Study


@click.group("participant")
def participant_group() -> None:
    """Add participants and list the interview queue."""


@participant_group.command("add")
@click.option("--site", required=True, help="One of the study's sites, e.g. 'Site 1'.")
@click.option("--role", required=True, help="One of the study's staff roles, e.g. PEER or CLIN.")
@with_study
def participant_add(study: Study, site: str, role: str) -> None:
    """Allocate the next participant ID and print it (last line)."""
    participant = add_participant(study, site, role)
    click.echo(f"added {participant.role} participant at {participant.site}")
    click.echo(participant.id)


def _interview_status(study: Study, participant: Participant) -> str:
    rows = interviews_of(study, participant.id)
    return ", ".join(f"{r.wave}: {r.status.value}" for r in rows) or "not interviewed"


@participant_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_study
def participant_list(study: Study, as_json: bool) -> None:
    """The interview queue: consented (by consent order), then no consent yet, then withdrawn."""
    queue = interview_queue(study)
    if as_json:
        echo_json(
            [
                {
                    "id": p.id,
                    "site": p.site,
                    "role": p.role,
                    "consent_date": p.consent_date,
                    "consent_form_version": p.consent_form_version,
                    "status": p.status.value,
                    "interviews": _interview_status(study, p),
                }
                for p in queue
            ]
        )
        return
    if not queue:
        click.echo("no participants yet: fieldkit participant add --site SITE --role ROLE")
        return
    click.echo(f"{'ID':<18}{'site':<10}{'role':<6}{'consent':<12}{'status':<11}interviews")
    for p in queue:
        click.echo(
            f"{p.id:<18}{p.site:<10}{p.role:<6}{p.consent_date or '-':<12}"
            f"{p.status.value:<11}{_interview_status(study, p)}"
        )


@click.command("consent")
@click.argument("participant_id", metavar="PID")
@click.option("--date", "date", metavar="YYYY-MM-DD", help="The day informed consent was given.")
@click.option("--form-version", metavar="V", help="Version of the consent form signed.")
@click.option("--withdraw", is_flag=True, help="Record that the participant withdrew consent.")
@click.option("--yes", is_flag=True, help="With --withdraw: do not ask before deleting data.")
@with_study
def consent_command(
    study: Study,
    participant_id: str,
    date: str | None,
    form_version: str | None,
    withdraw: bool,
    yes: bool,
) -> None:
    """Record voluntary informed consent for PID, or its withdrawal.

    Under the study's delete policy ([approval] withdrawn_data = "delete") a withdrawal also
    deletes every interview of PID completely: audio, transcripts, revisions, participant's
    copies and exports (asked first; --yes to skip the question).
    """
    if withdraw == bool(date):
        raise FieldkitError(
            "say either --date YYYY-MM-DD (consent given) or --withdraw",
            "see fieldkit consent --help",
        )
    if withdraw:
        _withdraw(study, participant_id, yes)
        return
    assert date is not None
    participant = give_consent(study, participant_id, date, form_version)
    click.echo(f"{participant.id}: consent recorded for {participant.consent_date}")


def _withdraw(study: Study, participant_id: str, yes: bool) -> None:
    from fieldkit.services.withdrawal import check_withdrawal, withdraw_participant

    if check_withdrawal(study, participant_id):
        confirm_deletion(
            f"the study's policy deletes {participant_id}'s interview data when consent is "
            "withdrawn (audio, transcripts, revisions, participant's copies, exports). "
            "Withdraw and delete it now?",
            f"withdrawing {participant_id}'s consent deletes their interview data "
            "(the study's policy)",
            yes,
        )
    outcome = withdraw_participant(study, participant_id)
    participant = outcome.participant
    if outcome.newly_withdrawn:
        click.echo(f"{participant.id}: consent withdrawn; nothing more will be recorded")
    else:
        click.echo(f"{participant.id}: consent was already withdrawn")
    if outcome.deletion is not None:
        echo_deletion(outcome.deletion)
    else:
        _report_stopped_recordings(study, participant.id)


def _report_stopped_recordings(study: Study, participant_id: str) -> None:
    """A recording in progress (in any process) stops by itself once consent is withdrawn."""
    from fieldkit.services.recording import wait_for_withdrawn_recordings

    for item in wait_for_withdrawn_recordings(study, participant_id):
        if item.stopped:
            click.echo(
                f"stopped the recording by {item.recorder}: the {item.kept_s:.1f} s recorded "
                f"before the withdrawal are kept ({item.path})"
            )
        else:
            click.echo(
                f"warning: the recording by {item.recorder} has not stopped yet; it stops "
                "within seconds, and what it recorded is kept",
                err=True,
            )


@click.command("interviews")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_study
def interviews_command(study: Study, as_json: bool) -> None:
    """List interviews: participant, wave, status, duration, recordings, transcript state."""
    summaries = list_interviews(study)
    if as_json:
        echo_json([s.to_json() for s in summaries])
        return
    if not summaries:
        click.echo("no interviews yet")
        return
    click.echo(f"{'participant':<18}{'wave':<14}{'status':<13}{'duration':<10}transcript")
    for s in summaries:
        minutes = f"{s.duration_s / 60:.1f} min" if s.duration_s else "-"
        click.echo(
            f"{s.participant:<18}{s.wave:<14}{s.status:<13}{minutes:<10}{s.transcript_state}"
        )


COMMANDS = [participant_group, consent_command, interviews_command]
