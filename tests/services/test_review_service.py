"""Review edits on a draft, saved as revisions; sign-off and re-opening; the demo study."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.core.models import Speaker
from fieldkit.core.workflow import TranscriptState
from fieldkit.errors import FieldkitError, WorkflowError
from fieldkit.services import approval
from fieldkit.services.demo import build_demo_study
from fieldkit.services.review import (
    draft_for,
    open_review,
    question_markers,
    save_review,
)
from fieldkit.services.revisions import revision_history
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow, Interviews, Transcripts

PID = "INTSTA006-PEER"  # needs review in the demo


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    s = build_demo_study(tmp_path / "demo", actor="reviewer", transcripts=True)
    yield s
    s.close()


def interview(study: Study, pid: str = PID) -> InterviewRow:
    return Interviews(study.db).for_participant(pid)[0]


def test_the_demo_is_quick_and_has_every_state(tmp_path: Path) -> None:
    started = time.monotonic()
    demo = build_demo_study(tmp_path / "quick", transcripts=True)
    took = time.monotonic() - started
    assert took < 3.0, took
    states = {s.participant: s.state for s in approval.approval_statuses(demo)}
    assert states == {
        "INTSTA006-PEER": TranscriptState.NEEDS_REVIEW,
        "INTSTA007-CLIN": TranscriptState.REVIEWED,
        "INTSTA008-PEER": TranscriptState.SENT,
        "INTSTA009-CLIN": TranscriptState.SENT,
        "INTSTA010-PEER": TranscriptState.APPROVED_WITH_CHANGES,
    }
    # the five waiting participants have no interview yet; INTSTA004-CLIN has no consent
    for n, role in enumerate(["PEER", "CLIN", "PEER", "CLIN", "CLIN"], start=1):
        assert not Interviews(demo.db).for_participant(f"INTSTA00{n}-{role}")
    demo.close()


def test_edits_save_one_revision_with_a_summary(study: Study) -> None:
    draft = open_review(study, PID)
    assert draft.editable and draft.base_revision == 0
    assert not draft.edit_text(0, draft.segments[0].text)  # unchanged: nothing recorded
    assert draft.edit_text(0, draft.segments[0].text.replace("today.", "today, thanks."))
    assert draft.set_speaker(3, Speaker.INTERVIEWER)
    with pytest.raises(FieldkitError, match="only turns of the same speaker merge"):
        draft.merge(3)
    with pytest.raises(FieldkitError, match="splits between two of its words"):
        draft.split(0, 0)
    revision = save_review(study, draft)
    assert revision == 1 and not draft.dirty
    [_, info] = revision_history(study, interview(study))
    assert info.kind == "review" and info.created_by == "reviewer"
    assert info.summary.startswith("2 changes: text edited: 1 word deleted, 2 words added")
    assert "speaker participant → interviewer (turn 4, 00:32)" in info.summary
    with pytest.raises(FieldkitError, match="nothing to save"):
        save_review(study, draft)


def test_a_stale_draft_is_refused(study: Study) -> None:
    first, second = open_review(study, PID), open_review(study, PID)
    first.set_speaker(0, Speaker.UNKNOWN)
    second.set_speaker(1, Speaker.UNKNOWN)
    save_review(study, first)
    with pytest.raises(WorkflowError, match="someone saved revision 1"):
        save_review(study, second)


def test_an_edit_after_sign_off_needs_review_again(study: Study) -> None:
    approval.mark_reviewed(study, PID)
    draft = open_review(study, PID)
    assert draft.editable
    draft.insert_mark(draft.segments[2].start + 0.5, "[crosstalk]")
    save_review(study, draft)
    assert approval.approval_state(study, interview(study).id) is TranscriptState.NEEDS_REVIEW
    moves = [m.to_state for m in approval.state_history(study, interview(study).id)]
    assert moves == ["reviewed", "needs review"]


def test_no_edits_once_sent(study: Study) -> None:
    draft = open_review(study, "INTSTA008-PEER")
    assert not draft.editable
    with pytest.raises(WorkflowError, match="can no longer be edited"):
        draft.edit_text(0, "anything")
    with pytest.raises(WorkflowError):
        draft.insert_mark(1.0, "[inaudible]")


def test_a_mark_in_a_gap_becomes_its_own_turn(study: Study) -> None:
    draft = open_review(study, PID)
    gap = (draft.segments[0].end + draft.segments[1].start) / 2
    index = draft.insert_mark(gap, "[inaudible]")
    assert index == 1
    assert draft.segments[1].text == "[inaudible]" and draft.segments[1].speaker is Speaker.UNKNOWN
    with pytest.raises(FieldkitError, match="unknown mark"):
        draft.insert_mark(gap, "[laughs]")


def test_question_markers(study: Study) -> None:
    row = interview(study)
    markers = question_markers(study, row)
    assert [round(m.at) for m in markers] == [1, 28, 59, 73]
    assert markers[1].label.startswith("How do you think working on this unit")


def test_machine_transcript_stays(study: Study) -> None:
    row = interview(study)
    before = Transcripts(study.db).segments(Transcripts(study.db).revision(row.id, 0).id)  # type: ignore[union-attr]
    draft = draft_for(study, row)
    draft.edit_text(0, "replaced entirely")
    save_review(study, draft)
    after = Transcripts(study.db).segments(Transcripts(study.db).revision(row.id, 0).id)  # type: ignore[union-attr]
    assert before == after
