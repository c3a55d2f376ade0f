"""fieldkit identifiers add/list/remove, fieldkit deidentify."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fieldkit.cli.common import echo_json, note_outside_study, with_study
from fieldkit.core.deid import LIST_CATEGORIES
from fieldkit.core.guard import format_clock
from fieldkit.core.models import Speaker
from fieldkit.core.wording import counted
from fieldkit.errors import FieldkitError
from fieldkit.services.deid import (
    Decision,
    DeidResult,
    DeidReview,
    SuggestionRow,
    add_identifier,
    finish,
    list_identifiers,
    remove_identifier,
    start_review,
)
from fieldkit.services.deid_decisions import load_decisions, save_decisions
from fieldkit.services.study import Study

CONTEXT_CHARS = 40  # characters shown either side of a suggestion
ANSWERS = {"y": True, "yes": True, "n": False, "no": False}  # from standard input


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
    "--accept-all", "accept_everything", is_flag=True, help="Accept every undecided suggestion."
)
@click.option(
    "--decisions",
    "decisions_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Apply the decisions in FILE (made with --save-decisions).",
)
@click.option(
    "--save-decisions",
    "save_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the suggestions to FILE to decide in an editor, and stop.",
)
@with_study
def deidentify_command(
    study: Study,
    participant_id: str,
    wave: str | None,
    accept_everything: bool,
    decisions_path: Path | None,
    save_path: Path | None,
) -> None:
    """Replace identifiers in an approved transcript with placeholders ([PERSON 1] …).

    Asks about each suggestion (y/n) on the terminal; without a terminal, reads one y or n a
    line from standard input. --decisions FILE applies a saved list, --accept-all accepts the
    rest. Nothing is stored until every suggestion is decided. The result is a new revision; the
    key (placeholder → original) stays in the study and is never exported."""
    if save_path is not None and (accept_everything or decisions_path is not None):
        raise FieldkitError(
            "--save-decisions only writes the suggestions to a file",
            "use it on its own, edit the file, then apply it with --decisions FILE",
        )
    review = start_review(study, participant_id, wave)
    if save_path is not None:
        count = save_decisions(review, save_path)
        click.echo(
            f"wrote {counted(count, 'suggestion')} for {_name(review)} to {save_path}: set each "
            f'"decision" to replace or keep, then run fieldkit deidentify {participant_id}'
            f" --decisions {save_path}"
        )
        note_outside_study(study, save_path)
        return
    decisions = load_decisions(review, decisions_path) if decisions_path is not None else []
    decided = {d.suggestion_id for d in decisions}
    undecided = [item for item in review.pending if item.id not in decided]
    if undecided and accept_everything:
        decisions += [Decision(item.id, accept=True) for item in undecided]
    elif undecided and _interactive():
        decisions += _ask_each(review, undecided)
    elif undecided:
        decisions += _read_answers(review, undecided)
    _report(finish(study, review, decisions), review)


def _name(review: DeidReview) -> str:
    return f"{review.interview.participant_id} ({review.interview.wave})"


def _ask_each(review: DeidReview, items: list[SuggestionRow]) -> list[Decision]:
    """Ask on the terminal; the answers are stored together once the last one is given."""
    decisions = []
    for number, item in enumerate(items, start=1):
        s = item.suggestion
        segment = review.segments[s.segment]
        context = _context(segment.speaker, segment.start, segment.text, s.start, s.end)
        click.echo(f"\n{number}/{len(items)}  {context}")
        click.echo(f"  {s.original!r} → {s.placeholder}  ({s.category.value}, {_source(s.source)})")
        answer = click.prompt("  replace?", type=click.Choice(["y", "n"]), show_choices=True)
        decisions.append(Decision(item.id, accept=answer == "y"))
    return decisions


def _read_answers(review: DeidReview, items: list[SuggestionRow]) -> list[Decision]:
    """One y or n a line from standard input, for the undecided suggestions in transcript order.
    Too few, too many or anything else: one error line, and nothing is stored."""
    lines = sys.stdin.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()  # a blank line at the end is not an answer
    how = (
        "one y or n a line, for each undecided suggestion in transcript order "
        f"(fieldkit deidentify {review.interview.participant_id} --save-decisions FILE lists "
        "them); nothing was stored"
    )
    if not lines:
        raise FieldkitError(
            f"{counted(len(items), 'suggestion')} for {_name(review)} "
            f"{'needs' if len(items) == 1 else 'need'} a yes or no, and there is "
            "no terminal to ask on and no answer on standard input",
            "pipe in one y or n a line, pass --decisions FILE or --accept-all, or review them "
            "in the app (D); nothing was stored",
        )
    decisions = []
    for number, (item, line) in enumerate(zip(items, lines, strict=False), start=1):
        answer = line.strip().lower()
        if answer not in ANSWERS:
            raise FieldkitError(f"answer {number} on standard input is {line!r}, not y or n", how)
        decisions.append(Decision(item.id, accept=ANSWERS[answer]))
    if len(lines) != len(items):
        raise FieldkitError(
            f"{counted(len(items), 'suggestion')} for {_name(review)} "
            f"{'needs' if len(items) == 1 else 'need'} an answer, and standard input "
            f"gave {len(lines)}",
            how,
        )
    return decisions


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
