"""Repositories: the rows fieldkit reads and writes, as domain objects."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils
from sqlite_utils.db import NotFoundError

from fieldkit.core.models import (
    ConsentStatus,
    InterviewStatus,
    Participant,
    Segment,
    Speaker,
    Word,
)


def _participant(row: dict[str, Any]) -> Participant:
    return Participant(
        id=row["id"],
        site=row["site"],
        role=row["role"],
        number=row["number"],
        status=ConsentStatus(row["status"]),
        consent_date=row["consent_date"],
        consent_form_version=row["consent_form_version"],
        withdrawn_date=row["withdrawn_at"],
        added_at=row["added_at"],
    )


class Participants:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.table = db.table("participants")

    def all(self) -> list[Participant]:
        return [_participant(row) for row in self.table.rows]

    def numbers(self) -> list[int]:
        return [row["number"] for row in self.table.rows_where(select="number")]

    def get(self, participant_id: str) -> Participant | None:
        try:
            return _participant(self.table.get(participant_id))
        except NotFoundError:
            return None

    def insert(self, participant: Participant) -> None:
        self.table.insert(
            {
                "id": participant.id,
                "number": participant.number,
                "site": participant.site,
                "role": participant.role,
                "status": participant.status.value,
                "added_at": participant.added_at,
            }
        )

    def update(self, participant_id: str, **values: Any) -> None:
        self.table.update(participant_id, values)


@dataclass(frozen=True)
class InterviewRow:
    id: int
    participant_id: str
    wave: str
    status: InterviewStatus
    schedule_id: str | None
    schedule_path: str | None
    interviewer: str | None
    started_at: str | None
    ended_at: str | None
    duration_s: float | None
    channel_map: tuple[str, ...]


def _interview(row: dict[str, Any]) -> InterviewRow:
    return InterviewRow(
        id=row["id"],
        participant_id=row["participant_id"],
        wave=row["wave"],
        status=InterviewStatus(row["status"]),
        schedule_id=row["schedule_id"],
        schedule_path=row["schedule_path"],
        interviewer=row["interviewer"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_s=row["duration_s"],
        channel_map=tuple(json.loads(row["channel_map"] or "[]")),
    )


class Interviews:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.table = db.table("interviews")

    def all(self) -> list[InterviewRow]:
        return [_interview(r) for r in self.table.rows_where(order_by="started_at, id")]

    def get(self, interview_id: int) -> InterviewRow:
        return _interview(self.table.get(interview_id))

    def find(self, participant_id: str, wave: str) -> InterviewRow | None:
        rows = list(
            self.table.rows_where("participant_id = ? and wave = ?", [participant_id, wave])
        )
        return _interview(rows[0]) if rows else None

    def for_participant(self, participant_id: str) -> list[InterviewRow]:
        rows = self.table.rows_where("participant_id = ?", [participant_id], order_by="id")
        return [_interview(r) for r in rows]

    def insert(self, **values: Any) -> int:
        if "channel_map" in values:
            values["channel_map"] = json.dumps(list(values["channel_map"]))
        return int(self.table.insert(values).last_pk)

    def update(self, interview_id: int, **values: Any) -> None:
        if "status" in values:
            values["status"] = InterviewStatus(values["status"]).value
        self.table.update(interview_id, values)


@dataclass(frozen=True)
class EventRow:
    id: int
    interview_id: int
    at: float
    kind: str
    topic_id: str | None
    question_id: str | None
    term: str | None
    guard_kind: str | None
    speaker: str | None
    source: str | None
    text: str | None


class Events:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.table = db.table("interview_events")

    def add(self, interview_id: int, at: float, kind: str, created_at: str, **values: Any) -> int:
        row = {"interview_id": interview_id, "at": at, "kind": kind, "created_at": created_at}
        return int(self.table.insert({**row, **values}).last_pk)

    def for_interview(self, interview_id: int, kind: str | None = None) -> list[EventRow]:
        where, args = "interview_id = ?", [interview_id]
        if kind:
            where, args = where + " and kind = ?", [interview_id, kind]
        rows = self.table.rows_where(where, args, order_by="at, id")
        return [EventRow(**{k: v for k, v in r.items() if k != "created_at"}) for r in rows]


@dataclass(frozen=True)
class RecordingRow:
    id: int
    interview_id: int
    path: str
    samplerate: int
    channels: int
    channel_map: tuple[str, ...]
    source: str
    device: str | None
    offset_s: float
    duration_s: float | None
    status: str
    stop_reason: str | None
    pid: int | None
    started_at: str | None
    ended_at: str | None
    recorder: str | None = None  # "app" | "fieldkit record" (schema 5 on)


def _recording(row: dict[str, Any]) -> RecordingRow:
    values = dict(row)
    values["channel_map"] = tuple(json.loads(row["channel_map"] or "[]"))
    values["offset_s"] = row["offset_s"] or 0.0
    return RecordingRow(**values)


class Recordings:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.table = db.table("recordings")

    def insert(self, **values: Any) -> int:
        values["channel_map"] = json.dumps(list(values.get("channel_map", ())))
        return int(self.table.insert(values).last_pk)

    def update(self, recording_id: int, **values: Any) -> None:
        self.table.update(recording_id, values)

    def get(self, recording_id: int) -> RecordingRow:
        return _recording(self.table.get(recording_id))

    def for_interview(self, interview_id: int) -> list[RecordingRow]:
        rows = self.table.rows_where("interview_id = ?", [interview_id], order_by="offset_s, id")
        return [_recording(r) for r in rows]

    def with_status(self, status: str) -> list[RecordingRow]:
        return [_recording(r) for r in self.table.rows_where("status = ?", [status])]

    def marked_recording_for_participant(self, participant_id: str) -> list[RecordingRow]:
        """Rows still marked "recording" in any of the participant's interviews."""
        rows = self.table.rows_where(
            "status = 'recording' and interview_id in "
            "(select id from interviews where participant_id = ?)",
            [participant_id],
            order_by="id",
        )
        return [_recording(r) for r in rows]

    def paths(self) -> set[str]:
        return {r["path"] for r in self.table.rows_where(select="path")}


