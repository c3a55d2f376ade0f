"""The participant's copy: written from the reviewed transcript and sent, then read back when
it is returned, compared turn by turn with what was sent, and stored as the participant's
revision."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fieldkit.core.diff import Change, DiffOp, DiffSummary, diff_text, edit_turn, summarize
from fieldkit.core.models import Segment
from fieldkit.core.turns import build_turns, speaker_label, speaker_labels
from fieldkit.core.workflow import TranscriptState, check_move, deadline_for
from fieldkit.errors import FieldkitError
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
from fieldkit.services.approval.states import (
    approval_state,
    date_of,
    policy,
    record_move,
    today_or,
    who,
)
from fieldkit.services.revisions import save_revision
from fieldkit.services.study import Study, now_iso
from fieldkit.services.transcription import find_interview
from fieldkit.store.approvals import Approvals, SendRow
from fieldkit.store.repo import InterviewRow, Transcripts

COPY_TITLE = "Your interview transcript"


def copy_labels(participant_id: str) -> tuple[str, ...]:
    """Every speaker label a copy of this participant's transcript can hold."""
    return speaker_labels(participant_id)


def turn_groups(segments: Sequence[Segment]) -> list[list[int]]:
    """The segments of each speaker turn (indices into `segments`; fieldkit.core.turns)."""
    return [list(turn.segments) for turn in build_turns(segments)]


def copy_turns(segments: Sequence[Segment], participant_id: str) -> list[CopyTurn]:
    return [
        CopyTurn(start=t.start, label=speaker_label(t.speaker, participant_id), text=t.text)
        for t in build_turns(segments)
    ]


def render_cover_note(study: Study, participant_id: str, wave: str, deadline: dt.date) -> str:
    return policy(study).cover_note.format(
        participant=participant_id,
        wave=wave,
        deadline=f"{deadline.day} {deadline:%B %Y}",
        study=study.config.title,
    )


def check_send(study: Study, participant_id: str, wave: str | None = None) -> InterviewRow:
    """Refuse (one line) a send that `send_copy` would refuse for the transcript's state,
    changing nothing: for a face to call before it asks where to write the copy. A copy that is
    out already may be sent again. `send_copy` checks again under the write lock."""
    interview = find_interview(study, participant_id, wave)
    state = approval_state(study, interview.id)
    if state is not TranscriptState.SENT:
        check_move(state, TranscriptState.SENT, who(interview))
    return interview


def check_receive(study: Study, participant_id: str, wave: str | None = None) -> InterviewRow:
    """Refuse (one line) a returned copy the transcript's state cannot take (never sent, already
    returned, decided), changing nothing: for a face to call before it asks for the file."""
    interview = find_interview(study, participant_id, wave)
    state = approval_state(study, interview.id)
    check_move(state, TranscriptState.RETURNED, who(interview))
    return interview


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
    Sending again while it is out writes another copy of the same revision (same deadline).

    The state is checked, the file written and the send recorded under one write lock, so two
    terminals cannot both send (the second waits, then sends again or is refused)."""
    fmt = copy_format(out)
    interview = find_interview(study, participant_id, wave)
    today = today_or(today)
    at = at or now_iso()
    written = False
    try:
        with study.transaction():
            state = approval_state(study, interview.id)
            resent = state is TranscriptState.SENT
            if not resent:
                check_move(state, TranscriptState.SENT, who(interview))
            if out.exists():
                raise FieldkitError(
                    f"{out} already exists", "choose another file name, or delete it"
                )
            if not out.parent.is_dir():
                raise FieldkitError(f"folder {out.parent} does not exist", "create it first")
            existing = Approvals(study.db).get(interview.id)
            deadline = (
                date_of(existing.deadline)
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
                cover_note=render_cover_note(
                    study, interview.participant_id, interview.wave, deadline
                ),
                turns=tuple(turns),
            )
            write_copy(copy, out)
            written = True
            Approvals(study.db).add_send(
                interview.id,
                revision=row.revision,
                sent_at=at,
                deadline=deadline.isoformat(),
                fingerprint=document_id.fingerprint,
                format=fmt,
                file_name=out.name,
                path=study.paths.relative(out),
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
                record_move(
                    study, interview, state, TranscriptState.SENT, row.revision, note, deadline, at
                )
    except BaseException:
        if written:
            out.unlink(missing_ok=True)  # nothing recorded, so nothing left behind
        raise
    return SentCopy(
        interview, out, row.revision, deadline, document_id.fingerprint, len(turns), resent
    )


# -- the returned copy ---------------------------------------------------------------------------


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
    path: Path  # the returned file
    turns: tuple[TurnDiff, ...]
    segments: tuple[Segment, ...]  # the new revision, speakers and times carried over
    summary: DiffSummary

    @property
    def changed_turns(self) -> int:
        return sum(t.changed for t in self.turns)

    def describe(self) -> str:
        """ "no changes", or e.g. "3 words deleted, 7 added, in 2 turns"."""
        deleted, added = self.summary.deleted, self.summary.inserted
        if not (deleted or added):
            return "no changes"
        parts = [f"{_count(deleted, 'word')} deleted"] if deleted else []
        if added:
            parts.append(f"{added} added" if deleted else f"{_count(added, 'word')} added")
        return f"{', '.join(parts)}, in {_count(self.changed_turns, 'turn')}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def read_returned(
    study: Study, participant_id: str, path: Path, wave: str | None = None
) -> ReturnedCopy:
    """Read a returned copy and compare it with what was sent. Refuses (one line) a file that is
    not the copy sent for this interview, and anything unreadable or mangled."""
    interview = check_receive(study, participant_id, wave)  # checked again when stored
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
    return ReturnedCopy(
        interview, send, path, tuple(diffs), tuple(new_segments), summarize(all_ops)
    )


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
    move the transcript to "returned". Returns the revision the transcript is now at.

    The state is checked again inside the write transaction: a copy read while the transcript
    was out is refused if, meanwhile, it was returned (the same copy received twice) or decided
    (by another terminal, or by phone)."""
    interview = returned.interview
    note = f"returned: {returned.describe()}"
    revision = returned.send.revision
    with study.transaction():
        state = approval_state(study, interview.id)
        check_move(state, TranscriptState.RETURNED, who(interview))
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
        at = at or now_iso()
        Approvals(study.db).add_return(
            interview.id,
            send_id=returned.send.id,
            path=study.paths.relative(returned.path),
            revision=revision,
            received_at=at,
        )
        record_move(study, interview, state, TranscriptState.RETURNED, revision, note, None, at)
    return revision
