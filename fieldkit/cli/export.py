"""fieldkit export."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fieldkit.cli.common import note_outside_study, with_study
from fieldkit.core.wording import counted
from fieldkit.errors import FieldkitError
from fieldkit.services.export import FORMATS, SOFTWARE, check_format, check_timestamps, export
from fieldkit.services.study import Study

IDENTIFIED_WARNING = (
    "An identified export holds the transcripts as approved, with every name, place and number "
    "the participants said. It is written to the audit log."
)


def _interactive() -> bool:
    """Whether someone is at a terminal to confirm (tests replace this)."""
    return sys.stdin.isatty()


@click.command("export")
@click.option(
    "--format",
    "fmt",
    required=True,
    metavar="|".join(FORMATS),
    help="nvivo-docx, nvivo-txt (NVivo), qdpx (ATLAS.ti, MAXQDA, NVivo), csv or json.",
)
@click.argument("out_dir", metavar="OUTDIR", type=click.Path(path_type=Path))
@click.argument("participant_ids", nargs=-1, metavar="[PID]...")
@click.option("--identified", is_flag=True, help="Export the text before de-identification.")
@click.option("--yes", is_flag=True, help="With --identified: do not ask for confirmation.")
@click.option(
    "--timestamps",
    metavar="after|none",
    help="nvivo-docx, qdpx: each turn's start time after the speaker's label (default) or none.",
)
@with_study
def export_command(
    study: Study,
    fmt: str,
    out_dir: Path,
    participant_ids: tuple[str, ...],
    identified: bool,
    yes: bool,
    timestamps: str | None,
) -> None:
    """Export approved, de-identified transcripts (all, or the named participants') to OUTDIR.

    Files are never overwritten. The de-identification key is never exported."""
    check_format(fmt)
    check_timestamps(fmt, timestamps)
    if yes and not identified:
        raise FieldkitError("--yes only applies to --identified", "leave it out")
    if identified and not yes:
        _confirm_identified()
    result = export(
        study, fmt, out_dir, participant_ids, identified=identified, timestamps=timestamps
    )
    for note in result.notes:
        click.echo(note, err=True)
    kind = "IDENTIFIED" if identified else "de-identified"
    click.echo(
        f"wrote {counted(len(result.files), 'file')} with "
        f"{counted(len(result.transcripts), f'{kind} transcript')} "
        f"to {out_dir} — opens in {SOFTWARE[fmt]}"
    )
    for path in result.files:
        click.echo(f"  {path.name}")
    note_outside_study(study, out_dir, folder=True)


def _confirm_identified() -> None:
    if not _interactive():
        raise FieldkitError(
            "an identified export needs confirmation and there is no terminal to ask on",
            "add --yes if you are sure",
        )
    click.echo(IDENTIFIED_WARNING, err=True)
    if not click.confirm("Export identified transcripts?", default=False, err=True):
        raise FieldkitError("identified export cancelled", "nothing was written")


COMMANDS = [export_command]
