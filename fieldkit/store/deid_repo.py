"""Repositories for de-identification, exports and full-text search (issue 6)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from fieldkit.core.deid import Category, Identifier, Suggestion


@dataclass(frozen=True)
class IdentifierRow:
    id: int
    text: str
    category: Category
    added_by: str | None
    added_at: str

    @property
    def identifier(self) -> Identifier:
        return Identifier(self.text, self.category)


class Identifiers:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.table = db.table("identifiers")

    def all(self) -> list[IdentifierRow]:
        rows = self.table.rows_where(order_by="category, text COLLATE NOCASE")
        return [_identifier(r) for r in rows]

    def find(self, text: str) -> IdentifierRow | None:
        rows = list(self.table.rows_where("text = ? COLLATE NOCASE", [text]))
        return _identifier(rows[0]) if rows else None

    def add(self, text: str, category: Category, added_by: str, added_at: str) -> int:
        row = {"text": text, "category": category.value, "added_by": added_by, "added_at": added_at}
        return int(self.table.insert(row).last_pk)

    def delete(self, identifier_id: int) -> None:
        self.table.delete(identifier_id)


def _identifier(row: dict[str, Any]) -> IdentifierRow:
    return IdentifierRow(
        id=row["id"],
        text=row["text"],
        category=Category(row["category"]),
        added_by=row["added_by"],
        added_at=row["added_at"],
    )


@dataclass(frozen=True)
class KeyEntry:
    """One line of a transcript's key: placeholder → the original it stands for."""

    placeholder: str
    category: Category
    entity: str
    forms: tuple[str, ...]


