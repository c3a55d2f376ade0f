"""Counts and states in plain words: "1 turn", "2 turns", "no changes", "has ended"."""

from __future__ import annotations

import pytest

from fieldkit.core.diff import DiffSummary
from fieldkit.core.models import InterviewStatus
from fieldkit.core.wording import counted, interview_status_phrase


@pytest.mark.parametrize(
    ("n", "expected"), [(0, "0 turns"), (1, "1 turn"), (2, "2 turns"), (12, "12 turns")]
)
def test_a_count_agrees_with_its_noun(n: int, expected: str) -> None:
    assert counted(n, "turn") == expected


def test_an_irregular_plural_is_given() -> None:
    assert counted(1, "note or marker", "notes or markers") == "1 note or marker"
    assert counted(3, "note or marker", "notes or markers") == "3 notes or markers"


def test_a_word_diff_is_described_without_brackets() -> None:
    assert DiffSummary(deleted=0, inserted=0).describe() == "no changes"
    assert DiffSummary(deleted=1, inserted=2).describe() == "1 word deleted, 2 words added"


def test_every_interview_status_reads_as_plain_words() -> None:
    phrases = {status: interview_status_phrase(status) for status in InterviewStatus}
    assert phrases[InterviewStatus.ENDED] == "has ended"
    assert phrases[InterviewStatus.INTERRUPTED] == "was interrupted"
    assert phrases[InterviewStatus.IN_PROGRESS] == "is in progress"
    stored_names = [f"is {status.value}" for status in InterviewStatus]
    assert not set(stored_names[2:]) & set(phrases.values())  # "is ended", "is withdrawn" …
