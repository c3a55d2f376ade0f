"""Unsaved review edits kept in the study database (table review_drafts), one per interview.

Never a plain file: the draft holds what was said, so it lives where the transcript lives and
leaves with it (see migration m005).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from fieldkit.core.models import Segment
from fieldkit.store.segment_json import dump_segments, load_segments


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
                "segments": dump_segments(segments),
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
            segments=load_segments(row["segments"]),
            changes=[str(c) for c in json.loads(row["changes"])],
            saved_at=row["saved_at"],
            saved_by=row["saved_by"],
        )

    def delete(self, interview_id: int) -> None:
        self.table.delete_where("interview_id = ?", [interview_id])
