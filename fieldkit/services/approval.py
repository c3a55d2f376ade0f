"""The participant approval workflow: states and moves, the study's policy, the participant's
copy (send, receive) and decisions, including a withdrawal that deletes the interview's data.

The state of a transcript is stored once it moves past "needs review"; before that it is
derived (a machine transcript and no stored state = needs review), so transcription itself
does not need to know about approval.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldkit.config import ApprovalSettings
from fieldkit.core.diff import Change, DiffOp, DiffSummary, diff_text, edit_turn, summarize
from fieldkit.core.models import Segment, Speaker
from fieldkit.core.turns import build_turns
from fieldkit.core.turns import speaker_label as turn_label
from fieldkit.core.workflow import (
    TranscriptState,
    check_move,
    check_no_response,
    days_waiting,
    deadline_for,
    decision_word,
    is_overdue,
    is_ready_for_analysis,
    parse_decision,
    queue_key,
)
from fieldkit.errors import FieldkitError, WorkflowError
from fieldkit.export.participant_copy import (
    CopyTurn,
    DocumentId,
    ParticipantCopy,
    ReturnedCopyError,
    copy_format,
    fingerprint,
    match_turns,
    open_copy,
    returned_turns,
    write_copy,
)
from fieldkit.services.revisions import save_revision
from fieldkit.services.study import Study, now_iso
from fieldkit.services.transcription import find_interview
from fieldkit.store.approvals import (
    Approvals,
    MoveRow,
    PurgeCounts,
    SendRow,
    purge_interview_content,
)
from fieldkit.store.repo import InterviewRow, Interviews, Jobs, Transcripts

INTERVIEWER_LABEL = "Interviewer"
UNKNOWN_LABEL = "Unknown speaker"
COPY_TITLE = "Your interview transcript"


def policy(study: Study) -> ApprovalSettings:
    return study.config.approval


def _today(today: dt.date | None) -> dt.date:
    return today or dt.date.today()


def _date(iso: str | None) -> dt.date | None:
    if not iso:
        return None
    return dt.datetime.fromisoformat(iso).date() if "T" in iso else dt.date.fromisoformat(iso)


def _who(interview: InterviewRow) -> str:
    return f"the transcript of {interview.participant_id} ({interview.wave})"


# -- states ----------------------------------------------------------------------------------


def approval_state_or_none(study: Study, interview_id: int) -> TranscriptState | None:
    """The stored state; else needs review (a transcript exists), transcribing (a job is queued
    or running), or None (nothing to approve yet)."""
    row = Approvals(study.db).get(interview_id)
    if row is not None:
        return TranscriptState(row.state)
    if Transcripts(study.db).revision(interview_id, 0) is not None:
        return TranscriptState.NEEDS_REVIEW
    job = Jobs(study.db).latest_for(interview_id)
    if job is not None and job.status in ("queued", "running"):
        return TranscriptState.TRANSCRIBING
    return None


def approval_state(study: Study, interview_id: int) -> TranscriptState:
    """The transcript's state; "transcribing" while there is no transcript yet."""
    return approval_state_or_none(study, interview_id) or TranscriptState.TRANSCRIBING


def stored_state(study: Study, interview_id: int) -> str | None:
    """What `fieldkit interviews` shows once a transcript has an approval state stored."""
    row = Approvals(study.db).get(interview_id)
    return row.state if row else None


def state_history(study: Study, interview_id: int) -> list[MoveRow]:
    return Approvals(study.db).moves(interview_id)


def states_seen(study: Study, interview_id: int) -> set[str]:
    """Every state the transcript has been in (the study report counts returned and edited)."""
    seen = {m.to_state for m in state_history(study, interview_id)}
    current = approval_state_or_none(study, interview_id)
    if current is not None:
        seen.add(current.value)
    if seen - {TranscriptState.TRANSCRIBING.value}:
        seen.add(TranscriptState.NEEDS_REVIEW.value)
    return seen


def move(
    study: Study,
    interview: InterviewRow,
    target: TranscriptState,
    *,
    revision: int | None = None,
    note: str = "",
    deadline: dt.date | None = None,
    at: str | None = None,
) -> None:
    """Move the transcript to `target`, or refuse with one line; history and audit in the same
    transaction."""
    current = approval_state_or_none(study, interview.id)
    if current is None:
        raise WorkflowError(
            f"{interview.participant_id} ({interview.wave}) has no transcript yet",
            f"transcribe it first: fieldkit transcribe {interview.participant_id}",
        )
    check_move(current, target, _who(interview))
    with study.transaction():
        _store_move(study, interview, current, target, revision, note, deadline, at or now_iso())


