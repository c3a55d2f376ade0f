"""Reviewing a transcript against the audio: edits on a draft, saved as one revision.

Edits (text, speaker, split, merge, [inaudible]/[crosstalk] marks) change a draft in memory;
`save_review` stores it as the next revision with a summary of what changed (positions and
counts, never the words: the summary goes to the audit log). Words that did not change keep
their times and recognition probability.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from fieldkit.core.diff import TYPED_PROBABILITY, diff_text, edit_turn, summarize, words_of
from fieldkit.core.guard import format_clock
from fieldkit.core.models import Segment, Speaker, Word
from fieldkit.core.turns import speaker_label
from fieldkit.core.wording import counted
from fieldkit.core.workflow import EDITABLE_STATES, TranscriptState, situation
from fieldkit.errors import FieldkitError, WorkflowError
from fieldkit.services.approval import approval_state, reopen_for_review
from fieldkit.services.revisions import latest_revision, save_revision
from fieldkit.services.study import Study, now_iso
from fieldkit.services.transcription import find_interview
from fieldkit.store.drafts import ReviewDrafts
from fieldkit.store.repo import Events, InterviewRow, Transcripts

LOW_PROBABILITY = 0.5  # words the model was unsure of: highlighted, with a key to the next
MARKS = ("[inaudible]", "[crosstalk]")


@dataclass
class ReviewDraft:
    """The transcript being reviewed: the latest revision plus unsaved edits."""

    interview: InterviewRow
    base_revision: int
    state: TranscriptState
    segments: list[Segment]
    changes: list[str] = field(default_factory=list)
    edits: int = 0  # counts every change (saving does not reset it): a draft newer than it was kept

    @property
    def dirty(self) -> bool:
        return bool(self.changes)

    @property
    def editable(self) -> bool:
        return self.state in EDITABLE_STATES

    def _check(self, index: int) -> Segment:
        if not self.editable:
            raise WorkflowError(
                f"the transcript {situation(self.state)}: it can no longer be edited",
                "reviewers edit before the participant's copy is sent",
            )
        if not 0 <= index < len(self.segments):
            raise FieldkitError(f"there is no turn {index + 1}", "choose a turn in the list")
        return self.segments[index]

    def _note(self, index: int, what: str) -> None:
        self.edits += 1
        self.changes.append(
            f"{what} (turn {index + 1}, {format_clock(self.segments[index].start)})"
            if index < len(self.segments)
            else what
        )

    def edit_text(self, index: int, text: str) -> bool:
        """Replace a turn's text; returns False when nothing changed. An empty text deletes it."""
        segment = self._check(index)
        ops = diff_text(segment.text, text)
        summary = summarize(ops)
        if not summary.changed:
            return False
        self._note(index, f"text edited: {summary.describe()}")
        self.segments[index : index + 1] = edit_turn([segment], text)
        return True

    def set_speaker(self, index: int, speaker: Speaker) -> bool:
        segment = self._check(index)
        if segment.speaker is speaker:
            return False
        words = tuple(replace(w, speaker=speaker) for w in segment.words)
        self.segments[index] = replace(segment, speaker=speaker, words=words)
        self._note(index, f"speaker {segment.speaker.value} → {speaker.value}")
        return True

    def split(self, index: int, word_index: int) -> bool:
        """Split a turn before its word `word_index` (counted in the turn's text)."""
        segment = self._check(index)
        words = words_of(segment)
        if not 0 < word_index < len(words):
            raise FieldkitError(
                "a turn splits between two of its words", "move to a word inside the turn"
            )
        first, second = words[:word_index], words[word_index:]
        self.segments[index : index + 1] = [
            _from_words(segment, first, segment.start, first[-1].end),
            _from_words(segment, second, second[0].start, segment.end),
        ]
        self._note(index, f"split before word {word_index + 1}")
        return True

    def merge(self, index: int) -> bool:
        """Merge a turn with the next one (same speaker only: change the speaker first)."""
        self._check(index)
        if index + 1 >= len(self.segments):
            raise FieldkitError("the last turn has no next turn to merge with", "choose another")
        self._merge_pair(index, "merged with the next turn")
        return True

    def merge_previous(self, index: int) -> int:
        """Merge a turn into the one before it (same speaker only); returns the merged turn's
        index."""
        self._check(index)
        if index == 0:
            raise FieldkitError(
                "the first turn has no turn before it to merge with", "choose another"
            )
        self._merge_pair(index - 1, "merged with the previous turn")
        return index - 1

    def _merge_pair(self, index: int, what: str) -> None:
        segment, following = self.segments[index], self.segments[index + 1]
        if following.speaker is not segment.speaker:
            raise FieldkitError(
                "only turns of the same speaker merge",
                "change one turn's speaker first (s), then merge",
            )
        words = words_of(segment) + words_of(following)
        merged = _from_words(segment, words, segment.start, max(segment.end, following.end))
        self.segments[index : index + 2] = [merged]
        self._note(index, what)

    def insert_mark(self, at: float, mark: str) -> int:
        """Put [inaudible] or [crosstalk] at time `at`: inside the turn that spans it, between
        its words, or as a turn of its own in a gap. Returns the turn's index."""
        if mark not in MARKS:
            raise FieldkitError(f"unknown mark {mark!r}", f"use one of {', '.join(MARKS)}")
        index = _turn_at(self.segments, at)
        if index is None:
            if not self.editable:
                self._check(0)
            starts = [s.start for s in self.segments]
            index = bisect.bisect_right(starts, at)
            word = Word(at, at, mark, TYPED_PROBABILITY, Speaker.UNKNOWN)
            self.segments.insert(index, Segment(at, at, Speaker.UNKNOWN, mark, (word,)))
            self._note(index, f"{mark} inserted as a turn")
            return index
        segment = self._check(index)
        words = list(words_of(segment))
        position = bisect.bisect_left([w.start for w in words], at)  # before the cursor word
        words.insert(position, Word(at, at, mark, TYPED_PROBABILITY, segment.speaker))
        self.segments[index] = _from_words(segment, tuple(words), segment.start, segment.end)
        self._note(index, f"{mark} inserted")
        return index


