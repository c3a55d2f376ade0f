"""Repositories: the rows fieldkit reads and writes, as domain objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from sqlite_utils.db import NotFoundError

from fieldkit.core.models import ConsentStatus, InterviewStatus, Participant


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
