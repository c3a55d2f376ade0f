"""fieldkit report, fieldkit terms."""

from __future__ import annotations

import click

from fieldkit.cli.common import echo_json, with_study
from fieldkit.core.guard import format_clock
from fieldkit.core.report import count_noun, report_lines
from fieldkit.services.report import TermCount, study_report, term_counts
from fieldkit.services.study import Study


@click.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_study
def report_command(study: Study, as_json: bool) -> None:
    """The study so far: participants, interviews, durations, guarded terms, approval, and a
    methods paragraph (COREQ items) to start the write-up from."""
    report = study_report(study)
    if as_json:
        echo_json(report.to_json())
        return
    for line in report_lines(report):
        click.echo(line)


@click.command("terms")
@click.argument("words", nargs=-1, required=True, metavar="WORD...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_study
def terms_command(study: Study, words: tuple[str, ...], as_json: bool) -> None:
    """In how many transcripts the participant says each word or phrase, and where.

    Searches the latest revision of each transcript (full-text, so "journey" also finds
    "journeys"). Quote a phrase: fieldkit terms "peer work"."""
    counts = term_counts(study, words)
    if as_json:
        echo_json([c.to_json() for c in counts])
        return
    for count in counts:
        for line in term_lines(count):
            click.echo(line)


def term_lines(count: TermCount) -> list[str]:
    lines = [f"{count.term}: {count.transcripts} of {count_noun(count.of, 'transcript')}"]
    places: dict[tuple[str, str], list[str]] = {}
    for p in count.places:
        places.setdefault((p.participant, p.wave), []).append(format_clock(p.at))
    for (participant, wave), times in places.items():
        lines.append(f"  {participant} ({wave}) at {', '.join(times)}")
    return lines


COMMANDS = [report_command, terms_command]