class DeidKeys:
    """The key (placeholder → original) of each interview. Read by de-identification only:
    nothing that writes an export may use this class."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.table = db.table("deid_keys")

    def for_interview(self, interview_id: int) -> list[KeyEntry]:
        rows = self.table.rows_where("interview_id = ?", [interview_id], order_by="placeholder")
        return [
            KeyEntry(
                placeholder=r["placeholder"],
                category=Category(r["category"]),
                entity=r["entity"],
                forms=tuple(json.loads(r["forms"] or "[]")),
            )
            for r in rows
        ]

    def entity_map(self, interview_id: int) -> dict[str, str]:
        """entity key → placeholder: what keeps placeholders stable across runs."""
        return {k.entity: k.placeholder for k in self.for_interview(interview_id)}

    def merge(self, interview_id: int, entries: Sequence[KeyEntry], created_at: str) -> None:
        """Add new placeholders and new forms of known ones (call inside a transaction)."""
        known = {k.placeholder: k for k in self.for_interview(interview_id)}
        for entry in entries:
            old = known.get(entry.placeholder)
            forms = list(old.forms) if old else []
            forms += [f for f in entry.forms if f not in forms]
            if old is None:
                self.table.insert(
                    {
                        "interview_id": interview_id,
                        "placeholder": entry.placeholder,
                        "category": entry.category.value,
                        "entity": entry.entity,
                        "forms": json.dumps(forms, ensure_ascii=False),
                        "created_at": created_at,
                    }
                )
            else:
                self._update_forms(interview_id, entry.placeholder, forms)

    def _update_forms(self, interview_id: int, placeholder: str, forms: list[str]) -> None:
        self.table.db.execute(
            "update deid_keys set forms = ? where interview_id = ? and placeholder = ?",
            [json.dumps(forms, ensure_ascii=False), interview_id, placeholder],
        )


@dataclass(frozen=True)
class SuggestionRow:
    id: int
    interview_id: int
    transcript_id: int
    decision: str  # pending | accepted | rejected
    suggestion: Suggestion
    decided_by: str | None = None
    decided_at: str | None = None


class Suggestions:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.table = db.table("deid_suggestions")

    def for_transcript(self, transcript_id: int) -> list[SuggestionRow]:
        rows = self.table.rows_where(
            "transcript_id = ?", [transcript_id], order_by="segment_idx, start"
        )
        return [_suggestion(r) for r in rows]

    def get(self, suggestion_id: int) -> SuggestionRow:
        return _suggestion(self.table.get(suggestion_id))

    def replace_pending(
        self, interview_id: int, transcript_id: int, suggestions: Sequence[Suggestion]
    ) -> None:
        """Store a fresh set of suggestions for a revision. Decisions already taken on the same
        span and entity are kept; undecided or vanished ones are replaced (in a transaction)."""
        decided = {
            (r.suggestion.span, r.suggestion.entity): r
            for r in self.for_transcript(transcript_id)
            if r.decision != "pending"
        }
        self.db.execute("delete from deid_suggestions where transcript_id = ?", [transcript_id])
        for s in suggestions:
            old = decided.get((s.span, s.entity))
            self.table.insert(
                {
                    "interview_id": interview_id,
                    "transcript_id": transcript_id,
                    "segment_idx": s.segment,
                    "start": s.start,
                    "end": s.end,
                    "original": s.original,
                    "entity": s.entity,
                    "category": s.category.value,
                    "placeholder": s.placeholder,
                    "source": s.source,
                    "decision": old.decision if old else "pending",
                    "decided_by": old.decided_by if old else None,
                    "decided_at": old.decided_at if old else None,
                }
            )

    def decide(
        self,
        suggestion_id: int,
        decision: str,
        decided_by: str,
        decided_at: str,
        placeholder: str | None = None,
    ) -> None:
        """Record a decision; `placeholder` replaces the suggested one (a reviewer's own)."""
        values = {"decision": decision, "decided_by": decided_by, "decided_at": decided_at}
        if placeholder is not None:
            values["placeholder"] = placeholder
        self.table.update(suggestion_id, values)


def _suggestion(row: dict[str, Any]) -> SuggestionRow:
    return SuggestionRow(
        id=row["id"],
        interview_id=row["interview_id"],
        transcript_id=row["transcript_id"],
        decision=row["decision"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        suggestion=Suggestion(
            segment=row["segment_idx"],
            start=row["start"],
            end=row["end"],
            original=row["original"],
            entity=row["entity"],
            category=Category(row["category"]),
            placeholder=row["placeholder"],
            source=row["source"],
        ),
    )


class Exports:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.table = db.table("exports")

    def add(
        self,
        at: str,
        actor: str,
        format: str,
        out_dir: str,
        identified: bool,
        transcripts: list[dict[str, Any]],
        files: list[str],
    ) -> int:
        row = {
            "at": at,
            "actor": actor,
            "format": format,
            "out_dir": out_dir,
            "identified": int(identified),
            "transcripts": json.dumps(transcripts),
            "files": json.dumps(files),
        }
        return int(self.table.insert(row).last_pk)

    def all(self) -> list[dict[str, Any]]:
        return list(self.table.rows_where(order_by="id"))


@dataclass(frozen=True)
class TermHit:
    interview_id: int
    segment_id: int
    at: float


class TranscriptSearch:
    """Full-text search (FTS5) over the latest revision of each transcript."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def participant_hits(self, phrase: str) -> list[TermHit]:
        """Participant segments of each interview's latest revision that contain `phrase`."""
        sql = (
            "select t.interview_id, s.id as segment_id, s.start from segments_fts f "
            "join segments s on s.id = f.rowid "
            "join transcripts t on t.id = s.transcript_id "
            "where segments_fts match ? and s.speaker = 'participant' "
            "and t.revision = (select max(revision) from transcripts t2 "
            "where t2.interview_id = t.interview_id) "
            "order by t.interview_id, s.start"
        )
        rows = self.db.execute(sql, [fts_phrase(phrase)]).fetchall()
        return [TermHit(interview_id=r[0], segment_id=r[1], at=r[2]) for r in rows]

    def transcribed_interviews(self) -> list[int]:
        rows = self.db.execute("select distinct interview_id from transcripts order by 1")
        return [r[0] for r in rows.fetchall()]


def fts_phrase(text: str) -> str:
    """A user's word or phrase as an FTS5 phrase query (quotes doubled: no query syntax)."""
    return '"' + " ".join(text.split()).replace('"', '""') + '"'
