"""Unsaved review edits kept in the study database: a faithful round trip, removed on save, on
discard, and with the transcript when a withdrawal deletes the data; the migration is safe to run
again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.core.models import Speaker
from fieldkit.errors import WorkflowError
from fieldkit.services.review import (
    discard_draft,
    draft_for,
    keep_draft,
    kept_draft,
    restore_draft,
    save_review,
)
from fieldkit.services.study import Study
from fieldkit.store.approvals import purge_interview_content
from fieldkit.store.drafts import ReviewDrafts
from fieldkit.store.migrations import m006_review_drafts
from fieldkit.store.repo import InterviewRow, Interviews

PID = "INTSTA006-PEER"


@pytest.fixture
def review_study(tmp_path: Path) -> Iterator[Study]:
    from fieldkit.services.demo import build_demo_study

    study = build_demo_study(tmp_path / "demo", actor="reviewer", transcripts=True)
    yield study
    study.close()


def interview_of(study: Study) -> InterviewRow:
    [interview] = Interviews(study.db).for_participant(PID)
    return interview


def edited_draft(study: Study, interview: InterviewRow):  # type: ignore[no-untyped-def]
    draft = draft_for(study, interview)
    draft.edit_text(1, draft.segments[1].text.replace("six years", "seven years"))
    draft.set_speaker(2, Speaker.UNKNOWN)
    draft.insert_mark(draft.segments[4].words[3].start, "[inaudible]")
    return draft


def test_a_kept_draft_comes_back_exactly(review_study: Study) -> None:
    interview = interview_of(review_study)
    draft = edited_draft(review_study, interview)
    keep_draft(review_study, draft)

    kept = kept_draft(review_study, interview)
    assert kept is not None and kept.restorable and kept.changes == 3
    assert kept.describe().startswith("3 unsaved changes from 20")
    restored = restore_draft(review_study, interview)
    assert restored.segments == draft.segments  # every word with its time and probability
    assert restored.changes == draft.changes and restored.dirty
    assert restored.base_revision == 0


def test_saving_removes_the_draft_and_a_clean_draft_is_not_kept(review_study: Study) -> None:
    interview = interview_of(review_study)
    draft = edited_draft(review_study, interview)
    keep_draft(review_study, draft)
    save_review(review_study, draft)
    assert kept_draft(review_study, interview) is None
    keep_draft(review_study, draft)  # nothing unsaved: nothing kept
    assert kept_draft(review_study, interview) is None


def test_discarding_removes_the_draft(review_study: Study) -> None:
    interview = interview_of(review_study)
    keep_draft(review_study, edited_draft(review_study, interview))
    discard_draft(review_study, interview)
    assert ReviewDrafts(review_study.db).get(interview.id) is None


def test_a_draft_on_an_older_revision_is_not_restored(review_study: Study) -> None:
    interview = interview_of(review_study)
    mine = edited_draft(review_study, interview)
    theirs = draft_for(review_study, interview)
    theirs.merge(3)
    save_review(review_study, theirs)
    keep_draft(review_study, mine)
    kept = kept_draft(review_study, interview)
    assert kept is not None and not kept.restorable and kept.latest_revision == 1
    with pytest.raises(WorkflowError, match="earlier revision"):
        restore_draft(review_study, interview)


def test_deleting_the_transcripts_deletes_the_draft(review_study: Study) -> None:
    """A withdrawal with the delete policy removes every transcript: the draft, which holds
    the same words, goes with them."""
    interview = interview_of(review_study)
    keep_draft(review_study, edited_draft(review_study, interview))
    with review_study.transaction():
        purge_interview_content(review_study.db, interview.id)
    assert ReviewDrafts(review_study.db).get(interview.id) is None


def test_deleting_one_revision_keeps_the_draft(review_study: Study) -> None:
    interview = interview_of(review_study)
    save_review(review_study, edited_draft(review_study, interview))
    draft = draft_for(review_study, interview)
    draft.set_speaker(0, Speaker.UNKNOWN)
    keep_draft(review_study, draft)
    db = review_study.db
    with review_study.transaction():
        [row] = db.execute(
            "select id from transcripts where interview_id = ? and revision = 1", [interview.id]
        ).fetchall()
        db.execute("delete from revision_notes where transcript_id = ?", [row[0]])
        db.execute(
            "delete from words where segment_id in "
            "(select id from segments where transcript_id = ?)",
            [row[0]],
        )
        db.execute("delete from segments where transcript_id = ?", [row[0]])
        db.execute("delete from transcripts where id = ?", [row[0]])
    assert ReviewDrafts(db).get(interview.id) is not None


def test_the_drafts_migration_can_run_twice(review_study: Study) -> None:
    """Migrations appended by two branches may be merged in either order."""
    m006_review_drafts(review_study.db)
    assert "review_drafts" in review_study.db.table_names()