def _store_move(
    study: Study,
    interview: InterviewRow,
    current: TranscriptState,
    target: TranscriptState,
    revision: int | None,
    note: str,
    deadline: dt.date | None,
    at: str,
) -> None:
    repo = Approvals(study.db)
    existing = repo.get(interview.id)
    if revision is None:
        latest = Transcripts(study.db).revision(interview.id)
        revision = latest.revision if latest else None
    values: dict[str, Any] = {
        "state": target.value,
        "since": at,
        "revision": revision,
        "updated_by": study.actor,
        "deadline": deadline.isoformat() if deadline else (existing.deadline if existing else None),
    }
    repo.put(interview.id, **values)
    repo.add_move(
        interview.id,
        from_state=current.value,
        to_state=target.value,
        at=at,
        actor=study.actor,
        revision=revision,
        note=note or None,
    )
    study.audit(
        f"transcript {target.value}",
        interview.participant_id,
        interview.id,
        wave=interview.wave,
        revision=revision,
        note=note,
    )


def mark_reviewed(study: Study, participant_id: str, wave: str | None = None) -> InterviewRow:
    """The reviewer signs off the latest revision."""
    interview = find_interview(study, participant_id, wave)
    move(study, interview, TranscriptState.REVIEWED, note="signed off by the reviewer")
    return interview


def reopen_for_review(study: Study, interview: InterviewRow, note: str) -> None:
    """An edit after sign-off: the transcript needs reviewing (and signing off) again."""
    if approval_state_or_none(study, interview.id) is TranscriptState.REVIEWED:
        move(study, interview, TranscriptState.NEEDS_REVIEW, note=note)


# -- the queue / status ----------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalStatus:
    participant: str
    wave: str
    interview_id: int
    state: TranscriptState
    since: str
    days_waiting: int
    deadline: str | None
    overdue: bool
    revision: int | None
    ready_for_analysis: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "wave": self.wave,
            "state": self.state.value,
            "since": self.since,
            "days_waiting": self.days_waiting,
            "deadline": self.deadline,
            "overdue": self.overdue,
            "revision": self.revision,
            "ready_for_analysis": self.ready_for_analysis,
        }


def approval_statuses(study: Study, today: dt.date | None = None) -> list[ApprovalStatus]:
    """Every transcript with a state, overdue first, then what needs attention."""
    today = _today(today)
    stored = Approvals(study.db).all()
    counts = policy(study).no_response_counts_as_approval
    result: list[ApprovalStatus] = []
    for interview in Interviews(study.db).all():
        state = approval_state_or_none(study, interview.id)
        if state is None:
            continue
        row = stored.get(interview.id)
        since, revision = _since(study, interview.id, row.since if row else None)
        if row is not None:
            revision = row.revision
        deadline = _date(row.deadline) if row else None
        result.append(
            ApprovalStatus(
                participant=interview.participant_id,
                wave=interview.wave,
                interview_id=interview.id,
                state=state,
                since=since,
                days_waiting=days_waiting(_date(since) or today, today),
                deadline=deadline.isoformat() if deadline else None,
                overdue=is_overdue(state, deadline, today),
                revision=revision,
                ready_for_analysis=is_ready_for_analysis(state, counts),
            )
        )
    return sorted(result, key=lambda s: queue_key(s.state, s.overdue, s.days_waiting))


def _since(study: Study, interview_id: int, stored: str | None) -> tuple[str, int | None]:
    latest = Transcripts(study.db).revision(interview_id)
    if stored:
        return stored, latest.revision if latest else None
    machine = Transcripts(study.db).revision(interview_id, 0)
    if machine is not None:
        return machine.created_at, latest.revision if latest else None
    job = Jobs(study.db).latest_for(interview_id)
    return (job.created_at if job else now_iso()), None


# -- the participant's copy ------------------------------------------------------------------


def speaker_label(speaker: Speaker, participant_id: str) -> str:
    if speaker is Speaker.PARTICIPANT:
        return participant_id
    if speaker is Speaker.INTERVIEWER:
        return INTERVIEWER_LABEL
    return UNKNOWN_LABEL


def copy_labels(participant_id: str) -> tuple[str, ...]:
    return (participant_id, INTERVIEWER_LABEL, UNKNOWN_LABEL)


def turn_groups(segments: Sequence[Segment]) -> list[list[int]]:
    """The segments of each speaker turn (indices into `segments`; fieldkit.core.turns)."""
    return [list(turn.segments) for turn in build_turns(segments)]


def copy_turns(segments: Sequence[Segment], participant_id: str) -> list[CopyTurn]:
    return [
        CopyTurn(start=t.start, label=turn_label(t.speaker, participant_id), text=t.text)
        for t in build_turns(segments)
    ]


def render_cover_note(study: Study, participant_id: str, wave: str, deadline: dt.date) -> str:
    return policy(study).cover_note.format(
        participant=participant_id,
        wave=wave,
        deadline=f"{deadline.day} {deadline:%B %Y}",
        study=study.config.title,
    )


