"""Transcript parts: the stretches of a recording a transcription job has finished so far."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from fieldkit.core.models import Segment
from fieldkit.store.segment_json import dump_segments, load_segments


@dataclass(frozen=True)
class TranscriptPart:
    recording_id: int
    start_s: float  # in seconds of the recording
    end_s: float
    segments: tuple[Segment, ...]  # in recording time


class TranscriptParts:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.table = db.table("transcript_parts")

    def add(
        self,
        recording_id: int,
        start_s: float,
        end_s: float,
        settings: str,
        segments: Sequence[Segment],
        created_at: str,
    ) -> None:
        """Store one finished stretch (call inside a transaction)."""
        self.table.insert(
            {
                "recording_id": recording_id,
                "start_s": start_s,
                "end_s": end_s,
                "settings": settings,
                "segments": dump_segments(segments),
                "created_at": created_at,
            }
        )

    def for_recording(self, recording_id: int, settings: str) -> list[TranscriptPart]:
        """The recording's parts decoded with `settings`, in order, as far as they run on from
        its start without a gap (a part after a gap could not be resumed from)."""
        rows = self.table.rows_where(
            "recording_id = ? and settings = ?", [recording_id, settings], order_by="start_s"
        )
        parts: list[TranscriptPart] = []
        for row in rows:
            if abs(row["start_s"] - (parts[-1].end_s if parts else 0.0)) > 1e-6:
                break
            segments = tuple(load_segments(row["segments"]))
            parts.append(TranscriptPart(recording_id, row["start_s"], row["end_s"], segments))
        return parts

    def delete_other_settings(self, recording_id: int, settings: str) -> int:
        """Parts decoded otherwise (another model, options or release) are not reused."""
        return self.db.execute(
            "delete from transcript_parts where recording_id = ? and settings != ?",
            [recording_id, settings],
        ).rowcount

    def delete_for(self, recording_ids: Sequence[int]) -> int:
        marks = ", ".join("?" for _ in recording_ids) or "null"
        return self.db.execute(
            f"delete from transcript_parts where recording_id in ({marks})", list(recording_ids)
        ).rowcount

    def count(self, recording_id: int) -> int:
        return self.table.count_where("recording_id = ?", [recording_id])
