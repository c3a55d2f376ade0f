"""The `fieldkit` command line: a click group over the services.

Without a sub-command it opens the app."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from fieldkit import __version__, private
from fieldkit.cli.common import AppContext, passphrase_file_option, run_app, study_root
from fieldkit.errors import FieldkitError
from fieldkit.services.study import explain_failure


class FieldkitGroup(click.Group):
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
        except (sqlite3.Error, OSError) as exc:  # full disk, read-only, locked, a vanished folder
            explained = explain_failure(exc, study_root(ctx))
            if explained is None:
                raise
            _fail(explained)


def _fail(error: FieldkitError) -> NoReturn:
    click.echo(f"error: {error.one_line()}", err=True)
    sys.exit(1)


@click.group(
    cls=FieldkitGroup,
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


def _register() -> None:
    from fieldkit.cli import (
        approval,
        conversion,
        deid,
        export,
        participants,
        passphrase,
        record,
        report,
        schedule,
        study,
        transcripts,
    )

    for module in (
        study,
        participants,
        schedule,
        record,
        transcripts,
        approval,
        deid,
        export,
        report,
        passphrase,
        conversion,
    ):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
