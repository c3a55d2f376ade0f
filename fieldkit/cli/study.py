"""fieldkit init, fieldkit demo."""

from __future__ import annotations

from pathlib import Path

import click

from fieldkit.cli.common import announce_tightened, remember_study_root, run_app
from fieldkit.services.demo import build_demo_study, demo_interview_audio
from fieldkit.services.study import init_study


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=True, path_type=Path))
@click.option("--title", help="The study's title (default: the folder's name).")
@click.option("--as", "actor", metavar="NAME", help="Who is acting, for the audit log.")
def init_command(directory: Path, title: str | None, actor: str | None) -> None:
    """Create a study in DIRECTORY: study.toml, database, audio/ and the shipped schedule."""
    remember_study_root(directory)
    study = init_study(directory, title=title, actor=actor)
    study.close()
    announce_tightened(study)  # a folder that was there already is made owner-only
    click.echo(f"created study {study.config.title!r} in {study.root}")
    click.echo(f"next: fieldkit --study {study.root} participant add --site 'Site 1' --role PEER")


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
def demo_command(directory: Path | None, no_app: bool, empty: bool) -> None:
    """Make a throw-away demo study and open the app on it.

    Five participants wait to be interviewed; five more have transcripts at each point of review
    and approval. In the app, recording plays the bundled demo interview through the virtual
    microphone, so everything works on a machine with no microphone.
    """
    study = build_demo_study(directory, transcripts=not empty)
    click.echo(f"demo study: {study.root}")
    if not no_app:
        run_app(study, input_file=demo_interview_audio())


COMMANDS = [init_command, demo_command]
