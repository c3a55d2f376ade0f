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
from pathlib import Path

from fieldkit.core.diff import TYPED_PROBABILITY, diff_text, edit_turn, summarize, words_of
from fieldkit.core.guard import format_clock
from fieldkit.core.models import Segment, Speaker, Word
from fieldkit.core.workflow import EDITABLE_STATES, TranscriptState
from fieldkit.errors import FieldkitError, WorkflowError
from fieldkit.services.approval import approval_state, reopen_for_review
from fieldkit.services.revisions import latest_revision, save_revision
from fieldkit.services.study import Study
from fieldkit.services.transcription import find_interview
from fieldkit.store.repo import Events, InterviewRow, Recordings, Transcripts

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

    @property
    def dirty(self) -> bool:
        return bool(self.changes)

    @property
    def editable(self) -> bool:
        return self.state in EDITABLE_STATES

    def _check(self, index: int) -> Segment:
        if not self.editable:
            raise WorkflowError(
                f"the transcript is {self.state.value}: it can no longer be edited",
                "reviewers edit before the participant's copy is sent",
            )
        if not 0 <= index < len(self.segments):
            raise FieldkitError(f"there is no turn {index + 1}", "choose a turn in the list")
        return self.segments[index]

    def _note(self, index: int, what: str) -> None:
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
        segment = self._check(index)
        if index + 1 >= len(self.segments):
            raise FieldkitError("the last turn has no next turn to merge with", "choose another")
        following = self.segments[index + 1]
        if following.speaker is not segment.speaker:
            raise FieldkitError(
                "only turns of the same speaker merge",
                "change one turn's speaker first (s), then merge",
            )
        words = words_of(segment) + words_of(following)
        merged = _from_words(segment, words, segment.start, max(segment.end, following.end))
        self.segments[index : index + 2] = [merged]
        self._note(index, "merged with the next turn")
        return True

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
                f"the transcript is {state.value}: it can no longer be edited", "nothing was saved"
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
    draft.base_revision = row.revision
    draft.state = approval_state(study, draft.interview.id)
    draft.changes.clear()
    return row.revision


def _summary(changes: Sequence[str], shown: int = 8) -> str:
    head = "; ".join(changes[:shown])
    more = len(changes) - shown
    return f"{len(changes)} change(s): {head}" + (f"; and {more} more" if more > 0 else "")


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


def recording_for(study: Study, interview: InterviewRow, at: float) -> tuple[Path, float]:
    """The audio file that holds interview time `at`, and `at` in that file's own time."""
    recordings = Recordings(study.db).for_interview(interview.id)
    if not recordings:
        raise FieldkitError(
            f"interview {interview.participant_id} ({interview.wave}) has no recording",
            "the transcript can still be reviewed without sound",
        )
    chosen = recordings[0]
    for recording in recordings:
        if recording.offset_s <= at:
            chosen = recording
    return study.paths.absolute(chosen.path), max(0.0, at - chosen.offset_s)


def low_probability_words(segments: Sequence[Segment]) -> list[tuple[int, int]]:
    """(turn, word) positions of the words the model was unsure of, in order."""
    return [
        (i, j)
        for i, segment in enumerate(segments)
        for j, word in enumerate(words_of(segment))
        if word.probability < LOW_PROBABILITY
    ]
