"""fieldkit passphrase list | add | change | remove | reset | new-recovery-key.

The current passphrase comes as for every command (--passphrase-file, $FIELDKIT_PASSPHRASE, or the
terminal); a new one from --new-passphrase-file or asked twice on the terminal (never from the
environment: the variable holds the current one); the recovery key from --recovery-key-file or
asked on the terminal. None of them is ever an argument on the command line.
"""

from __future__ import annotations

from pathlib import Path

import click

from fieldkit.cli.common import (
    AppContext,
    echo_json,
    passphrase_source,
    warn_if_others_can_read,
    with_study_options,
)
from fieldkit.cli.study import show_recovery_key
from fieldkit.crypto.errors import InvalidRecoveryKeyError, PassphraseUnavailableError
from fieldkit.crypto.passphrase import passphrase_from_file, prompt_passphrase, stdin_is_terminal
from fieldkit.services import encryption
from fieldkit.services.study import Study

RECOVERY_PROMPT_ATTEMPTS = 3

new_passphrase_file_option = click.option(
    "--new-passphrase-file",
    "new_passphrase_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The new passphrase: the first line of FILE (default: asked twice on the terminal).",
)


@click.group("passphrase")
def passphrase_group() -> None:
    """An encrypted study's passphrases and recovery key.

    Several passphrases can open a study (one per colleague, say); each is a key slot in the
    study's keyslots.json. The recovery key opens it when every passphrase is lost.
    """


@passphrase_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_study_options
def list_command(app_ctx: AppContext, as_json: bool) -> None:
    """The study's key slots: kind, when made, and whether each can be read. Asks nothing."""
    slots = encryption.key_slots(app_ctx.root())
    if as_json:
        echo_json(
            [
                {
                    "slot": s.id,
                    "kind": s.kind,
                    "created": s.created,
                    "readable": s.readable,
                    "problem": s.problem,
                }
                for s in slots
            ]
        )
        return
    for slot in slots:
        state = "ok" if slot.readable else f"DAMAGED ({slot.problem})"
        click.echo(f"slot {slot.id}  {slot.kind:<10}  created {slot.created or '?'}  {state}")


@passphrase_group.command("add")
@new_passphrase_file_option
@with_study_options
def add_command(app_ctx: AppContext, new_passphrase_file: Path | None) -> None:
    """Add another passphrase (the study is opened with a current one first)."""
    study, _current = _unlock(app_ctx)
    slot_id = encryption.add_passphrase(study, new_passphrase(new_passphrase_file))
    click.echo(f"added a passphrase (key slot {slot_id}); the others still work")


@passphrase_group.command("change")
@new_passphrase_file_option
@with_study_options
def change_command(app_ctx: AppContext, new_passphrase_file: Path | None) -> None:
    """Replace the current passphrase with a new one."""
    study, current = _unlock(app_ctx)
    slot_id = encryption.change_passphrase(study, current, new_passphrase(new_passphrase_file))
    click.echo(f"changed the passphrase of key slot {slot_id}; the old one no longer opens it")


@passphrase_group.command("remove")
@click.option(
    "--slot",
    "slot_id",
    type=int,
    help="Remove this key slot (see `fieldkit passphrase list`) instead of the passphrase given.",
)
@with_study_options
def remove_command(app_ctx: AppContext, slot_id: int | None) -> None:
    """Remove the passphrase given (or, with --slot N, another one). The last passphrase cannot
    be removed."""
    study, current = _unlock(app_ctx)
    if slot_id is None:
        removed = encryption.remove_passphrase(study, current)
    else:
        encryption.remove_key_slot(study, slot_id)
        removed = slot_id
    click.echo(f"removed key slot {removed}")


@passphrase_group.command("reset")
@click.option(
    "--recovery-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The recovery key: the first line of FILE (default: asked on the terminal).",
)
@new_passphrase_file_option
@with_study_options
def reset_command(
    app_ctx: AppContext, recovery_key_file: Path | None, new_passphrase_file: Path | None
) -> None:
    """Set a new passphrase with the recovery key (when every passphrase is lost)."""
    recovery_key = read_recovery_key(recovery_key_file)
    passphrase = new_passphrase(new_passphrase_file)
    study, slot_id = encryption.reset_passphrase(
        app_ctx.root(), recovery_key, passphrase, actor=app_ctx.actor
    )
    study.close()
    click.echo(
        f"the study opens with the new passphrase (key slot {slot_id}). A forgotten passphrase "
        "still opens it for whoever knows it: remove its slot with `fieldkit passphrase remove "
        "--slot N` (see `fieldkit passphrase list`)"
    )


@passphrase_group.command("new-recovery-key")
@with_study_options
def new_recovery_key_command(app_ctx: AppContext) -> None:
    """Make a new recovery key (the old one stops working) and show it once."""
    study, _current = _unlock(app_ctx)
    show_recovery_key(encryption.new_recovery_key(study))
    click.echo("The previous recovery key no longer opens the study.")


def _unlock(app_ctx: AppContext) -> tuple[Study, str]:
    return encryption.unlock_for_change(
        app_ctx.root(), passphrase_source(app_ctx.passphrase_file), actor=app_ctx.actor
    )


def new_passphrase(new_passphrase_file: Path | None) -> str:
    """A new passphrase: from FILE, or asked twice on the terminal; checked for length."""
    if new_passphrase_file is not None:
        warn_if_others_can_read(new_passphrase_file)
        passphrase = passphrase_from_file(new_passphrase_file)
        encryption.check_new_passphrase(passphrase)
        return passphrase
    if not stdin_is_terminal():
        raise PassphraseUnavailableError(
            "no new passphrase was given (no terminal to ask on)",
            "give it with --new-passphrase-file FILE",
        )
    return prompt_passphrase("New passphrase", confirm=True, check=True)


def read_recovery_key(recovery_key_file: Path | None) -> str:
    """The recovery key from FILE, or asked on the terminal (again after a typing mistake)."""
    if recovery_key_file is not None:
        warn_if_others_can_read(recovery_key_file)
        text = passphrase_from_file(recovery_key_file)
        encryption.check_recovery_key(text)  # a typo is reported before anything else happens
        return text
    if not stdin_is_terminal():
        raise PassphraseUnavailableError(
            "no recovery key was given (no terminal to ask on)",
            "give it with --recovery-key-file FILE",
        )
    for attempt in range(RECOVERY_PROMPT_ATTEMPTS):
        text = prompt_passphrase("Recovery key")
        try:
            encryption.check_recovery_key(text)
        except InvalidRecoveryKeyError as error:
            if attempt == RECOVERY_PROMPT_ATTEMPTS - 1:
                raise
            problem = error.one_line()
            click.echo(problem[0].upper() + problem[1:], err=True)
            continue
        return text
    raise AssertionError("unreachable")


COMMANDS = [passphrase_group]
