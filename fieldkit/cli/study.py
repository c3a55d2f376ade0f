"""fieldkit init, fieldkit demo."""

from __future__ import annotations

import os
from pathlib import Path

import click

from fieldkit.cli.common import (
    AppContext,
    announce_tightened,
    passphrase_file_option,
    remember_study_root,
    run_app,
    warn_if_others_can_read,
)
from fieldkit.crypto.passphrase import PASSPHRASE_ENV, get_passphrase
from fieldkit.errors import FieldkitError
from fieldkit.services.demo import build_demo_study, build_encrypted_demo_study
from fieldkit.services.study import PassphraseSource, Study, init_encrypted_study, init_study


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=True, path_type=Path))
@click.option("--title", help="The study's title (default: the folder's name).")
@click.option("--as", "actor", metavar="NAME", help="Who is acting, for the audit log.")
@click.option(
    "--encrypt",
    is_flag=True,
    help="Encrypt the study with a passphrase (asked twice on the terminal, or from "
    "--passphrase-file or $FIELDKIT_PASSPHRASE); prints a one-time recovery key.",
)
@passphrase_file_option
@click.pass_context
def init_command(
    ctx: click.Context,
    directory: Path,
    title: str | None,
    actor: str | None,
    encrypt: bool,
    passphrase_file: Path | None,
) -> None:
    """Create a study in DIRECTORY: study.toml, database, audio/ and the shipped schedule."""
    remember_study_root(directory)
    passphrase_file = passphrase_file or _parent_passphrase_file(ctx)
    if encrypt:
        study, recovery_key = init_encrypted_study(
            directory, new_study_passphrase(passphrase_file), title=title, actor=actor
        )
        study.close()
        announce_tightened(study)  # a folder that was there already is made owner-only
        click.echo(f"created encrypted study {study.config.title!r} in {study.root}")
        show_recovery_key(recovery_key)
    else:
        if passphrase_file is not None:
            raise FieldkitError(
                "--passphrase-file was given, but init makes a plain study unless --encrypt is",
                "add --encrypt to make an encrypted study",
            )
        study = init_study(directory, title=title, actor=actor)
        study.close()
        announce_tightened(study)
        click.echo(f"created study {study.config.title!r} in {study.root}")
        _note_unused_passphrase()
    click.echo(f"next: fieldkit --study {study.root} participant add --site 'Site 1' --role PEER")


def new_study_passphrase(passphrase_file: Path | None) -> PassphraseSource:
    """The passphrase of a new encrypted study: a file, the environment, or asked twice."""

    def ask() -> str:
        if passphrase_file is not None:
            warn_if_others_can_read(passphrase_file)
        return get_passphrase(passphrase_file=passphrase_file, new=True)

    return ask


def show_recovery_key(recovery_key: str) -> None:
    click.echo(
        "\nRecovery key (shown only this once):\n\n"
        f"    {recovery_key}\n\n"
        "Write it down and keep it apart from this laptop: not in the study folder, not in a\n"
        "file on this computer. If every passphrase is lost, `fieldkit passphrase reset` opens\n"
        "the study with it. It works together with the study's keyslots.json, so back that\n"
        "file up with the study.\n"
    )


def _parent_passphrase_file(ctx: click.Context) -> Path | None:
    parent = ctx.find_object(AppContext)
    return parent.passphrase_file if parent is not None else None


def _note_unused_passphrase() -> None:
    if os.environ.get(PASSPHRASE_ENV):
        click.echo(
            f"note: {PASSPHRASE_ENV} is set, but the study is not encrypted "
            "(fieldkit init DIR --encrypt makes an encrypted one)",
            err=True,
        )


@click.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to make the demo study (default: a new folder in your cache).",
)
@click.option(
    "--no-app", is_flag=True, help="Make the demo study and print its folder; do not open the app."
)
@click.option("--empty", is_flag=True, help="Participants only: no interviews or transcripts yet.")
@click.option(
    "--encrypt",
    is_flag=True,
    help="Make the demo study encrypted (passphrase from --passphrase-file, "
    "$FIELDKIT_PASSPHRASE, or asked twice).",
)
@passphrase_file_option
@click.pass_context
def demo_command(
    ctx: click.Context,
    directory: Path | None,
    no_app: bool,
    empty: bool,
    encrypt: bool,
    passphrase_file: Path | None,
) -> None:
    """Make a throw-away demo study and open the app on it.

    Five participants wait to be interviewed; five more have transcripts at each point of review
    and approval. Recording plays the bundled demo interview through the virtual microphone
    (study.toml names it, so this holds whenever the study is opened), so everything works on a
    machine with no microphone.
    """
    study: Study
    if encrypt:
        passphrase_file = passphrase_file or _parent_passphrase_file(ctx)
        study, recovery_key = build_encrypted_demo_study(
            new_study_passphrase(passphrase_file), directory, transcripts=not empty
        )
        click.echo(f"encrypted demo study: {study.root}")
        show_recovery_key(recovery_key)
    else:
        study = build_demo_study(directory, transcripts=not empty)
        click.echo(f"demo study: {study.root}")
    if not no_app:
        run_app(study)  # it records from the demo interview: study.toml names it


COMMANDS = [init_command, demo_command]
