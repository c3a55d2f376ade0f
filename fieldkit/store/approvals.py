"""Repositories for review and approval: approval states and their history, the copies sent to
participants and the ones returned, revision notes, and the complete removal of a withdrawn
interview's data (rows, full-text index, free pages and write-ahead log)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils
from sqlite_utils.db import NotFoundError


@dataclass(frozen=True)
class ApprovalRow:
    interview_id: int
    state: str
    since: str
    revision: int | None
    deadline: str | None
    updated_by: str | None


@dataclass(frozen=True)
class MoveRow:
    id: int
    interview_id: int
    from_state: str | None
    to_state: str
    at: str
    actor: str | None
    revision: int | None
    note: str | None


@dataclass(frozen=True)
class SendRow:
    id: int
    interview_id: int
    revision: int
    sent_at: str
    deadline: str | None
    fingerprint: str
    format: str | None
    file_name: str | None
    turns: int | None
    path: str | None  # where it was written (study-relative inside the study); None before v5


@dataclass(frozen=True)
class ReturnRow:
    id: int
    interview_id: int
    send_id: int
    path: str | None  # where the returned file was read from (study-relative inside the study)
    revision: int | None
    received_at: str


class Approvals:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def get(self, interview_id: int) -> ApprovalRow | None:
        try:
            return ApprovalRow(**self.db.table("approvals").get(interview_id))
        except NotFoundError:
            return None

    def all(self) -> dict[int, ApprovalRow]:
        return {r["interview_id"]: ApprovalRow(**r) for r in self.db["approvals"].rows}

    def put(self, interview_id: int, **values: Any) -> None:
        """Set the interview's current state (call inside the move's transaction)."""
        self.db.table("approvals").upsert(
            {"interview_id": interview_id, **values}, pk="interview_id"
        )

    def add_move(self, interview_id: int, **values: Any) -> None:
        self.db.table("approval_moves").insert({"interview_id": interview_id, **values})

    def moves(self, interview_id: int) -> list[MoveRow]:
        rows = self.db["approval_moves"].rows_where(
            "interview_id = ?", [interview_id], order_by="id"
        )
        return [MoveRow(**r) for r in rows]

    def add_send(self, interview_id: int, **values: Any) -> int:
        return int(
            self.db.table("approval_sends").insert({"interview_id": interview_id, **values}).last_pk
        )

    def sends(self, interview_id: int) -> list[SendRow]:
        rows = self.db["approval_sends"].rows_where(
            "interview_id = ?", [interview_id], order_by="id"
        )
        return [SendRow(**r) for r in rows]

    def add_return(self, interview_id: int, **values: Any) -> int:
        """Record a returned copy (call inside the move's transaction). A second one for the
        same interview breaks a unique index: a transcript comes back once."""
        return int(
            self.db.table("approval_returns")
            .insert({"interview_id": interview_id, **values})
            .last_pk
        )

    def latest_copy_path(self) -> str | None:
        """Where the study's most recent participant's copy was written or returned copy read
        from (any interview), as stored."""
        # Times are to the second: in the same second, a return came after its send.
        rows = self.db.execute(
            "select path from ("
            " select path, sent_at as at, 0 as later, id from approval_sends"
            " where path is not null"
            " union all"
            " select path, received_at as at, 1 as later, id from approval_returns"
            " where path is not null"
            ") order by at desc, later desc, id desc limit 1"
        ).fetchall()
        return str(rows[0][0]) if rows else None

    def returns(self, interview_id: int) -> list[ReturnRow]:
        rows = self.db["approval_returns"].rows_where(
            "interview_id = ?", [interview_id], order_by="id"
        )
        return [ReturnRow(**r) for r in rows]


class RevisionNotes:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.table = db.table("revision_notes")

    def put(self, transcript_id: int, summary: str) -> None:
        self.table.upsert({"transcript_id": transcript_id, "summary": summary}, pk="transcript_id")

    def for_transcripts(self, transcript_ids: list[int]) -> dict[int, str]:
        if not transcript_ids:
            return {}
        marks = ", ".join("?" for _ in transcript_ids)
        rows = self.table.rows_where(f"transcript_id in ({marks})", transcript_ids)
        return {r["transcript_id"]: r["summary"] or "" for r in rows}


@dataclass(frozen=True)
class PurgeCounts:
    """What was removed (counts and stored paths only: never content)."""

    transcripts: int
    segments: int
    words: int
    jobs: int
    events: int
    recordings: int
    recording_paths: tuple[str, ...]


def purge_interview_content(db: sqlite_utils.Database, interview_id: int) -> PurgeCounts:
    """Delete everything an interview holds that carries what was said: transcripts (every
    revision), their segments and words, jobs, events with text (notes, guard contexts, markers
    with labels) and the recordings' rows. The interview row and its approval state stay, so the
    study still shows that the participant withdrew. Call inside a transaction, then
    `rebuild_search_index` before it commits and `erase_free_space` after; the caller deletes
    the files after it commits."""
    # Freed pages are overwritten with zeros instead of keeping the deleted text.
    db.execute("PRAGMA secure_delete = ON")
    segment_ids = "select s.id from segments s join transcripts t on t.id = s.transcript_id "
    segment_ids += "where t.interview_id = ?"
    words = db.execute(
        f"delete from words where segment_id in ({segment_ids})", [interview_id]
    ).rowcount
    segments = db.execute(
        "delete from segments where transcript_id in "
        "(select id from transcripts where interview_id = ?)",
        [interview_id],
    ).rowcount
    db.execute(
        "delete from revision_notes where transcript_id in "
        "(select id from transcripts where interview_id = ?)",
        [interview_id],
    )
    transcripts = db.execute(
        "delete from transcripts where interview_id = ?", [interview_id]
    ).rowcount
    jobs = db.execute("delete from jobs where interview_id = ?", [interview_id]).rowcount
    events = db.execute(
        "delete from interview_events where interview_id = ? and text is not null",
        [interview_id],
    ).rowcount
    paths = tuple(
        r["path"] for r in db["recordings"].rows_where("interview_id = ?", [interview_id])
    )
    recordings = db.execute(
        "delete from recordings where interview_id = ?", [interview_id]
    ).rowcount
    return PurgeCounts(transcripts, segments, words, jobs, events, recordings, paths)


def rebuild_search_index(db: sqlite_utils.Database) -> None:
    """Rebuild the full-text index from the segments that remain. A row delete only marks its
    tokens deleted; they stay in the index's shadow tables until the index is rebuilt. Call
    inside the deletion's transaction."""
    db.execute("INSERT INTO segments_fts (segments_fts) VALUES ('rebuild')")


def erase_free_space(db: sqlite_utils.Database) -> bool:
    """After a deletion has committed: rewrite the database without its free pages (VACUUM, with
    its scratch copy in memory, not in a temporary file) and empty the write-ahead log, which
    still holds old copies of the changed pages. Returns False if another connection was
    reading and the log could not be emptied yet (SQLite removes it when the last
    connection to the study closes)."""
    conn = db.conn
    if conn.in_transaction:
        raise RuntimeError("erase_free_space runs after the deletion has committed")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy
