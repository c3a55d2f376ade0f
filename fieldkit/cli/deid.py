"""fieldkit identifiers add/list/remove, fieldkit deidentify."""

from __future__ import annotations

import sys

import click

from fieldkit.cli.common import echo_json, with_study
from fieldkit.core.deid import LIST_CATEGORIES
from fieldkit.core.guard import format_clock
from fieldkit.core.models import Speaker
from fieldkit.errors import FieldkitError
from fieldkit.services.deid import (
    DeidResult,
    DeidReview,
    accept_all,
    add_identifier,
    decide,
    finish,
    list_identifiers,
    remove_identifier,
    start_review,
)
from fieldkit.services.study import Study

CONTEXT_CHARS = 40  # characters shown either side of a suggestion


def _interactive() -> bool:
    """Whether someone is at a terminal to answer (tests replace this)."""
    return sys.stdin.isatty()


@click.group("identifiers")
def identifiers_group() -> None:
    """The study's list of names, places and organisations to de-identify."""


@identifiers_group.command("add")
@click.argument("text")
@click.option(
    "--category",
    required=True,
    metavar="|".join(c.value for c in LIST_CATEGORIES),
    help="What it names.",
)
@with_study
def identifiers_add(study: Study, text: str, category: str) -> None:
    """Add a name (a person, place, organisation …) to find in every transcript."""
    row = add_identifier(study, text, category)
    click.echo(f"added {row.text!r} ({row.category.value})")


@identifiers_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_study
def identifiers_list(study: Study, as_json: bool) -> None:
    """The identifier list, by category."""
    rows = list_identifiers(study)
    if as_json:
        echo_json(
            [{"text": r.text, "category": r.category.value, "added_by": r.added_by} for r in rows]
        )
        return
    if not rows:
        click.echo("no identifiers yet: fieldkit identifiers add TEXT --category person")
        return
    for row in rows:
        click.echo(f"{row.category.value:<13}{row.text}")


@identifiers_group.command("remove")
@click.argument("text")
@with_study
def identifiers_remove(study: Study, text: str) -> None:
    """Take a name off the list (transcripts already de-identified keep their placeholders)."""
    row = remove_identifier(study, text)
    click.echo(f"removed {row.text!r}")


@click.command("deidentify")
@click.argument("participant_id", metavar="PID")
@click.option("--wave", metavar="W", help="Interview wave (default: the latest).")
@click.option(
    "--accept-all", "accept_everything", is_flag=True, help="Accept every suggestion unasked."
)
@with_study
def deidentify_command(
    study: Study, participant_id: str, wave: str | None, accept_everything: bool
) -> None:
    """Replace identifiers in an approved transcript with placeholders ([PERSON 1] …).

    Asks about each suggestion (y/n) unless --accept-all. The result is a new revision; the key
    (placeholder → original) stays in the study and is never exported."""
    review = start_review(study, participant_id, wave)
    if review.pending and not accept_everything:
        if not _interactive():
            raise FieldkitError(
                f"{len(review.pending)} suggestion(s) need a yes or no, and there is no "
                "terminal to ask on",
                "run it in a terminal, review them in the app (identifiers screen), "
                "or pass --accept-all",
            )
        review = _ask_each(study, review)
    elif review.pending:
        review = accept_all(study, review)
    _report(finish(study, review), review)


def _ask_each(study: Study, review: DeidReview) -> DeidReview:
    total = len(review.items)
    for number, item in enumerate(review.pending, start=1):
        s = item.suggestion
        segment = review.segments[s.segment]
        context = _context(segment.speaker, segment.start, segment.text, s.start, s.end)
        click.echo(f"\n{number}/{total}  {context}")
        click.echo(f"  {s.original!r} → {s.placeholder}  ({s.category.value}, {_source(s.source)})")
        answer = click.prompt("  replace?", type=click.Choice(["y", "n"]), show_choices=True)
        review = decide(study, review, item.id, accept=answer == "y")
    return review


def _source(source: str) -> str:
    return "from the identifier list" if source == "list" else f"looks like {source}"


def _context(speaker: Speaker, at: float, text: str, start: int, end: int) -> str:
    before = text[max(0, start - CONTEXT_CHARS) : start]
    after = text[end : end + CONTEXT_CHARS]
    marked = click.style(text[start:end], bold=True, reverse=True)
    dots_before = "…" if start > CONTEXT_CHARS else ""
    dots_after = "…" if end + CONTEXT_CHARS < len(text) else ""
    who = speaker.value.capitalize()
    return f"[{format_clock(at)}] {who}: {dots_before}{before}{marked}{after}{dots_after}"


def _report(result: DeidResult, review: DeidReview) -> None:
    categories = ", ".join(f"{n} {c}" for c, n in sorted(result.by_category.items()))
    click.echo(
        f"{review.interview.participant_id} ({review.interview.wave}): revision "
        f"{result.revision.revision} (de-identified) from revision {review.source.revision}: "
        f"{result.replaced} replaced"
        + (f" ({categories})" if categories else "")
        + f", {result.rejected} kept as said"
    )


COMMANDS = [identifiers_group, deidentify_command]