class AuditLog:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.table = db.table("audit_log")

    def append(
        self,
        at: str,
        actor: str,
        action: str,
        participant_id: str | None = None,
        interview_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.table.insert(
            {
                "at": at,
                "actor": actor,
                "action": action,
                "participant_id": participant_id,
                "interview_id": interview_id,
                "detail": json.dumps(detail or {}, sort_keys=True),
            }
        )

    def entries(self) -> list[dict[str, Any]]:
        return list(self.table.rows_where(order_by="id"))


@dataclass(frozen=True)
class TranscriptRow:
    id: int
    interview_id: int
    revision: int
    kind: str
    created_at: str
    created_by: str | None
    model: str | None
    duration_s: float | None
    channels: int | None
    speakers_known: bool


class Transcripts:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def _row(self, row: dict[str, Any]) -> TranscriptRow:
        values = dict(row)
        values["speakers_known"] = bool(row["speakers_known"])
        return TranscriptRow(**values)

    def add(
        self,
        interview_id: int,
        revision: int,
        kind: str,
        segments: Sequence[Segment],
        created_at: str,
        **values: Any,
    ) -> int:
        """Store one revision with its segments and words (call inside a transaction)."""
        transcript_id = int(
            self.db["transcripts"]
            .insert(
                {
                    "interview_id": interview_id,
                    "revision": revision,
                    "kind": kind,
                    "created_at": created_at,
                    **values,
                }
            )
            .last_pk
        )
        for idx, segment in enumerate(segments):
            segment_id = int(
                self.db["segments"]
                .insert(
                    {
                        "transcript_id": transcript_id,
                        "idx": idx,
                        "start": segment.start,
                        "end": segment.end,
                        "speaker": segment.speaker.value,
                        "text": segment.text,
                    }
                )
                .last_pk
            )
            self.db["words"].insert_all(
                {
                    "segment_id": segment_id,
                    "idx": n,
                    "start": w.start,
                    "end": w.end,
                    "word": w.word,
                    "probability": w.probability,
                }
                for n, w in enumerate(segment.words)
            )
        return transcript_id

    def for_interview(self, interview_id: int) -> list[TranscriptRow]:
        rows = self.db["transcripts"].rows_where(
            "interview_id = ?", [interview_id], order_by="revision"
        )
        return [self._row(r) for r in rows]

    def revision(self, interview_id: int, revision: int | None = None) -> TranscriptRow | None:
        """A given revision, or the latest one."""
        rows = self.for_interview(interview_id)
        if revision is None:
            return rows[-1] if rows else None
        return next((r for r in rows if r.revision == revision), None)

    def segments(self, transcript_id: int) -> list[Segment]:
        words_by_segment: dict[int, list[Word]] = {}
        word_rows = self.db.query(
            "select w.* from words w join segments s on s.id = w.segment_id "
            "where s.transcript_id = ? order by w.segment_id, w.idx",
            [transcript_id],
        )
        for w in word_rows:
            words_by_segment.setdefault(w["segment_id"], []).append(
                Word(w["start"], w["end"], w["word"], w["probability"] or 0.0)
            )
        return [
            Segment(
                start=s["start"],
                end=s["end"],
                speaker=Speaker(s["speaker"]),
                text=s["text"],
                words=tuple(
                    replace(w, speaker=Speaker(s["speaker"]))
                    for w in words_by_segment.get(s["id"], [])
                ),
            )
            for s in self.db["segments"].rows_where(
                "transcript_id = ?", [transcript_id], order_by="idx"
            )
        ]


@dataclass(frozen=True)
class JobRow:
    id: int
    interview_id: int
    kind: str
    status: str
    progress: float | None
    message: str | None
    model: str | None
    worker_pid: int | None
    attempts: int | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    crashes: int | None = None  # workers that died holding this job (schema 5 on)


class Jobs:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.table = db.table("jobs")

    def add(self, interview_id: int, model: str, created_at: str) -> int:
        row = {
            "interview_id": interview_id,
            "kind": "transcribe",
            "status": "queued",
            "progress": 0.0,
            "model": model,
            "attempts": 0,
            "created_at": created_at,
        }
        return int(self.table.insert(row).last_pk)

    def get(self, job_id: int) -> JobRow:
        return JobRow(**self.table.get(job_id))

    def with_status(self, *statuses: str) -> list[JobRow]:
        marks = ", ".join("?" for _ in statuses)
        rows = self.table.rows_where(f"status in ({marks})", list(statuses), order_by="id")
        return [JobRow(**r) for r in rows]

    def latest_for(self, interview_id: int) -> JobRow | None:
        rows = list(
            self.table.rows_where("interview_id = ?", [interview_id], order_by="id desc", limit=1)
        )
        return JobRow(**rows[0]) if rows else None

    def claim(self, job_id: int, pid: int, started_at: str) -> bool:
        """Take a queued job for this worker; False if another worker got there first."""
        cursor = self.db.execute(
            "update jobs set status = 'running', worker_pid = ?, started_at = ?, "
            "attempts = coalesce(attempts, 0) + 1 where id = ? and status = 'queued'",
            [pid, started_at, job_id],
        )
        return cursor.rowcount == 1

    def release(self, job_id: int, pid: int) -> None:
        """Give a job this worker still holds back to the queue (it was stopped on purpose)."""
        self.db.execute(
            "update jobs set status = 'queued', progress = 0.0, worker_pid = null "
            "where id = ? and status = 'running' and worker_pid = ?",
            [job_id, pid],
        )

    def update(self, job_id: int, **values: Any) -> None:
        self.table.update(job_id, values)
