"""The de-identification decisions file: every suggestion for one transcript and what to do with
it, as JSON a reviewer can read, edit and hand back (`fieldkit deidentify PID --decisions FILE`).

    {
      "fieldkit": "de-identification decisions",
      "version": 1,
      "participant": "INTSTA001-PEER",
      "wave": "commencement",
      "revision": 0,
      "suggestions": [
        {
          "at": "00:06",
          "segment": 1,
          "start": 13,
          "text": "Riverton Community Health",
          "class": "organisation",
          "placeholder": "[ORGANISATION 1]",
          "decision": "keep",
          "context": "I started at «Riverton Community Health» in March. Diane's my…"
        }
      ]
    }

`segment` (counted from 0) and `start` (characters into that segment's text) with `text` and
`class` say which suggestion an entry is about; `decision` is "replace", "keep" or "undecided";
a changed `placeholder` on a "replace" is the reviewer's own placeholder. `at` and `context` are
there for the reader and are not read back.

This module only reads and writes the file; matching it to a transcript's suggestions is the
de-identification service's job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldkit.errors import FieldkitError
from fieldkit.private import open_private

FORMAT_NAME = "de-identification decisions"
FORMAT_VERSION = 1
REPLACE, KEEP, UNDECIDED = "replace", "keep", "undecided"
DECISION_WORDS = (REPLACE, KEEP, UNDECIDED)
_ENTRY_FIELDS: dict[str, type] = {
    "segment": int,
    "start": int,
    "text": str,
    "class": str,
    "placeholder": str,
    "decision": str,
}


@dataclass(frozen=True)
class DecisionEntry:
    segment: int
    start: int
    text: str
    category: str
    placeholder: str
    decision: str  # replace | keep | undecided
    at: str = ""
    context: str = ""

    def describe(self) -> str:
        """How an error names the entry: 'Diane' (person, 00:20)."""
        where = f", {self.at}" if self.at else f", segment {self.segment}"
        return f"{self.text!r} ({self.category}{where})"


@dataclass(frozen=True)
class DecisionsFile:
    participant: str
    wave: str
    revision: int
    entries: tuple[DecisionEntry, ...]


def write_decisions(path: Path, decisions: DecisionsFile) -> None:
    """Write the file; an existing file is never overwritten (it may hold a reviewer's work)."""
    if path.exists():
        raise FieldkitError(
            f"{path} already exists", "choose another file name, or move the old file first"
        )
    document = {
        "fieldkit": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "participant": decisions.participant,
        "wave": decisions.wave,
        "revision": decisions.revision,
        "suggestions": [_entry_json(e) for e in decisions.entries],
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    with open_private(path, "x", encoding="utf-8") as out:
        out.write(text)


def _entry_json(entry: DecisionEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "segment": entry.segment,
        "start": entry.start,
        "text": entry.text,
        "class": entry.category,
        "placeholder": entry.placeholder,
        "decision": entry.decision,
        "context": entry.context,
    }


def read_decisions(path: Path) -> DecisionsFile:
    """Read and check a decisions file; a file that is not one gets one clear error."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FieldkitError(f"no decisions file {path}", "check the path") from None
    except UnicodeDecodeError:
        raise _not_a_decisions_file(path, "it is not UTF-8 text") from None
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        problem = f"line {error.lineno}, column {error.colno}: {error.msg}"
        raise _not_a_decisions_file(path, problem) from None
    if not isinstance(document, dict) or document.get("fieldkit") != FORMAT_NAME:
        raise _not_a_decisions_file(path, f'it has no "fieldkit": "{FORMAT_NAME}" line')
    if document.get("version") != FORMAT_VERSION:
        raise _not_a_decisions_file(path, f"version {document.get('version')!r} is unknown")
    participant, wave, revision = (document.get(k) for k in ("participant", "wave", "revision"))
    if not isinstance(participant, str) or not isinstance(wave, str):
        raise _not_a_decisions_file(path, "it names no participant or wave")
    if not isinstance(revision, int) or isinstance(revision, bool):
        raise _not_a_decisions_file(path, "its revision is not a number")
    suggestions = document.get("suggestions")
    if not isinstance(suggestions, list):
        raise _not_a_decisions_file(path, 'it has no "suggestions" list')
    entries = tuple(_entry(path, number, item) for number, item in enumerate(suggestions, 1))
    return DecisionsFile(participant, wave, revision, entries)


def _entry(path: Path, number: int, item: Any) -> DecisionEntry:
    if not isinstance(item, dict):
        raise _not_a_decisions_file(path, f"suggestion {number} is not an object")
    for name, kind in _ENTRY_FIELDS.items():
        value = item.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            wanted = "a number" if kind is int else "text"
            raise _not_a_decisions_file(path, f'suggestion {number} needs "{name}" as {wanted}')
    decision = item["decision"].strip().lower()
    if decision not in DECISION_WORDS:
        raise FieldkitError(
            f"suggestion {number} in {path} has decision {item['decision']!r}",
            f"write one of {', '.join(DECISION_WORDS)}; nothing changed",
        )
    at, context = item.get("at"), item.get("context")
    return DecisionEntry(
        segment=item["segment"],
        start=item["start"],
        text=item["text"],
        category=item["class"],
        placeholder=item["placeholder"].strip(),
        decision=decision,
        at=at if isinstance(at, str) else "",
        context=context if isinstance(context, str) else "",
    )


def _not_a_decisions_file(path: Path, problem: str) -> FieldkitError:
    return FieldkitError(
        f"{path} is not a de-identification decisions file ({problem})",
        "make one with fieldkit deidentify PID --save-decisions FILE; nothing changed",
    )