def _from_words(segment: Segment, words: Sequence[Word], start: float, end: float) -> Segment:
    return replace(
        segment,
        start=start,
        end=max(start, end),
        text=" ".join(w.word for w in words),
        words=tuple(replace(w, speaker=segment.speaker) for w in words),
    )


def _turn_at(segments: Sequence[Segment], at: float) -> int | None:
    for index, segment in enumerate(segments):
        if segment.start <= at <= segment.end:
            return index
    return None


def open_review(study: Study, participant_id: str, wave: str | None = None) -> ReviewDraft:
    interview = find_interview(study, participant_id, wave)
    return draft_for(study, interview)


def draft_for(study: Study, interview: InterviewRow) -> ReviewDraft:
    row = latest_revision(study, interview)
    return ReviewDraft(
        interview=interview,
        base_revision=row.revision,
        state=approval_state(study, interview.id),
        segments=Transcripts(study.db).segments(row.id),
    )


def save_review(study: Study, draft: ReviewDraft, author: str | None = None) -> int:
    """Store the draft as a revision (kind "review"); returns its number. An edit after sign-off
    sends the transcript back to "needs review"."""
    if not draft.dirty:
        raise FieldkitError("nothing to save: no changes since the last revision", "")
    summary = _summary(draft.changes)
    with study.transaction():  # checked under the write lock: a send cannot slip in between
        state = approval_state(study, draft.interview.id)
        if state not in EDITABLE_STATES:
            raise WorkflowError(
                f"the transcript {situation(state)}: it can no longer be edited",
                "nothing was saved",
            )
        latest = latest_revision(study, draft.interview)
        if latest.revision != draft.base_revision:
            raise WorkflowError(
                f"someone saved revision {latest.revision} while you were editing",
                "reopen the transcript and make your changes again",
            )
        row = save_revision(
            study, draft.interview, draft.segments, kind="review", author=author, summary=summary
        )
        reopen_for_review(
            study, draft.interview, f"edited after sign-off (revision {row.revision})"
        )
        ReviewDrafts(study.db).delete(draft.interview.id)  # saved: nothing left to restore
    draft.base_revision = row.revision
    draft.state = approval_state(study, draft.interview.id)
    draft.changes.clear()
    return row.revision


# -- drafts: unsaved edits kept in the study database ------------------------------------------


@dataclass(frozen=True)
class KeptDraft:
    """Unsaved edits found on opening a transcript."""

    changes: int
    saved_at: str
    base_revision: int
    latest_revision: int
    editable: bool

    @property
    def restorable(self) -> bool:
        """False when a revision was saved since, or the transcript was sent meanwhile."""
        return self.editable and self.base_revision == self.latest_revision

    def describe(self) -> str:
        when = self.saved_at.replace("T", " ")[:16]
        return f"{counted(self.changes, 'unsaved change')} from {when}"


