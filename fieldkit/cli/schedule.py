"""fieldkit schedule check."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fieldkit.core.schedule import check_schedule
from fieldkit.core.wording import counted


@click.group("schedule")
def schedule_group() -> None:
    """Interview schedules."""


@schedule_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def schedule_check(files: tuple[Path, ...]) -> None:
    """Validate and lint schedule FILES: one `FILE:LINE: message` per problem, exit 1 if any."""
    problems = [problem for path in files for problem in check_schedule(path)]
    for problem in problems:
        click.echo(str(problem))
    if problems:
        sys.exit(1)
    click.echo(f"{counted(len(files), 'schedule')} OK")


COMMANDS = [schedule_group]
