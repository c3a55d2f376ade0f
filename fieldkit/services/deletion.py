"""Deleting interviews' data completely, when a withdrawal falls under the study's delete policy
([approval] withdrawn_data = "delete").

Nothing of what was said may stay anywhere in the study folder, so a deletion has three steps:

1. `purge_interviews`, inside the caller's write transaction: every row that holds what was said
   goes (transcripts and revisions, segments, words, jobs, events with text, recordings), the
   full-text index is rebuilt (a deleted row's tokens otherwise stay in its shadow tables), and
   the audit log gets counts, never content. The files to remove are collected by their recorded
   paths: recordings, the participant's copies sent and returned, and exports.
2. `remove_files`, the last thing before the transaction commits: if fieldkit stops between the
   two, the rows are still there and running the withdrawal again finishes the job (the other
   order would leave files that nothing records any more).
3. `finish_deletion`, after the commit: the database is rewritten without its free pages and
   the write-ahead log is emptied.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fieldkit.errors import FieldkitError
from fieldkit.processes import still_running
from fieldkit.services.study import Study
from fieldkit.store.approvals import (
    Approvals,
    PurgeCounts,
    erase_free_space,
    purge_interview_content,
    rebuild_search_index,
)
from fieldkit.store.deid_repo import Exports
from fieldkit.store.repo import InterviewRow, Jobs, RecordingRow, Recordings


@dataclass(frozen=True)
class Deletion:
    """What a deletion removed: counts and paths, never content."""

    counts: PurgeCounts
    removed: tuple[Path, ...]  # every file removed
    shared_exports: tuple[Path, ...] = ()  # removed exports that held other transcripts too
    failed: tuple[str, ...] = ()  # "path: reason" for files that could not be removed
    unrecorded_copies: tuple[str, ...] = ()  # copies sent before fieldkit recorded their path
    database_clean: bool = True  # False: another program was reading; see erase_free_space
    copies_sent: int = 0  # participant's copies ever sent: any e-mailed or printed are beyond reach


@dataclass
class DeletionPlan:
    """Rows already deleted (not yet committed) and the files to remove once they are."""

    counts: PurgeCounts
    files: list[Path] = field(default_factory=list)
    shared_exports: list[Path] = field(default_factory=list)
    unrecorded_copies: list[str] = field(default_factory=list)
    copies_sent: int = 0
    removed: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def purge_interviews(study: Study, interviews: Sequence[InterviewRow], reason: str) -> DeletionPlan:
    """Delete the interviews' rows that hold what was said. Call inside `study.transaction()`;
    then `finish_deletion` after it commits."""
    if not study.db.conn.in_transaction:
        raise RuntimeError("purge_interviews runs inside the deletion's transaction")
    check_nothing_running(study, interviews)
    plan = DeletionPlan(PurgeCounts(0, 0, 0, 0, 0, 0, ()))
    for interview in interviews:
        sends = Approvals(study.db).sends(interview.id)
        copies = [s.path for s in sends if s.path]
        copies += [r.path for r in Approvals(study.db).returns(interview.id) if r.path]
        plan.unrecorded_copies += [s.file_name or "" for s in sends if not s.path]
        plan.copies_sent += len(sends)
        counts = purge_interview_content(study.db, interview.id)
        plan.counts = _add(plan.counts, counts)
        paths = [study.paths.absolute(p) for p in (*counts.recording_paths, *copies)]
        study.audit(
            "withdrawn interview data deleted",
            interview.participant_id,
            interview.id,
            wave=interview.wave,
            reason=reason,
            transcripts=counts.transcripts,
            segments=counts.segments,
            words=counts.words,
            jobs=counts.jobs,
            events=counts.events,
            recordings=counts.recordings,
            files=len(paths),
        )
        plan.files += paths
    exports, shared = _export_files(study, interviews)
    plan.files += exports
    plan.shared_exports += shared
    rebuild_search_index(study.db)
    return plan


def check_nothing_running(study: Study, interviews: Iterable[InterviewRow]) -> None:
    """A recording still being written, or a transcription still running, would put back what
    the deletion removes: refuse until they have stopped."""
    for interview in interviews:
        for recording in Recordings(study.db).for_interview(interview.id):
            if recording.status == "recording" and _recording_live(study, recording):
                raise FieldkitError(
                    f"{interview.participant_id} ({interview.wave}) is being recorded "
                    f"(process {recording.pid}); nothing was deleted",
                    "stop the recording, then run the command again",
                )
        job = Jobs(study.db).latest_for(interview.id)
        if job is not None and job.status == "running" and still_running(job.worker_pid, None):
            raise FieldkitError(
                f"{interview.participant_id} ({interview.wave}) is being transcribed "
                f"(process {job.worker_pid}); nothing was deleted",
                "wait for the transcription to finish, then run the command again",
            )


def _recording_live(study: Study, recording: RecordingRow) -> bool:
    from fieldkit.services.recording import is_live  # audio libraries only when one is marked

    return is_live(study, recording)


def remove_files(plan: DeletionPlan) -> None:
    """Remove the plan's files; call last inside the deletion's transaction. A file that cannot
    be removed is reported, not fatal: the rows are gone either way."""
    for path in dict.fromkeys(plan.files):  # once each, in order
        try:
            if path.is_file() or path.is_symlink():
                path.unlink()
                plan.removed.append(path)
            elif path.exists():
                plan.failed.append(f"{path}: not a file, left as it is")
        except OSError as error:
            plan.failed.append(f"{path}: {error.strerror or error}")


def finish_deletion(study: Study, plan: DeletionPlan) -> Deletion:
    """After the deletion has committed: wipe the database's free pages and write-ahead log."""
    clean = erase_free_space(study.db)
    return Deletion(
        counts=plan.counts,
        removed=tuple(plan.removed),
        shared_exports=tuple(p for p in dict.fromkeys(plan.shared_exports) if p in plan.removed),
        failed=tuple(plan.failed),
        unrecorded_copies=tuple(c for c in plan.unrecorded_copies if c),
        database_clean=clean,
        copies_sent=plan.copies_sent,
    )


def _export_files(
    study: Study, interviews: Sequence[InterviewRow]
) -> tuple[list[Path], list[Path]]:
    """Every export file that holds one of the interviews, by the paths recorded when it was
    written; and those of them that hold other transcripts too."""
    withdrawn = {(i.participant_id, i.wave) for i in interviews}
    files: list[Path] = []
    shared: list[Path] = []
    for export in Exports(study.db).all():
        names: list[str] = json.loads(export["files"] or "[]")
        entries: list[dict[str, Any]] = json.loads(export["transcripts"] or "[]")
        holders: dict[str, set[tuple[str, str]]] = {name: set() for name in names}
        for entry in entries:
            # Exports written before files were listed per transcript: assume every file.
            for name in entry.get("files", names):
                holders.setdefault(name, set()).add((entry["participant"], entry["wave"]))
        for name, held in holders.items():
            if held & withdrawn:
                path = Path(export["out_dir"]) / name
                files.append(path)
                if held - withdrawn:
                    shared.append(path)
    return files, shared


def _add(a: PurgeCounts, b: PurgeCounts) -> PurgeCounts:
    return PurgeCounts(
        a.transcripts + b.transcripts,
        a.segments + b.segments,
        a.words + b.words,
        a.jobs + b.jobs,
        a.events + b.events,
        a.recordings + b.recordings,
        a.recording_paths + b.recording_paths,
    )