def keep_draft(study: Study, draft: ReviewDraft) -> None:
    """Keep the draft's unsaved edits (or forget them when there are none)."""
    drafts = ReviewDrafts(study.db)
    with study.transaction():
        if not draft.dirty:
            drafts.delete(draft.interview.id)
            return
        drafts.put(
            draft.interview.id,
            draft.base_revision,
            draft.segments,
            draft.changes,
            now_iso(),
            study.actor,
        )


def kept_draft(study: Study, interview: InterviewRow) -> KeptDraft | None:
    row = ReviewDrafts(study.db).get(interview.id)
    if row is None:
        return None
    return KeptDraft(
        changes=len(row.changes),
        saved_at=row.saved_at,
        base_revision=row.base_revision,
        latest_revision=latest_revision(study, interview).revision,
        editable=approval_state(study, interview.id) in EDITABLE_STATES,
    )


def restore_draft(study: Study, interview: InterviewRow) -> ReviewDraft:
    """The transcript with the kept edits on top, as they were when last kept."""
    row = ReviewDrafts(study.db).get(interview.id)
    if row is None:
        raise FieldkitError("there are no unsaved edits to restore", "")
    draft = draft_for(study, interview)
    if not draft.editable or row.base_revision != draft.base_revision:
        raise WorkflowError(
            "the unsaved edits were made on an earlier revision and cannot be restored",
            "discard them and make the changes again on the latest revision",
        )
    draft.segments = row.segments
    draft.changes = list(row.changes)
    draft.edits = len(row.changes)
    return draft


def discard_draft(study: Study, interview: InterviewRow) -> None:
    with study.transaction():
        ReviewDrafts(study.db).delete(interview.id)


def _summary(changes: Sequence[str], shown: int = 8) -> str:
    head = "; ".join(changes[:shown])
    more = len(changes) - shown
    return f"{counted(len(changes), 'change')}: {head}" + (f"; and {more} more" if more > 0 else "")


# -- what the review screen shows besides the text --------------------------------------------


@dataclass(frozen=True)
class QuestionMarker:
    at: float
    label: str  # the schedule's question (or its id when the schedule no longer has it)


def question_markers(study: Study, interview: InterviewRow) -> list[QuestionMarker]:
    """The schedule's questions as asked during the interview (interview_events kind question)."""
    texts: dict[str, str] = {}
    try:
        for _, question in study.schedule().steps():
            texts[question.id] = question.text
    except FieldkitError:
        pass  # a broken schedule file must not stop a review
    return [
        QuestionMarker(e.at, texts.get(e.question_id or "", e.question_id or "question"))
        for e in Events(study.db).for_interview(interview.id, "question")
    ]


def speaker_choices(participant_id: str, current: Speaker) -> list[tuple[Speaker, str]]:
    """What a turn's speaker can be changed to: the two people first (the one the turn is not
    attributed to at the top), "Unknown speaker" last."""
    people = [Speaker.INTERVIEWER, Speaker.PARTICIPANT]
    if current is Speaker.INTERVIEWER:
        people.reverse()
    return [(s, speaker_label(s, participant_id)) for s in (*people, Speaker.UNKNOWN)]


@dataclass(frozen=True)
class UnsureCount:
    total: int  # low-probability words still in the draft (a corrected word no longer counts)
    after: int  # of those, how many come after the cursor
    at: int | None  # the cursor's place among them (1-based), when it is on one

    def describe(self) -> str:
        if not self.total:
            return "no unsure words"
        words = "word" if self.total == 1 else "words"
        place = (
            f"unsure word {self.at} of {self.total}" if self.at else f"{self.total} unsure {words}"
        )
        return f"{place}, {self.after} to go"


def unsure_count(segments: Sequence[Segment], turn: int, word: int | None) -> UnsureCount:
    positions = low_probability_words(segments)
    here = (turn, word if word is not None else -1)
    at = positions.index(here) + 1 if here in positions else None
    return UnsureCount(len(positions), sum(1 for p in positions if p > here), at)


def low_probability_words(segments: Sequence[Segment]) -> list[tuple[int, int]]:
    """(turn, word) positions of the words the model was unsure of, in order."""
    return [
        (i, j)
        for i, segment in enumerate(segments)
        for j, word in enumerate(words_of(segment))
        if word.probability < LOW_PROBABILITY
    ]
