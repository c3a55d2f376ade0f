"""Decisions on de-identification suggestions kept in a file, so a reviewer can decide them in an
editor and a script can apply them (`fieldkit deidentify PID --save-decisions / --decisions`).

The file (see fieldkit.export.deid_decisions) lists every suggestion for one transcript. Applied
to the transcript, each entry must match one of today's suggestions (same segment, position,
text and class) and every suggestion must have an entry; otherwise the file says which ones
differ and nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fieldkit.core.guard import format_clock
from fieldkit.core.wording import counted
from fieldkit.errors import FieldkitError
from fieldkit.export.deid_decisions import (
    KEEP,
    REPLACE,
    UNDECIDED,
    DecisionEntry,
    DecisionsFile,
    read_decisions,
    write_decisions,
)
from fieldkit.services.deid import Decision, DeidReview
from fieldkit.store.deid_repo import SuggestionRow

CONTEXT_CHARS = 40  # characters of the turn either side of a suggestion, for the reader
LISTED_IN_ERRORS = 4  # differences named in one error line before "and N more"
_WORDS = {"accepted": REPLACE, "rejected": KEEP, "pending": UNDECIDED}

EntryKey = tuple[int, int, str, str]  # segment, start, text, class


def decisions_file(review: DeidReview) -> DecisionsFile:
    """Every suggestion with the decision taken so far (undecided ones say so)."""
    return DecisionsFile(
        participant=review.interview.participant_id,
        wave=review.interview.wave,
        revision=review.source.revision,
        entries=tuple(_entry(review, item) for item in review.items),
    )


def _entry(review: DeidReview, item: SuggestionRow) -> DecisionEntry:
    s = item.suggestion
    segment = review.segments[s.segment]
    text = segment.text
    before = text[max(0, s.start - CONTEXT_CHARS) : s.start]
    after = text[s.end : s.end + CONTEXT_CHARS]
    dots_before = "…" if s.start > CONTEXT_CHARS else ""
    dots_after = "…" if s.end + CONTEXT_CHARS < len(text) else ""
    return DecisionEntry(
        segment=s.segment,
        start=s.start,
        text=s.original,
        category=s.category.value,
        placeholder=s.placeholder,
        decision=_WORDS[item.decision],
        at=format_clock(segment.start),
        context=f"{dots_before}{before}«{s.original}»{after}{dots_after}",
    )


def save_decisions(review: DeidReview, path: Path) -> int:
    """Write the review's suggestions to `path` (never over an existing file); how many."""
    write_decisions(path, decisions_file(review))
    return len(review.items)


def load_decisions(review: DeidReview, path: Path) -> list[Decision]:
    """The decisions a file gives for this review's suggestions (its undecided entries give
    none). Refused, naming the differences, unless the file matches the suggestions exactly."""
    document = read_decisions(path)
    interview = review.interview
    if (document.participant, document.wave) != (interview.participant_id, interview.wave):
        raise FieldkitError(
            f"{path} holds decisions for {document.participant} ({document.wave}), not "
            f"{interview.participant_id} ({interview.wave})",
            "give the file made for this transcript; nothing changed",
        )
    if document.revision != review.source.revision:
        raise FieldkitError(
            f"{path} was made from revision {document.revision}, but the approved text of "
            f"{interview.participant_id} ({interview.wave}) is revision {review.source.revision}",
            f"save a new file with fieldkit deidentify {interview.participant_id} "
            "--save-decisions FILE; nothing changed",
        )
    entries = _one_per_suggestion(path, document.entries)
    _check_matches(review, path, entries)
    by_key = {_suggestion_key(item): item for item in review.items}
    return [
        Decision(by_key[key].id, entry.decision == REPLACE, entry.placeholder)
        for key, entry in entries.items()
        if entry.decision != UNDECIDED
    ]


def _entry_key(entry: DecisionEntry) -> EntryKey:
    return (entry.segment, entry.start, entry.text, entry.category)


def _suggestion_key(item: SuggestionRow) -> EntryKey:
    s = item.suggestion
    return (s.segment, s.start, s.original, s.category.value)


def _one_per_suggestion(
    path: Path, entries: Sequence[DecisionEntry]
) -> dict[EntryKey, DecisionEntry]:
    by_key: dict[EntryKey, DecisionEntry] = {}
    for entry in entries:
        key = _entry_key(entry)
        if key in by_key:
            raise FieldkitError(
                f"{path} lists {entry.describe()} twice",
                "keep one entry for it; nothing changed",
            )
        by_key[key] = entry
    return by_key


def _check_matches(review: DeidReview, path: Path, entries: dict[EntryKey, DecisionEntry]) -> None:
    suggestions = {_suggestion_key(item): item for item in review.items}
    gone = [entries[k].describe() for k in entries if k not in suggestions]
    new = [_describe(review, suggestions[k]) for k in suggestions if k not in entries]
    if not gone and not new:
        return
    parts = []
    if new:
        parts.append(f"{counted(len(new), 'suggestion')} not in the file: {_some(new)}")
    if gone:
        parts.append(
            f"{len(gone)} entr{'y' if len(gone) == 1 else 'ies'} no longer suggested: {_some(gone)}"
        )
    pid = review.interview.participant_id
    raise FieldkitError(
        f"{path} no longer matches the suggestions for {pid} ({review.interview.wave}): "
        + "; ".join(parts),
        "nothing changed; add the new ones to the file and take out the others "
        f"(fieldkit deidentify {pid} --save-decisions NEW_FILE lists today's suggestions)",
    )


def _describe(review: DeidReview, item: SuggestionRow) -> str:
    s = item.suggestion
    at = format_clock(review.segments[s.segment].start)
    return f"{s.original!r} ({s.category.value}, {at})"


def _some(names: Sequence[str]) -> str:
    shown = ", ".join(names[:LISTED_IN_ERRORS])
    more = len(names) - LISTED_IN_ERRORS
    return shown + (f" and {more} more" if more > 0 else "")
