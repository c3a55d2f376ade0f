"""The `fieldkit` command line: a click group over the services.

Without a sub-command it opens the app."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from fieldkit import __version__, private
from fieldkit.cli.common import AppContext, passphrase_file_option, run_app, study_root
from fieldkit.cli.lazy import LazyCommand, LazyGroup
from fieldkit.errors import FieldkitError

# Every command: its module (imported only when the command is used, so that `fieldkit --help`
# and each command load no more than they need) and the first sentence of its help, which
# `fieldkit --help` lists. tests/cli/test_lazy_commands.py keeps this table true.
COMMANDS: dict[str, LazyCommand] = {
    "init": LazyCommand(
        "fieldkit.cli.study",
        "Create a study in DIRECTORY: study.toml, database, audio/ and the shipped schedule.",
    ),
    "demo": LazyCommand(
        "fieldkit.cli.study", "Make a throw-away demo study and open the app on it."
    ),
    "participant": LazyCommand(
        "fieldkit.cli.participants", "Add participants and list the interview queue."
    ),
    "consent": LazyCommand(
        "fieldkit.cli.participants",
        "Record voluntary informed consent for PID, or its withdrawal.",
    ),
    "interviews": LazyCommand(
        "fieldkit.cli.participants",
        "List interviews: participant, wave, status, duration, recordings, transcript state.",
    ),
    "schedule": LazyCommand("fieldkit.cli.schedule", "Interview schedules."),
    "record": LazyCommand(
        "fieldkit.cli.record",
        "Record an interview with PID until --seconds, the end of --input, or Ctrl-C.",
    ),
    "devices": LazyCommand("fieldkit.cli.record", "List audio input devices; * marks the default."),
    "recover": LazyCommand(
        "fieldkit.cli.record",
        "Find recordings a crash cut off, repair them and register them as interrupted.",
    ),
    "import-audio": LazyCommand(
        "fieldkit.cli.record",
        "Register a recording made on another device (WAV, FLAC, MP3, M4A …) as an interview.",
    ),
    "transcribe": LazyCommand(
        "fieldkit.cli.transcripts",
        "Transcribe interviews locally (in a worker process), with a progress bar.",
    ),
    "transcript": LazyCommand("fieldkit.cli.transcripts", "Read transcripts."),
    "audit": LazyCommand(
        "fieldkit.cli.transcripts",
        "Check the transcript against the guarded-term rule (a report: exit 0 even with breaches).",
    ),
    "models": LazyCommand(
        "fieldkit.cli.transcripts", "List the local transcription models; * marks the default."
    ),
    "approval": LazyCommand(
        "fieldkit.cli.approval", "Review sign-off and the participant approval workflow."
    ),
    "identifiers": LazyCommand(
        "fieldkit.cli.deid",
        "The study's list of names, places and organisations to de-identify.",
    ),
    "deidentify": LazyCommand(
        "fieldkit.cli.deid",
        "Replace identifiers in an approved transcript with placeholders ([PERSON 1] …).",
    ),
    "export": LazyCommand(
        "fieldkit.cli.export",
        "Export approved, de-identified transcripts (all, or the named participants') to OUTDIR.",
    ),
    "report": LazyCommand(
        "fieldkit.cli.report",
        "The study so far: participants, interviews, durations, guarded terms, approval, and a "
        "methods paragraph (COREQ items) to start the write-up from.",
    ),
    "terms": LazyCommand(
        "fieldkit.cli.report",
        "In how many transcripts the participant says each word or phrase, and where.",
    ),
    "passphrase": LazyCommand(
        "fieldkit.cli.passphrase", "An encrypted study's passphrases and recovery key."
    ),
    "encrypt": LazyCommand(
        "fieldkit.cli.conversion", "Encrypt this plain study in place: database and recordings."
    ),
    "decrypt": LazyCommand(
        "fieldkit.cli.conversion",
        "Make this encrypted study plain again, in place (asks first; --yes to skip).",
    ),
}


class FieldkitGroup(LazyGroup):
    """Turn every FieldkitError, and every database or OS error a user can meet (full disk,
    read-only study, locked database), into one `error:` line and a non-zero exit: never a
    traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FieldkitError as exc:
            _fail(exc)
        except BrokenPipeError:  # the reader left (`fieldkit … | head`): nothing to say
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so exit's flush stays quiet
            sys.exit(1)
        except Exception as exc:
            explained = _explain(exc, ctx)
            if explained is None:
                raise
            _fail(explained)


def _explain(exc: Exception, ctx: click.Context) -> FieldkitError | None:
    """A full disk, a read-only study, a locked database, a vanished folder … as one line; None
    for anything else (a bug: its traceback is shown)."""
    # sqlite3 is looked up, not imported: if no command loaded it, no error can come from it.
    sqlite3 = sys.modules.get("sqlite3")
    if not isinstance(exc, OSError) and not (sqlite3 and isinstance(exc, sqlite3.Error)):
        return None
    from fieldkit.services.study import explain_failure

    return explain_failure(exc, study_root(ctx))


def _fail(error: FieldkitError) -> NoReturn:
    click.echo(f"error: {error.one_line()}", err=True)
    sys.exit(1)


@click.group(
    cls=FieldkitGroup,
    lazy_commands=COMMANDS,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--study",
    "study_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Study folder (default: $FIELDKIT_STUDY, else the current folder).",
)
@click.option(
    "--as",
    "actor",
    metavar="NAME",
    help="Who is acting, for the audit log (default: your OS user).",
)
@click.option(
    "--input",
    "input_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="App only: record from this audio file as a virtual microphone (instead of the "
    "study's own [recording] input, if study.toml names one).",
)
@passphrase_file_option
@click.version_option(__version__, prog_name="fieldkit")
@click.pass_context
def main(
    ctx: click.Context,
    study_dir: Path | None,
    actor: str | None,
    input_file: Path | None,
    passphrase_file: Path | None,
) -> None:
    """fieldkit: offline field interviewing and transcript management.

    Run without a command to open the app on the study.
    """
    # A second line of defence: whatever this command creates without an explicit mode is
    # owner-only (the study's own files are made 0600 explicitly). Restored when it is done.
    ctx.with_resource(private.owner_only_umask())
    ctx.obj = AppContext(study_dir=study_dir, actor=actor, passphrase_file=passphrase_file)
    if ctx.invoked_subcommand is None:
        run_app(ctx.obj.study_for_app(), input_file=input_file)  # the app says what it tightened