@dataclass(frozen=True)
class SentCopy:
    interview: InterviewRow
    path: Path
    revision: int
    deadline: dt.date
    fingerprint: str
    turns: int
    resent: bool


def send_copy(
    study: Study,
    participant_id: str,
    out: Path,
    wave: str | None = None,
    today: dt.date | None = None,
    at: str | None = None,
) -> SentCopy:
    """Write the participant's copy of the reviewed transcript and record that it was sent.
    Sending again while it is out writes another copy of the same revision (same deadline)."""
    fmt = copy_format(out)
    interview = find_interview(study, participant_id, wave)
    state = approval_state(study, interview.id)
    resent = state is TranscriptState.SENT
    if not resent:
        check_move(state, TranscriptState.SENT, _who(interview))
    if out.exists():
        raise FieldkitError(f"{out} already exists", "choose another file name, or delete it")
    if not out.parent.is_dir():
        raise FieldkitError(f"folder {out.parent} does not exist", "create it first")
    today = _today(today)
    existing = Approvals(study.db).get(interview.id)
    deadline = (
        _date(existing.deadline)
        if resent and existing and existing.deadline
        else deadline_for(today, policy(study).response_days)
    )
    assert deadline is not None
    row = Transcripts(study.db).revision(interview.id)
    assert row is not None  # a reviewed transcript has one
    turns = copy_turns(Transcripts(study.db).segments(row.id), interview.participant_id)
    document_id = DocumentId(
        interview.participant_id,
        interview.wave,
        row.revision,
        fingerprint(interview.participant_id, interview.wave, row.revision, turns),
    )
    copy = ParticipantCopy(
        document_id=document_id,
        title=COPY_TITLE,
        cover_note=render_cover_note(study, interview.participant_id, interview.wave, deadline),
        turns=tuple(turns),
    )
    write_copy(copy, out)
    at = at or now_iso()
    try:
        with study.transaction():
            Approvals(study.db).add_send(
                interview.id,
                revision=row.revision,
                sent_at=at,
                deadline=deadline.isoformat(),
                fingerprint=document_id.fingerprint,
                format=fmt,
                file_name=out.name,
                turns=len(turns),
            )
            note = f"{fmt} copy sent" + (" again" if resent else "")
            if resent:
                study.audit(
                    "participant copy sent again",
                    interview.participant_id,
                    interview.id,
                    revision=row.revision,
                    format=fmt,
                )
            else:
                _store_move(
                    study, interview, state, TranscriptState.SENT, row.revision, note, deadline, at
                )
    except BaseException:
        out.unlink(missing_ok=True)  # nothing recorded, so nothing left behind
        raise
    return SentCopy(
        interview, out, row.revision, deadline, document_id.fingerprint, len(turns), resent
    )


# -- the returned copy -----------------------------------------------------------------------


@dataclass(frozen=True)
class TurnDiff:
    label: str
    start: float
    ops: tuple[DiffOp, ...]

    @property
    def changed(self) -> bool:
        return any(op.change is not Change.EQUAL for op in self.ops)


@dataclass(frozen=True)
class ReturnedCopy:
    """A returned copy, read, matched to what was sent and compared: nothing stored yet."""

    interview: InterviewRow
    send: SendRow
    turns: tuple[TurnDiff, ...]
    segments: tuple[Segment, ...]  # the new revision, speakers and times carried over
    summary: DiffSummary

    @property
    def changed_turns(self) -> int:
        return sum(t.changed for t in self.turns)


def read_returned(
    study: Study, participant_id: str, path: Path, wave: str | None = None
) -> ReturnedCopy:
    """Read a returned copy and compare it with what was sent. Refuses (one line) a file that is
    not the copy sent for this interview, and anything unreadable or mangled."""
    interview = find_interview(study, participant_id, wave)
    state = approval_state(study, interview.id)
    if state is not TranscriptState.SENT:
        if state is TranscriptState.RETURNED:
            raise WorkflowError(
                f"{_who(interview)} has already been returned",
                f"record the decision: fieldkit approval decide {interview.participant_id} ...",
            )
        check_move(state, TranscriptState.RETURNED, _who(interview))
    opened = open_copy(path)
    send = _matching_send(study, interview, path, opened.document_id)
    turns = returned_turns(opened, copy_labels(interview.participant_id))
    sent_row = Transcripts(study.db).revision(interview.id, send.revision)
    assert sent_row is not None
    segments = Transcripts(study.db).segments(sent_row.id)
    groups = turn_groups(segments)
    sent_turns = copy_turns(segments, interview.participant_id)
    texts = match_turns(path, sent_turns, turns)
    if not any(t.strip() for t in texts):
        raise ReturnedCopyError(
            f"{path.name} has no transcript turns left",
            "if the participant withdraws, record it: fieldkit approval decide PID withdrawn",
        )
    new_segments: list[Segment] = []
    diffs: list[TurnDiff] = []
    for group, sent, text in zip(groups, sent_turns, texts, strict=True):
        ops = diff_text(sent.text, text)
        diffs.append(TurnDiff(sent.label, sent.start, tuple(ops)))
        if any(op.change is not Change.EQUAL for op in ops):
            new_segments += edit_turn([segments[i] for i in group], text)
        else:
            new_segments += [segments[i] for i in group]
    all_ops = [op for d in diffs for op in d.ops]
    return ReturnedCopy(interview, send, tuple(diffs), tuple(new_segments), summarize(all_ops))


