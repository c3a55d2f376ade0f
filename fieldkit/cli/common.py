"""What every command shares: finding the study, the --study/--as options, JSON output."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from fieldkit import private
from fieldkit.paths import study_dir_from
from fieldkit.services.study import Study, open_study

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppContext:
    study_dir: Path | None = None
    actor: str | None = None
    _study: Study | None = None

    def study(self, announce_permissions: bool = True) -> Study:
        """The study, opened once. `announce_permissions=False`: the app says it instead."""
        if self._study is None:
            root = study_dir_from(self.study_dir)
            remember_study_root(root)
            self._study = open_study(root, actor=self.actor)
            if announce_permissions:
                announce_tightened(self._study)
            announce_recovery(self._study)
        return self._study


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


def note_outside_study(study: Study, path: Path, folder: bool = False) -> None:
    """A file (or folder of files) written outside the study is private, but not the study's."""
    note = private.outside_study_note(path, study.paths, folder=folder)
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
            f"{item.path}, {item.duration_s:.1f} s kept",
            err=True,
        )


def with_study(command: F) -> F:
    """Give a command `study: Study`; it also accepts --study/--as after its own name."""

    @click.option(
        "--study",
        "study_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Study folder (default: $FIELDKIT_STUDY, else the current folder).",
    )
    @click.option("--as", "actor", metavar="NAME", help="Who is acting, for the audit log.")
    @click.pass_context
    @functools.wraps(command)
    def wrapper(
        ctx: click.Context, study_dir: Path | None, actor: str | None, **kwargs: Any
    ) -> Any:
        parent: AppContext = ctx.find_object(AppContext) or AppContext()
        app_ctx = AppContext(study_dir=study_dir or parent.study_dir, actor=actor or parent.actor)
        return command(study=app_ctx.study(), **kwargs)

    return wrapper  # type: ignore[return-value]


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def run_app(study: Study, input_file: Path | None = None) -> None:
    from fieldkit.tui.app import FieldkitApp  # Textual loads only when the app opens

    FieldkitApp(study, input_file=input_file).run()
