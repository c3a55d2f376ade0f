"""fieldkit approval: reviewed, status, send, receive, decide."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fieldkit.cli.common import echo_json, note_outside_study, with_study
from fieldkit.cli.deletion import confirm_deletion, echo_deletion
from fieldkit.core.diff import Change, DiffOp
from fieldkit.core.guard import format_clock
from fieldkit.core.workflow import DECISIONS
from fieldkit.services.approval import copies, decisions, queue, states
from fieldkit.services.study import Study


@click.group("approval")
def approval_group() -> None:
    """Review sign-off and the participant approval workflow.

    \b
    needs review → reviewed → sent to participant → returned → approved
                                                              approved with changes
                                                              withdrawn
                              (after the deadline)   no response
    """


@approval_group.command("reviewed")
@click.argument("participant_id", metavar="PID")
@click.option("--wave", metavar="W", help="Interview wave (default: the latest).")
@with_study
def reviewed_command(study: Study, participant_id: str, wave: str | None) -> None:
    """Sign off the transcript: checked against the audio, ready to send."""
    interview = states.mark_reviewed(study, participant_id, wave)
    click.echo(f"{interview.participant_id} {interview.wave}: reviewed")


@approval_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_study
def status_command(study: Study, as_json: bool) -> None:
    """Every transcript's approval state, overdue first."""
    statuses = queue.approval_statuses(study)
    if as_json:
        echo_json([s.to_json() for s in statuses])
        return
    if not statuses:
        click.echo("no transcripts yet")
        return
    click.echo(f"{'participant':<16} {'wave':<13} {'state':<22} {'days':>4}  deadline")
    for s in statuses:
        deadline = s.deadline or ""
        if s.overdue:
            deadline = click.style(f"{deadline} OVERDUE", fg="red", bold=True)
        click.echo(
            f"{s.participant:<16} {s.wave:<13} {s.state.value:<22} {s.days_waiting:>4}  {deadline}"
        )


@approval_group.command("send")
@click.argument("participant_id", metavar="PID")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write: .docx (Word) or .txt.",
)
@click.option("--wave", metavar="W", help="Interview wave (default: the latest).")
@with_study
def send_command(study: Study, participant_id: str, out: Path, wave: str | None) -> None:
    """Write the participant's copy (cover note + transcript) and record the date sent."""
    sent = copies.send_copy(study, participant_id, out, wave)
    again = " again" if sent.resent else ""
    click.echo(
        f"{sent.interview.participant_id} {sent.interview.wave}: revision {sent.revision} "
        f"sent{again} as {sent.path} ({sent.turns} turns); reply by {sent.deadline.isoformat()}"
    )
    note_outside_study(study, sent.path)


@approval_group.command("receive")
@click.argument("participant_id", metavar="PID")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wave", metavar="W", help="Interview wave (default: the latest).")
@click.option("--yes", is_flag=True, help="Store it without asking.")
@with_study
def receive_command(
    study: Study, participant_id: str, file: Path, wave: str | None, yes: bool
) -> None:
    """Read the participant's returned copy, show what they changed, and store it."""
    returned = copies.read_returned(study, participant_id, file, wave)
    interview = returned.interview
    click.echo(f"{interview.participant_id} {interview.wave}: {returned.describe()}")
    for turn in returned.turns:
        if turn.changed:
            click.echo(f"[{format_clock(turn.start)}] {turn.label}: {render_ops(turn.ops)}")
    if not yes and not click.confirm("store this as the participant's revision?", default=True):
        click.echo("nothing stored")
        sys.exit(1)
    revision = copies.accept_returned(study, returned)
    stored = (
        f"stored as revision {revision} (by {interview.participant_id})"
        if returned.summary.changed
        else f"no changes: revision {revision} stands"
    )
    click.echo(
        f"{stored}; now: returned. Next: fieldkit approval decide {interview.participant_id}"
    )


def render_ops(ops: tuple[DiffOp, ...]) -> str:
    """Deleted words red and struck through, added words green; unchanged ones plain."""
    parts: list[str] = []
    for op in ops:
        if op.change is Change.DELETE:
            parts.append(click.style(f"[-{op.text}-]", fg="red", strikethrough=True))
        elif op.change is Change.INSERT:
            parts.append(click.style(f"{{+{op.text}+}}", fg="green", bold=True))
        else:
            parts.append(op.text)
    return " ".join(parts)


@approval_group.command("decide")
@click.argument("participant_id", metavar="PID")
@click.argument("decision", type=click.Choice(list(DECISIONS)), metavar="DECISION")
@click.option("--wave", metavar="W", help="Interview wave (default: the latest).")
@click.option("--yes", is_flag=True, help="Do not ask before deleting a withdrawn interview.")
@with_study
def decide_command(
    study: Study, participant_id: str, decision: str, wave: str | None, yes: bool
) -> None:
    """Record the participant's decision: approved, approved-with-changes, withdrawn or
    no-response (after the deadline). A participant may withdraw after approval too.

    A withdrawal follows the study's policy ([approval] withdrawn_data in study.toml): keep the
    data, or delete the interview's audio, transcripts, revisions, participant's copies and
    exports completely (asked first; --yes to skip the question).
    """
    decisions.check_decision(study, participant_id, decision, wave)  # before asking anything
    if decision == "withdrawn" and decisions.will_delete_on_withdrawal(study):
        confirm_deletion(
            f"the study's policy deletes {participant_id}'s interview data on withdrawal "
            "(audio, transcripts, revisions, participant's copies, exports). Delete it now?",
            f"withdrawing {participant_id}'s transcript deletes their interview data "
            "(the study's policy)",
            yes,
        )
    outcome = decisions.decide(study, participant_id, decision, wave)
    interview = outcome.interview
    click.echo(f"{interview.participant_id} {interview.wave}: {outcome.state.value}")
    if outcome.deletion is not None:
        echo_deletion(outcome.deletion)


COMMANDS = [approval_group]
