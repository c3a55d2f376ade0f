"""Asking before a command deletes a withdrawn participant's data, and saying what went."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from fieldkit.core.wording import counted
from fieldkit.errors import FieldkitError

if TYPE_CHECKING:
    from fieldkit.services.deletion import Deletion


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def confirm_deletion(question: str, what: str, yes: bool) -> None:
    """Go on if --yes was given or the user answers yes at a terminal. Without a terminal to ask
    (a script, a pipe) refuse with one line; a "no" stops too. Either way nothing changes."""
    if yes:
        return
    if not stdin_is_terminal():
        raise FieldkitError(
            f"{what}, and there is no terminal to ask for confirmation; nothing changed",
            "add --yes to confirm the deletion",
        )
    if not click.confirm(question, default=False):
        click.echo("nothing changed")
        sys.exit(1)


def echo_deletion(deletion: Deletion) -> None:
    counts = deletion.counts
    click.echo(
        f"deleted: {counted(counts.transcripts, 'transcript revision')}, "
        f"{counted(counts.words, 'word')}, {counted(counts.recordings, 'recording')}, "
        f"{counted(counts.events, 'event')} with text, {counted(counts.jobs, 'job')}, "
        f"{counted(len(deletion.removed), 'file')}"
    )
    for path in deletion.shared_exports:
        click.echo(
            f"note: removed the export {path}, which held other transcripts too: "
            "export those again",
            err=True,
        )
    for problem in deletion.failed:
        click.echo(f"warning: could not remove {problem}: delete it yourself", err=True)
    for name in deletion.unrecorded_copies:
        click.echo(
            f"note: the participant's copy {name} was written before fieldkit recorded where: "
            "delete it yourself",
            err=True,
        )
    if not deletion.database_clean:
        click.echo(
            "note: another program has the study open, so the database journal still holds "
            "old pages; close it (the journal is emptied when the last program closes)",
            err=True,
        )
    if deletion.copies_sent:
        click.echo(
            "note: copies sent by e-mail or printed are outside fieldkit's reach: "
            "delete or destroy them yourself",
            err=True,
        )
