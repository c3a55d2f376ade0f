"""The report's wording: units that agree with their numbers, and a methods paragraph that
stays true when every interview was withdrawn."""

from __future__ import annotations

from fieldkit.core.report import (
    InterviewFacts,
    ParticipantFacts,
    build_report,
    count_noun,
    is_withdrawn,
    minutes_phrase,
)


def test_units_agree_with_their_numbers() -> None:
    assert minutes_phrase(1.0) == "1 minute"
    assert minutes_phrase(1.04) == "1 minute"  # shown to a tenth: it reads 1
    assert minutes_phrase(2.0) == "2 minutes"
    assert minutes_phrase(1.5) == "1.5 minutes"
    assert minutes_phrase(0.0) == "0 minutes"
    assert count_noun(1, "breach", "breaches") == "1 breach"
    assert count_noun(0, "breach", "breaches") == "0 breaches"
    assert count_noun(2, "transcript") == "2 transcripts"


def test_withdrawn_means_consent_or_transcript_withdrawn() -> None:
    assert is_withdrawn("withdrawn", None)
    assert is_withdrawn("consented", "withdrawn")
    assert not is_withdrawn("consented", "approved")
    assert not is_withdrawn(None, None)


def test_every_interview_withdrawn() -> None:
    people = [ParticipantFacts("P1", "Site 1", "PEER", "withdrawn")]
    interviews = [
        InterviewFacts("P1", "Site 1", "PEER", "commencement", True, 1800.0, "2025-03-03")
    ]
    report = build_report("Study", people, interviews, [])
    assert report.durations.n == 0 and report.interviewed == 0
    assert report.methods == (
        "No interviews remain for analysis. 1 participant withdrew consent after being interviewed."
    )
