"""Numbered schema migrations. Append new ones; never edit one that has shipped."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


def m001_foundation(db: sqlite_utils.Database) -> None:
    db["participants"].create(
        {
            "id": str,
            "number": int,
            "site": str,
            "role": str,
            "status": str,
            "consent_date": str,
            "consent_form_version": str,
            "consent_recorded_at": str,
            "withdrawn_at": str,
            "added_at": str,
        },
        pk="id",
        not_null={"number", "site", "role", "status", "added_at"},
    )
    db["participants"].create_index(["number"], unique=True)
    db["interviews"].create(
        {
            "id": int,
            "participant_id": str,
            "wave": str,
            "status": str,
            "schedule_id": str,
            "schedule_path": str,
            "interviewer": str,
            "started_at": str,
            "ended_at": str,
            "duration_s": float,
            "channel_map": str,
        },
        pk="id",
        foreign_keys=[("participant_id", "participants", "id")],
        not_null={"participant_id", "wave", "status"},
    )
    db["interviews"].create_index(["participant_id", "wave"], unique=True)
    db["interview_events"].create(
        {
            "id": int,
            "interview_id": int,
            "at": float,
            "kind": str,  # question | marker | note | guard
            "topic_id": str,
            "question_id": str,
            "term": str,
            "guard_kind": str,
            "speaker": str,
            "source": str,
            "text": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("interview_id", "interviews", "id")],
        not_null={"interview_id", "at", "kind", "created_at"},
    )
    db["interview_events"].create_index(["interview_id", "at"])
    db["recordings"].create(
        {
            "id": int,
            "interview_id": int,
            "path": str,
            "samplerate": int,
            "channels": int,
            "channel_map": str,
            "source": str,  # microphone | virtual | import
            "device": str,
            "offset_s": float,  # where this recording starts on the interview clock
            "duration_s": float,
            "status": str,  # recording | complete | interrupted
            "stop_reason": str,
            "pid": int,
            "started_at": str,
            "ended_at": str,
        },
        pk="id",
        foreign_keys=[("interview_id", "interviews", "id")],
        not_null={"interview_id", "path", "status"},
    )
    db["recordings"].create_index(["path"], unique=True)
    db["audit_log"].create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "action": str,
            "participant_id": str,
            "interview_id": int,
            "detail": str,  # JSON; never transcript text
        },
        pk="id",
        not_null={"at", "actor", "action"},
    )


def m002_transcripts(db: sqlite_utils.Database) -> None:
    # A transcript is one revision of an interview's text. Revision 0 is the machine transcript,
    # which is never changed; edits (a later issue) add revisions on top.
    db["transcripts"].create(
        {
            "id": int,
            "interview_id": int,
            "revision": int,
            "kind": str,  # machine | review | participant | deidentified
            "created_at": str,
            "created_by": str,
            "model": str,
            "duration_s": float,
            "channels": int,
            "speakers_known": int,
        },
        pk="id",
        foreign_keys=[("interview_id", "interviews", "id")],
        not_null={"interview_id", "revision", "kind", "created_at"},
    )
    db["transcripts"].create_index(["interview_id", "revision"], unique=True)
    db["segments"].create(
        {
            "id": int,
            "transcript_id": int,
            "idx": int,
            "start": float,
            "end": float,
            "speaker": str,
            "text": str,
        },
        pk="id",
        foreign_keys=[("transcript_id", "transcripts", "id")],
        not_null={"transcript_id", "idx", "start", "end", "speaker", "text"},
    )
    db["segments"].create_index(["transcript_id", "idx"], unique=True)
    db["words"].create(
        {
            "id": int,
            "segment_id": int,
            "idx": int,
            "start": float,
            "end": float,
            "word": str,
            "probability": float,
        },
        pk="id",
        foreign_keys=[("segment_id", "segments", "id")],
        not_null={"segment_id", "idx", "start", "end", "word"},
    )
    db["words"].create_index(["segment_id", "idx"], unique=True)
    db["jobs"].create(
        {
            "id": int,
            "interview_id": int,
            "kind": str,  # transcribe
            "status": str,  # queued | running | done | failed
            "progress": float,
            "message": str,
            "model": str,
            "worker_pid": int,
            "attempts": int,
            "created_at": str,
            "started_at": str,
            "finished_at": str,
        },
        pk="id",
        foreign_keys=[("interview_id", "interviews", "id")],
        not_null={"interview_id", "kind", "status", "created_at"},
    )
    db["jobs"].create_index(["status"])


def m003_approval(db: sqlite_utils.Database) -> None:
    """Review and the participant approval workflow (issue 5)."""
    # One row per interview once its transcript has moved past "needs review" (before that the
    # state is derived: a machine transcript and no row = needs review).
    db["approvals"].create(
        {
            "interview_id": int,
            "state": str,  # core.workflow.TranscriptState values
            "since": str,  # ISO date-time of the last move
            "revision": int,  # the revision the state is about (signed off, sent, returned)
            "deadline": str,  # ISO date: the participant's last day to respond (when sent)
            "updated_by": str,
        },
        pk="interview_id",
        foreign_keys=[("interview_id", "interviews", "id")],
        not_null={"state", "since"},
    )
    db["approval_moves"].create(
        {
            "id": int,
            "interview_id": int,
            "from_state": str,
            "to_state": str,
            "at": str,
            "actor": str,
            "revision": int,
            "note": str,  # what happened, never transcript text
        },
        pk="id",
        foreign_keys=[("interview_id", "interviews", "id")],
        not_null={"interview_id", "to_state", "at"},
    )
    db["approval_moves"].create_index(["interview_id", "id"])
    # Every participant's copy written: a returned file is matched to one by its fingerprint.
    db["approval_sends"].create(
        {
            "id": int,
            "interview_id": int,
            "revision": int,
            "sent_at": str,
            "deadline": str,
            "fingerprint": str,  # sha256 (hex, shortened) of the sent turns
            "format": str,  # docx | txt
            "file_name": str,
            "turns": int,
        },
        pk="id",
        foreign_keys=[("interview_id", "interviews", "id")],
        not_null={"interview_id", "revision", "sent_at", "fingerprint"},
    )
    db["approval_sends"].create_index(["interview_id", "fingerprint"])
    # What each revision changed, for `fieldkit transcript history` (no transcript text).
    db["revision_notes"].create(
        {"transcript_id": int, "summary": str},
        pk="transcript_id",
        foreign_keys=[("transcript_id", "transcripts", "id")],
    )


def m004_deidentification(db: sqlite_utils.Database) -> None:
    """Identifier list, de-identification keys, exports and full-text search (issue 6)."""
    db["identifiers"].create(
        {
            "id": int,
            "text": str,
            "category": str,  # person | place | organisation | other
            "added_by": str,
            "added_at": str,
        },
        pk="id",
        not_null={"text", "category", "added_at"},
    )
    db.execute("CREATE UNIQUE INDEX idx_identifiers_text ON identifiers (text COLLATE NOCASE)")
    # placeholder → original, per interview. Never exported: exports read revisions only.
    db["deid_keys"].create(
        {
            "id": int,
            "interview_id": int,
            "placeholder": str,
            "category": str,
            "entity": str,  # what makes two mentions the same entity (fieldkit.core.deid)
            "forms": str,  # JSON list of the forms replaced, e.g. ["Diane", "diane"]
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("interview_id", "interviews", "id")],
        not_null={"interview_id", "placeholder", "category", "entity", "created_at"},
    )
    db["deid_keys"].create_index(["interview_id", "placeholder"], unique=True)
    db["deid_keys"].create_index(["interview_id", "entity"], unique=True)
    db["deid_suggestions"].create(
        {
            "id": int,
            "interview_id": int,
            "transcript_id": int,  # the revision the suggestion was found in
            "segment_idx": int,
            "start": int,  # character span in the segment text
            "end": int,
            "original": str,
            "entity": str,
            "category": str,
            "placeholder": str,
            "source": str,  # list | email | phone | address | date
            "decision": str,  # pending | accepted | rejected
            "decided_by": str,
            "decided_at": str,
        },
        pk="id",
        foreign_keys=[("interview_id", "interviews", "id"), ("transcript_id", "transcripts", "id")],
        not_null={"interview_id", "transcript_id", "segment_idx", "start", "end", "decision"},
    )
    db["deid_suggestions"].create_index(["transcript_id", "segment_idx", "start"], unique=True)
    # Suggestions and keys hold what was said: whoever deletes a transcript (a withdrawal with
    # the delete policy) takes them along, without having to know about them.
    db.execute(
        "CREATE TRIGGER transcripts_deid_bd BEFORE DELETE ON transcripts BEGIN "
        "DELETE FROM deid_suggestions WHERE transcript_id = old.id; END"
    )
    db.execute(
        "CREATE TRIGGER transcripts_deid_ad AFTER DELETE ON transcripts BEGIN "
        "DELETE FROM deid_keys WHERE interview_id = old.interview_id AND NOT EXISTS "
        "(SELECT 1 FROM transcripts WHERE interview_id = old.interview_id); END"
    )
    db["exports"].create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "format": str,
            "out_dir": str,
            "identified": int,
            "transcripts": str,  # JSON: [{participant, wave, revision}]
            "files": str,  # JSON list of file names written
        },
        pk="id",
        not_null={"at", "format", "out_dir", "identified"},
    )
    # Full-text search over segment text (fieldkit terms). Written by hand rather than with
    # sqlite-utils' enable_fts, whose executescript would commit this migration's transaction
    # half-way. Porter stemming: "journey" also finds "journeys".
    db.execute(
        "CREATE VIRTUAL TABLE segments_fts USING fts5 "
        "(text, content=segments, content_rowid=id, tokenize='porter unicode61')"
    )
    db.execute("INSERT INTO segments_fts (rowid, text) SELECT id, text FROM segments")
    db.execute(
        "CREATE TRIGGER segments_ai AFTER INSERT ON segments BEGIN "
        "INSERT INTO segments_fts (rowid, text) VALUES (new.id, new.text); END"
    )
    db.execute(
        "CREATE TRIGGER segments_ad AFTER DELETE ON segments BEGIN "
        "INSERT INTO segments_fts (segments_fts, rowid, text) VALUES ('delete', old.id, old.text); "
        "END"
    )
    db.execute(
        "CREATE TRIGGER segments_au AFTER UPDATE ON segments BEGIN "
        "INSERT INTO segments_fts (segments_fts, rowid, text) VALUES ('delete', old.id, old.text); "
        "INSERT INTO segments_fts (rowid, text) VALUES (new.id, new.text); END"
    )


def m005_copy_files(db: sqlite_utils.Database) -> None:
    """Where each participant's copy was written and each returned copy was read from, so a
    withdrawal with the delete policy can remove them by path (issue 9)."""
    # study-relative inside the study folder, absolute outside it (StudyPaths.relative)
    db.execute("ALTER TABLE approval_sends ADD COLUMN path TEXT")
    db["approval_returns"].create(
        {
            "id": int,
            "interview_id": int,
            "send_id": int,  # the copy it answers
            "path": str,
            "revision": int,  # the revision the transcript is at after it was stored
            "received_at": str,
        },
        pk="id",
        foreign_keys=[("interview_id", "interviews", "id"), ("send_id", "approval_sends", "id")],
        not_null={"interview_id", "send_id", "received_at"},
    )
    # A transcript comes back once: a second copy of the same return is never stored.
    db["approval_returns"].create_index(["interview_id"], unique=True)


def m006_review_drafts(db: sqlite_utils.Database) -> None:
    """Unsaved review edits, kept every few seconds so an app closed by accident loses nothing
    (issue 11). One draft per interview; saving it as a revision removes it."""
    if "review_drafts" in db.table_names():  # safe to apply in any order with its neighbours
        return
    db["review_drafts"].create(
        {
            "interview_id": int,
            "base_revision": int,  # the revision the edits were made on
            "segments": str,  # JSON: the edited transcript (segments with their words)
            "changes": str,  # JSON list: what changed, as in a revision's summary
            "saved_at": str,
            "saved_by": str,
        },
        pk="interview_id",
        foreign_keys=[("interview_id", "interviews", "id")],
        not_null={"base_revision", "segments", "changes", "saved_at"},
    )
    # A draft holds what was said: when an interview's last transcript is deleted (a withdrawal
    # with the delete policy), its draft goes too, without the deleting code knowing about it.
    db.execute(
        "CREATE TRIGGER transcripts_drafts_ad AFTER DELETE ON transcripts BEGIN "
        "DELETE FROM review_drafts WHERE interview_id = old.interview_id AND NOT EXISTS "
        "(SELECT 1 FROM transcripts WHERE interview_id = old.interview_id); END"
    )


def m007_recording_integrity(db: sqlite_utils.Database) -> None:
    """Issue 9: who is recording, how often a job crashed its worker, durations from the audio."""
    # Which face records ("app" or "fieldkit record"), so a second recorder can be told who
    # holds the participant.
    db["recordings"].add_column("recorder", str)
    # How many times a worker died while holding the job; the third time the job fails.
    db["jobs"].add_column("crashes", int, not_null_default=0)
    # An interview's duration is the audio recorded for it (pauses and time on the screen
    # excluded). Earlier versions stored the screen's clock: recompute it from the recordings.
    db.execute(
        "UPDATE interviews SET duration_s = ROUND(COALESCE((SELECT SUM(COALESCE(r.duration_s, 0)) "
        "FROM recordings r WHERE r.interview_id = interviews.id), 0), 2) "
        "WHERE status IN ('ended', 'interrupted')"
    )


def m008_transcript_parts(db: sqlite_utils.Database) -> None:
    """Stretches a transcription job has finished, stored as they are done, so a crash loses none
    of them and the job resumes after the last one (issue 12). Removed when the machine
    transcript is stored, and with their recording when it is deleted."""
    db["transcript_parts"].create(
        {
            "id": int,
            "recording_id": int,
            "start_s": float,  # the stretch, in seconds of its recording
            "end_s": float,
            "settings": str,  # what it was decoded with (model, options); others are not reused
            "segments": str,  # JSON: [{start, end, speaker, text, words: [[start, end, word, p]]}]
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("recording_id", "recordings", "id")],
        not_null={"recording_id", "start_s", "end_s", "settings", "segments", "created_at"},
    )
    db["transcript_parts"].create_index(["recording_id", "start_s"])
    # They hold what was said: whoever deletes a recording's row takes them along.
    db.execute(
        "CREATE TRIGGER recordings_parts_bd BEFORE DELETE ON recordings BEGIN "
        "DELETE FROM transcript_parts WHERE recording_id = old.id; END"
    )


MIGRATIONS: list[Migration] = [
    m001_foundation,
    m002_transcripts,
    m003_approval,
    m004_deidentification,
    m005_copy_files,
    m006_review_drafts,
    m007_recording_integrity,
    m008_transcript_parts,
]
