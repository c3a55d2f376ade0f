"""Deleting a withdrawn interview's data, when the study's policy says so."""

from __future__ import annotations

import shutil
from pathlib import Path

from fieldkit.core.workflow import TranscriptState
from fieldkit.services.approval.decisions import DecisionOutcome
from fieldkit.services.approval.states import record_move
from fieldkit.services.study import Study, now_iso
from fieldkit.store.approvals import Approvals, purge_interview_content
from fieldkit.store.repo import InterviewRow, Interviews


def withdraw_and_delete(
    study: Study, interview: InterviewRow, state: TranscriptState
) -> DecisionOutcome:
    """Withdrawn, and the policy says delete: every transcript, revision, word, job, event with
    text and recording of the interview goes, then its audio files and export entries. The
    audit log records counts only, never what was deleted."""
    sent = tuple(s.file_name or "" for s in Approvals(study.db).sends(interview.id))
    with study.transaction():
        counts = purge_interview_content(study.db, interview.id)
        record_move(
            study,
            interview,
            state,
            TranscriptState.WITHDRAWN,
            None,
            "decided: withdrawn; data deleted as the study's policy says",
            None,
            now_iso(),
        )
        study.audit(
            "withdrawn interview data deleted",
            interview.participant_id,
            interview.id,
            wave=interview.wave,
            transcripts=counts.transcripts,
            segments=counts.segments,
            words=counts.words,
            jobs=counts.jobs,
            events=counts.events,
            recordings=counts.recordings,
        )
    removed = [_remove(study.paths.absolute(p)) for p in counts.recording_paths]
    removed += _remove_exports(study, interview)
    return DecisionOutcome(
        interview,
        TranscriptState.WITHDRAWN,
        counts,
        tuple(r for r in removed if r),
        tuple(s for s in sent if s),
    )


def _remove(path: Path) -> str:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    else:
        return ""
    return str(path)


def _remove_exports(study: Study, interview: InterviewRow) -> list[str]:
    """Export entries named after the interview (or the participant, when it is their only
    interview) are deleted too."""
    exports = study.paths.exports
    if not exports.is_dir():
        return []
    only_one = len(Interviews(study.db).for_participant(interview.participant_id)) == 1
    removed: list[str] = []
    for entry in sorted(exports.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        name = entry.name
        if interview.participant_id in name and (only_one or interview.wave in name):
            removed.append(_remove(entry))
    return [r for r in removed if r]
