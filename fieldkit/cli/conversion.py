"""fieldkit encrypt, fieldkit decrypt: convert a study in place (services/conversion.py).

Both first finish or take back a conversion a crash interrupted, then check that nothing is
recording or transcribing, and only then ask for anything.
"""

from __future__ import annotations

import sys

import click

from fieldkit.cli.common import AppContext, with_study_options
from fieldkit.cli.study import new_study_passphrase, show_recovery_key
from fieldkit.errors import FieldkitError
from fieldkit.services import conversion, encryption
from fieldkit.services.conversion import Converted, PlannedRecording, Settled
from fieldkit.services.study import find_study

OVERWRITE_CAVEAT = (
    "on an SSD or a copy-on-write file system old blocks may survive that: "
    'see "Converting a study" in the README'
)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


@click.command("encrypt")
@with_study_options
def encrypt_command(app_ctx: AppContext) -> None:
    """Encrypt this plain study in place: database and recordings.

    The passphrase is asked twice on a terminal (or read from --passphrase-file or
    $FIELDKIT_PASSPHRASE); a recovery key is printed once. Crash-safe: stopped at any moment,
    the study is the old plain one or the new encrypted one, and running the command again
    finishes the job. The plain copies are then removed, overwritten first.
    """
    root = app_ctx.root()
    settled = conversion.settle_interrupted(root)
    say_settled(settled)
    if find_study(root, actor=app_ctx.actor).encrypted:
        if settled.direction == "encrypt" and settled.outcome == "finished":
            if not settled.recovery_key_shown:
                replace_unseen_recovery_key(app_ctx)
            click.echo(f"the study in {root} is encrypted")
            return
        if settled.happened:
            click.echo(f"the study in {root} stays encrypted")
            return
        raise conversion.ConversionError(
            f"the study in {root} is already encrypted",
            "manage its passphrases with `fieldkit passphrase`",
        )
    study = app_ctx.study()
    conversion.check_nothing_running(study)
    passphrase = new_study_passphrase(app_ctx.passphrase_file)()
    click.echo(f"encrypting the study in {root}")
    result = conversion.encrypt_study(study, passphrase, announce_encrypted, progress=echo_progress)
    echo_result(result)


def announce_encrypted(recovery_key: str) -> None:
    """Called the moment the study is encrypted, before the plain copies are removed."""
    click.echo("the study is encrypted now")
    show_recovery_key(recovery_key)


def replace_unseen_recovery_key(app_ctx: AppContext) -> None:
    """An interrupted `encrypt` switched the study over but stopped before printing its
    recovery key: make a new one (the unseen one stops working) and print that."""
    click.echo(
        "the interrupted `fieldkit encrypt` stopped before it printed the recovery key; "
        "making a new one (the study's passphrase opens it for that)"
    )
    study = app_ctx.study()
    show_recovery_key(encryption.new_recovery_key(study))
    study.close()


@click.command("decrypt")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_study_options
def decrypt_command(app_ctx: AppContext, yes: bool) -> None:
    """Make this encrypted study plain again, in place (asks first; --yes to skip).

    Needs the passphrase. Afterwards anyone who can read the study folder can read everything
    in it. Crash-safe like `fieldkit encrypt`.
    """
    root = app_ctx.root()
    settled = conversion.settle_interrupted(root)
    say_settled(settled)
    if not find_study(root, actor=app_ctx.actor).encrypted:
        if settled.happened:
            click.echo(f"the study in {root} is plain")
            return
        raise conversion.ConversionError(f"the study in {root} is not encrypted", "nothing to do")
    confirm_decrypt(root, yes)
    study = app_ctx.study()
    conversion.check_nothing_running(study)
    click.echo(f"decrypting the study in {root}")
    result = conversion.decrypt_study(study, progress=echo_progress)
    click.echo(
        "the study is plain now: whoever can read its folder can read everything in it; its "
        "passphrases and recovery key no longer mean anything"
    )
    echo_result(result)


def confirm_decrypt(root: object, yes: bool) -> None:
    if yes:
        return
    if not stdin_is_terminal():
        raise FieldkitError(
            "decrypting makes the study readable by whoever has its folder, and there is no "
            "terminal to ask for confirmation; nothing was changed",
            "add --yes to confirm",
        )
    question = (
        f"Decrypt the study in {root}? Its database and recordings will be stored as plain "
        "files that anyone with the folder can read"
    )
    if not click.confirm(question, default=False):
        click.echo("nothing was changed")
        sys.exit(1)


def say_settled(settled: Settled) -> None:
    if not settled.happened:
        return
    command = f"fieldkit {settled.direction}"
    if settled.outcome == "rolled back":
        click.echo(f"note: took back the unfinished part of an interrupted `{command}`", err=True)
    else:
        click.echo(f"note: finished an interrupted `{command}`", err=True)


def echo_progress(done: int, total: int, recording: PlannedRecording) -> None:
    click.echo(f"  {recording.old} -> {recording.new} ({done}/{total})")


def echo_result(result: Converted) -> None:
    if result.direction == "encrypt":
        click.echo(
            f"removed the plain copies ({result.removed} files: the old recordings and "
            f"database), each overwritten first; {OVERWRITE_CAVEAT}"
        )
    else:
        click.echo(f"removed the encrypted copies ({result.removed} files)")
    if result.missing:
        click.echo(
            f"warning: {len(result.missing)} recording file(s) were missing and are listed as "
            f"they were: {', '.join(result.missing)}",
            err=True,
        )
    if result.not_overwritten:
        click.echo(
            "warning: these plain files were removed but could not be overwritten first: "
            + ", ".join(result.not_overwritten),
            err=True,
        )
    if result.left_plain:
        click.echo(
            f"note: {len(result.left_plain)} file(s) in the study folder stay plain (exports "
            "and participant copies are plain by nature; audio no recording refers to is not "
            "the study's): " + ", ".join(result.left_plain),
            err=True,
        )


COMMANDS = [encrypt_command, decrypt_command]
