"""Unsaved review edits kept in the study database (table review_drafts), one per interview.

Never a plain file: the draft holds what was said, so it lives where the transcript lives and
leaves with it (see migration m005).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from fieldkit.core.models import Segment, Speaker, Word


@dataclass(frozen=True)
class DraftRow:
    interview_id: int
    base_revision: int
    segments: list[Segment]
    changes: list[str]
    saved_at: str
    saved_by: str | None


class ReviewDrafts:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.table = db.table("review_drafts")

    def put(
        self,
        interview_id: int,
        base_revision: int,
        segments: list[Segment],
        changes: list[str],
        saved_at: str,
        saved_by: str | None,
    ) -> None:
        self.table.upsert(
            {
                "interview_id": interview_id,
                "base_revision": base_revision,
                "segments": json.dumps([_segment_json(s) for s in segments]),
                "changes": json.dumps(changes),
                "saved_at": saved_at,
                "saved_by": saved_by,
            },
            pk="interview_id",
        )

    def get(self, interview_id: int) -> DraftRow | None:
        rows = list(self.table.rows_where("interview_id = ?", [interview_id]))
        if not rows:
            return None
        row = rows[0]
        return DraftRow(
            interview_id=row["interview_id"],
            base_revision=row["base_revision"],
            segments=[_segment(s) for s in json.loads(row["segments"])],
            changes=[str(c) for c in json.loads(row["changes"])],
            saved_at=row["saved_at"],
            saved_by=row["saved_by"],
        )

    def delete(self, interview_id: int) -> None:
        self.table.delete_where("interview_id = ?", [interview_id])


def _segment_json(segment: Segment) -> dict[str, Any]:
    return {
        "start": segment.start,
        "end": segment.end,
        "speaker": segment.speaker.value,
        "text": segment.text,
        "words": [[w.start, w.end, w.word, w.probability, w.speaker.value] for w in segment.words],
    }


def _segment(data: dict[str, Any]) -> Segment:
    words = tuple(
        Word(float(start), float(end), str(word), float(probability), Speaker(speaker))
        for start, end, word, probability, speaker in data["words"]
    )
    return Segment(
        float(data["start"]), float(data["end"]), Speaker(data["speaker"]), data["text"], words
    )
