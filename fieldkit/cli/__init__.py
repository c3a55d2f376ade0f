"""The `fieldkit` command line: a click group over the services.

Without a sub-command it opens the app."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from fieldkit import __version__
from fieldkit.cli.common import AppContext, run_app
from fieldkit.errors import FieldkitError


class FieldkitGroup(click.Group):
    """Turn every FieldkitError into one `error:` line and a non-zero exit: never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FieldkitError as exc:
            click.echo(f"error: {exc.one_line()}", err=True)
            sys.exit(1)
        except sqlite3.DatabaseError as exc:  # "database or disk is full", "locked" …
            click.echo(
                f"error: the study database could not be written ({exc}). Free some disk space, "
                "or close other programs using the study, and try again; nothing was changed.",
                err=True,
            )
            sys.exit(1)
        except BrokenPipeError:  # the reader left (`fieldkit … | head`): nothing to say
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so exit's flush stays quiet
            sys.exit(1)
        except OSError as exc:  # full disk, no permission, a folder that vanished …
            where = f" ({exc.filename})" if exc.filename else ""
            reason = exc.strerror or str(exc)
            click.echo(f"error: {reason}{where}. Nothing more was written.", err=True)
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
    help="App only: record from this audio file as a virtual microphone.",
)
@click.version_option(__version__, prog_name="fieldkit")
@click.pass_context
def main(
    ctx: click.Context, study_dir: Path | None, actor: str | None, input_file: Path | None
) -> None:
    """fieldkit: offline field interviewing and transcript management.

    Run without a command to open the app on the study.
    """
    ctx.obj = AppContext(study_dir=study_dir, actor=actor)
    if ctx.invoked_subcommand is None:
        run_app(ctx.obj.study(), input_file=input_file)


def _register() -> None:
    from fieldkit.cli import (
        approval,
        deid,
        export,
        participants,
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
    ):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
