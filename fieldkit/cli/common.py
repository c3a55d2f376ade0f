"""What every command shares: finding the study, the --study/--as options, JSON output."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from fieldkit import private
from fieldkit.paths import study_dir_from

if TYPE_CHECKING:  # the services load when a command opens a study, not for --help
    from fieldkit.services.study import PassphraseSource, Study

F = TypeVar("F", bound=Callable[..., Any])

passphrase_file_option = click.option(
    "--passphrase-file",
    "passphrase_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="An encrypted study's passphrase: the first line of FILE (keep it owner-only). "
    "Default: $FIELDKIT_PASSPHRASE, else asked on the terminal.",
)


@dataclass
class AppContext:
    study_dir: Path | None = None
    actor: str | None = None
    passphrase_file: Path | None = None
    _study: Study | None = None

    def root(self) -> Path:
        return study_dir_from(self.study_dir)

    def study(self) -> Study:
        """The study, open; an encrypted one is unlocked with the passphrase from
        --passphrase-file, $FIELDKIT_PASSPHRASE or the terminal (asked only then)."""
        if self._study is None:
            from fieldkit.services.study import open_study

            root = study_dir_from(self.study_dir)
            remember_study_root(root)
            self._study = open_study(
                root, actor=self.actor, passphrase=passphrase_source(self.passphrase_file)
            )
            announce_tightened(self._study)
            announce_conversion(self._study)
            announce_recovery(self._study)
        return self._study

    def study_for_app(self) -> Study:
        """The study for the app: an encrypted one is unlocked here only when the passphrase was
        given in a file or the environment; otherwise it stays locked and the app asks for it."""
        from fieldkit.services.study import find_study, unlock_study

        root = study_dir_from(self.study_dir)
        remember_study_root(root)
        study = find_study(root, actor=self.actor)
        announce_conversion(study)
        if study.encrypted and passphrase_given(self.passphrase_file):
            unlock_study(study, passphrase_source(self.passphrase_file)())
        if not study.locked:
            study.db  # noqa: B018 - opens and migrates now, so a broken database fails early
            announce_recovery(study)
        return study


def passphrase_source(passphrase_file: Path | None) -> PassphraseSource:
    """Where a passphrase comes from, called only when a study turns out to be encrypted."""

    def ask() -> str:
        from fieldkit.crypto.passphrase import get_passphrase

        if passphrase_file is not None:
            warn_if_others_can_read(passphrase_file)
        return get_passphrase(passphrase_file=passphrase_file)

    return ask


def warn_if_others_can_read(secret_file: Path) -> None:
    """A note (not a refusal) when a file holding a passphrase or recovery key is not
    owner-only: other users of the computer could read it."""
    try:
        mode = secret_file.expanduser().stat().st_mode
    except OSError:
        return  # reading it will say what is wrong
    if mode & 0o077:
        click.echo(
            f"note: {secret_file} can be read by other users of this computer; "
            f"make it owner-only: chmod 600 {secret_file}",
            err=True,
        )


def passphrase_given(passphrase_file: Path | None) -> bool:
    """Whether a passphrase was given without a prompt (a file or the environment)."""
    from fieldkit.crypto.passphrase import passphrase_from_env

    return passphrase_file is not None or passphrase_from_env() is not None


_STUDY_ROOT = "fieldkit.study_root"


def remember_study_root(root: Path) -> None:
    """Note the study a command works on, so a disk or database error names its folder."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[_STUDY_ROOT] = root  # meta is shared by the whole command line's contexts


def study_root(ctx: click.Context) -> Path:
    """The study the command was working on (else the one it would have used)."""
    root = ctx.meta.get(_STUDY_ROOT)
    return root if isinstance(root, Path) else study_dir_from(None)


def announce_tightened(study: Study) -> None:
    """Opening a study makes fieldkit's own files in it owner-only; say so when it changed any."""
    if study.permissions_tightened:
        click.echo(f"note: {private.tightened_note(study.permissions_tightened)}", err=True)


def announce_conversion(study: Study) -> None:
    """An interrupted `fieldkit encrypt`/`decrypt` left work to finish: say what to run."""
    if study.conversion_note:
        click.echo(f"note: {study.conversion_note}", err=True)


def note_outside_study(study: Study, path: Path, folder: bool = False) -> None:
    """A file (or folder of files) written outside the study is private, but not the study's;
    inside an encrypted study it is still plain (exports and copies are plain by nature)."""
    note = private.outside_study_note(path, study.paths, folder=folder)
    if note is None and study.encrypted:
        what = "its files are" if folder else "it is"
        note = (
            f"{path} is in the encrypted study's folder, but {what} not encrypted: exports "
            "and participant copies are plain files by nature"
        )
    if note:
        click.echo(f"note: {note}", err=True)


def announce_recovery(study: Study) -> None:
    """Every start of fieldkit repairs and registers recordings a crash cut off, and says so."""
    from fieldkit.services.interviews import recordings_marked_running

    if not recordings_marked_running(study):
        return  # the usual case: no audio libraries need loading
    from fieldkit.services.recording import recover_interrupted

    for item in recover_interrupted(study):
        click.echo(
            f"note: recovered an interrupted recording of {item.participant_id} ({item.wave}): "
            f"{item.path}, {item.duration_s:.1f} s kept"
            + ("; queued for transcription" if item.queued else ""),
            err=True,
        )
        if item.problem:
            click.echo(f"warning: {item.problem}", err=True)


def with_study(command: F) -> F:
    """Give a command `study: Study`; it also accepts --study/--as after its own name."""
    return _study_options(command, open_it=True)


def with_study_options(command: F) -> F:
    """Like `with_study`, but give the command `app_ctx: AppContext` and leave opening the
    study to it (the passphrase commands open it in their own way)."""
    return _study_options(command, open_it=False)


def _study_options(command: F, open_it: bool) -> F:
    @click.option(
        "--study",
        "study_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Study folder (default: $FIELDKIT_STUDY, else the current folder).",
    )
    @click.option("--as", "actor", metavar="NAME", help="Who is acting, for the audit log.")
    @passphrase_file_option
    @click.pass_context
    @functools.wraps(command)
    def wrapper(
        ctx: click.Context,
        study_dir: Path | None,
        actor: str | None,
        passphrase_file: Path | None,
        **kwargs: Any,
    ) -> Any:
        app_ctx = study_context(ctx, study_dir, actor, passphrase_file)
        if open_it:
            return command(study=app_ctx.study(), **kwargs)
        remember_study_root(app_ctx.root())
        return command(app_ctx=app_ctx, **kwargs)

    return wrapper  # type: ignore[return-value]


def study_context(
    ctx: click.Context, study_dir: Path | None, actor: str | None, passphrase_file: Path | None
) -> AppContext:
    """The command's own --study/--as/--passphrase-file, else those given before its name."""
    parent: AppContext = ctx.find_object(AppContext) or AppContext()
    return AppContext(
        study_dir=study_dir or parent.study_dir,
        actor=actor or parent.actor,
        passphrase_file=passphrase_file or parent.passphrase_file,
    )


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def run_app(study: Study, input_file: Path | None = None) -> None:
    from fieldkit.tui.app import FieldkitApp  # Textual loads only when the app opens

    FieldkitApp(study, input_file=input_file).run()