def _matching_send(
    study: Study, interview: InterviewRow, path: Path, document_id: DocumentId | None
) -> SendRow:
    if document_id is None:
        raise ReturnedCopyError(
            f"{path.name} is not a fieldkit participant's copy (it has no document ID)",
            "receive the file fieldkit wrote with `fieldkit approval send`, as returned",
        )
    if document_id.participant != interview.participant_id:
        raise ReturnedCopyError(
            f"{path.name} is the copy sent to {document_id.participant}, "
            f"not to {interview.participant_id}",
            f"receive it for {document_id.participant}, or find {interview.participant_id}'s file",
        )
    if document_id.wave != interview.wave:
        raise ReturnedCopyError(
            f"{path.name} is {interview.participant_id}'s {document_id.wave} transcript, "
            f"not the {interview.wave} one",
            f"add --wave {document_id.wave} if that is the one being returned",
        )
    sends = Approvals(study.db).sends(interview.id)
    for send in reversed(sends):
        if send.fingerprint == document_id.fingerprint and send.revision == document_id.revision:
            return send
    sent_on = ", ".join(sorted({s.sent_at[:10] for s in sends})) or "never"
    raise ReturnedCopyError(
        f"{path.name} does not match the copy of {interview.participant_id} "
        f"({interview.wave}) that was sent (sent on {sent_on})",
        "it is a different document; receive the file that was sent and returned",
    )


def accept_returned(study: Study, returned: ReturnedCopy, at: str | None = None) -> int:
    """Store the returned text as a revision attributed to the participant (if it changed) and
    move the transcript to "returned". Returns the revision the transcript is now at."""
    interview = returned.interview
    note = f"returned: {returned.summary.describe()} in {returned.changed_turns} turn(s)"
    revision = returned.send.revision
    with study.transaction():
        if returned.summary.changed:
            row = save_revision(
                study,
                interview,
                returned.segments,
                kind="participant",
                author=interview.participant_id,
                summary=note,
            )
            revision = row.revision
        state = approval_state(study, interview.id)
        _store_move(
            study, interview, state, TranscriptState.RETURNED, revision, note, None, at or now_iso()
        )
    return revision


# -- decisions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionOutcome:
    interview: InterviewRow
    state: TranscriptState
    deleted: PurgeCounts | None = None
    removed_files: tuple[str, ...] = ()
    sent_copies: tuple[str, ...] = ()  # copies written outside the study: fieldkit cannot reach


def decide(
    study: Study,
    participant_id: str,
    decision: str,
    wave: str | None = None,
    today: dt.date | None = None,
) -> DecisionOutcome:
    """approved | approved-with-changes | withdrawn | no-response, after the copy was sent."""
    target = parse_decision(decision)
    interview = find_interview(study, participant_id, wave)
    state = approval_state(study, interview.id)
    check_move(state, target, _who(interview))
    if target is TranscriptState.NO_RESPONSE:
        row = Approvals(study.db).get(interview.id)
        check_no_response(_date(row.deadline) if row else None, _today(today))
    note = f"decided: {decision_word(target)}"
    if target is TranscriptState.WITHDRAWN and policy(study).withdrawn_data == "delete":
        return _withdraw_and_delete(study, interview, state)
    if target is TranscriptState.WITHDRAWN:
        note += " (data kept, as the study's policy says)"
    with study.transaction():
        _store_move(study, interview, state, target, None, note, None, now_iso())
    return DecisionOutcome(interview, target)


def will_delete_on_withdrawal(study: Study) -> bool:
    return policy(study).withdrawn_data == "delete"


def _withdraw_and_delete(
    study: Study, interview: InterviewRow, state: TranscriptState
) -> DecisionOutcome:
    """Withdrawn, and the policy says delete: every transcript, revision, word, job, event with
    text and recording of the interview goes, then its audio files and export entries. The
    audit log records counts only, never what was deleted."""
    sent = tuple(s.file_name or "" for s in Approvals(study.db).sends(interview.id))
    with study.transaction():
        counts = purge_interview_content(study.db, interview.id)
        _store_move(
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
