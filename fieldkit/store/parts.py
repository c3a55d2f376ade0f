"""Transcript parts: the stretches of a recording a transcription job has finished so far."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from fieldkit.core.models import Segment, Speaker, Word


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
                "segments": json.dumps([_segment_json(s) for s in segments]),
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
            segments = tuple(_segment(s) for s in json.loads(row["segments"]))
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
        Word(start, end, word, probability, Speaker(speaker))
        for start, end, word, probability, speaker in data["words"]
    )
    return Segment(data["start"], data["end"], Speaker(data["speaker"]), data["text"], words)
