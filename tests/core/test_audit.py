"""The guarded-term audit on constructed transcripts (issue 4's cases)."""

from __future__ import annotations

import json

from fieldkit.core.audit import AuditReport, audit_transcript
from fieldkit.core.guard import GuardEvent, GuardEventKind
from fieldkit.core.models import Segment, Speaker, Word
from fieldkit.core.schedule import GuardedTerm

RECOVERY = GuardedTerm(
    term="recovery",
    forms=("recover", "recovered", "recovering", "recovery-oriented"),
    follow_up_id="recovery-meaning",
    follow_up="You mentioned recovery — what does recovery mean to you?",
)
IV, P, U = Speaker.INTERVIEWER, Speaker.PARTICIPANT, Speaker.UNKNOWN


def seg(start: float, speaker: Speaker, text: str, timed: bool = True) -> Segment:
    """A segment whose words are 0.5 s apart (Whisper style: leading spaces)."""
    words = tuple(
        Word(start + 0.5 * i, start + 0.5 * i + 0.4, f" {w}", 0.9, speaker)
        for i, w in enumerate(text.split())
    )
    end = start + 0.5 * len(words)
    return Segment(start, end, speaker, text, words if timed else ())


def audit(*segments: Segment, live: tuple[GuardEvent, ...] = ()) -> AuditReport:
    return audit_transcript([RECOVERY], segments, live)


def test_interviewer_first_is_a_violation_with_time_and_context() -> None:
    report = audit(
        seg(0.0, IV, "Tell me about the unit."),
        seg(5.0, P, "It is new and busy."),
        seg(10.0, IV, "And would you call it a recovery-oriented place to work at all?"),
        seg(20.0, P, "Yes, I think recovery is central to it."),
    )
    (term,) = report.terms
    assert term.first_used_by == "interviewer"
    assert term.first_used_at == 13.0  # the 7th word, timed from the words
    assert [(v.at, v.speaker) for v in term.violations] == [(13.0, "interviewer")]
    assert "call it a recovery-oriented place to work" in term.violations[0].context
    assert term.raised_at == 21.5
    assert report.speakers_known


def test_participant_first_no_violation_follow_up_asked() -> None:
    report = audit(
        seg(0.0, IV, "What drew you to this job?"),
        seg(4.0, P, "Honestly, I care about people recovering on their own terms."),
        seg(12.0, IV, "You mentioned recovering. What does recovery mean to you?"),
        seg(18.0, P, "Having a life that feels like mine."),
    )
    (term,) = report.terms
    assert term.first_used_by == "participant"
    assert term.first_used_at == 6.5  # the 6th word
    assert term.violations == ()
    assert term.follow_up_asked
    assert term.follow_up_at == 12.0


def test_follow_up_not_asked() -> None:
    report = audit(
        seg(0.0, P, "For me recovery is about hope."),
        seg(6.0, IV, "Thanks. Let's move to the next topic: the team."),
        seg(12.0, P, "The team is great."),
    )
    (term,) = report.terms
    assert term.first_used_by == "participant"
    assert term.violations == ()
    assert not term.follow_up_asked
    assert term.follow_up_at is None


def test_follow_up_before_the_raise_does_not_count() -> None:
    report = audit(
        seg(0.0, IV, "What does recovery mean to you?"),
        seg(5.0, P, "Recovery? Getting back on my feet."),
    )
    (term,) = report.terms
    assert len(term.violations) == 1
    assert not term.follow_up_asked


def test_follow_up_asked_across_two_interviewer_segments() -> None:
    report = audit(
        seg(0.0, P, "I recovered from a lot myself."),
        seg(5.0, IV, "Okay so recovery,"),
        seg(7.0, IV, "what does it mean to you?"),
    )
    assert report.terms[0].follow_up_asked


def test_term_never_used() -> None:
    report = audit(seg(0.0, IV, "What did you discover here?"), seg(3.0, P, "Good people."))
    (term,) = report.terms
    assert term.first_used_by is None
    assert term.first_used_at is None
    assert term.violations == ()
    assert not term.follow_up_asked
    assert term.uses == ()


def test_inflected_forms_and_segment_start_without_words() -> None:
    report = audit(
        seg(30.0, IV, "How do staff help people recover here?", timed=False),
        seg(40.0, P, "They recovered my trust, and I am recovering too.", timed=False),
    )
    (term,) = report.terms
    assert [(u.at, u.speaker, u.form) for u in term.uses] == [
        (30.0, "interviewer", "recover"),
        (40.0, "participant", "recovered"),
        (40.0, "participant", "recovering"),
    ]
    assert [v.at for v in term.violations] == [30.0]


def test_mono_transcript_lists_uses_but_attributes_nothing() -> None:
    report = audit(
        seg(0.0, U, "Would you call this a recovery unit?"),
        seg(5.0, U, "Recovery, yes, that is the idea."),
    )
    (term,) = report.terms
    assert not report.speakers_known
    assert not term.attributable
    assert term.first_used_by is None
    assert term.first_used_at == 2.5
    assert term.violations == ()
    assert not term.follow_up_asked
    assert len(term.uses) == 2
    assert report.notes and "cannot be attributed" in report.notes[0]


def test_unlabelled_use_stops_breach_claims() -> None:
    report = audit(
        seg(0.0, IV, "recovery"),
        seg(5.0, U, "recovery"),
        seg(10.0, IV, "recovery again"),
    )
    (term,) = report.terms
    assert [v.at for v in term.violations] == [0.0]
    assert not term.attributable
    assert report.speakers_known
    assert any("no speaker label" in note for note in report.notes)


def test_json_shape_matches_issue_4() -> None:
    report = audit(
        seg(0.0, IV, "Is it recovery-oriented?"),
        seg(3.0, P, "Recovery is the goal."),
    )
    data = json.loads(json.dumps(report.to_json()))
    (term,) = data["terms"]
    assert {"term", "first_used_by", "first_used_at", "violations", "follow_up_asked"} <= set(term)
    assert term["term"] == "recovery"
    assert term["first_used_by"] == "interviewer"
    assert term["first_used_at"] == 1.0
    assert term["violations"] == [
        {"at": 1.0, "speaker": "interviewer", "context": "Is it recovery-oriented?"}
    ]
    assert term["follow_up_asked"] is False
    assert term["live"]["status"] == "no live events"


def test_live_events_agree_or_differ() -> None:
    transcript = (
        seg(0.0, IV, "Tell me about it."),
        seg(5.0, P, "Well, recovery matters."),
        seg(10.0, IV, "What does recovery mean to you?"),
    )
    agreeing = (
        GuardEvent("recovery", GuardEventKind.RAISED, P, 8.5, source="live"),
        GuardEvent("recovery", GuardEventKind.FOLLOWED_UP, IV, 14.0, source="live"),
    )
    live = audit(*transcript, live=agreeing).terms[0].live
    assert live is not None
    assert live.status == "agree"
    assert live.live_raised_at == 8.5
    assert "(+3 s)" in live.summary

    late_and_silent = (GuardEvent("recovery", GuardEventKind.RAISED, P, 60.0, source="manual"),)
    live = audit(*transcript, live=late_and_silent).terms[0].live
    assert live is not None
    assert live.status == "differ"
    assert "01:00 (manual)" in live.summary
    assert "did not mark the follow-up" in live.summary


def test_live_guard_missed_the_raise() -> None:
    other = (GuardEvent("hope", GuardEventKind.RAISED, P, 1.0),)
    live = audit(seg(5.0, P, "recovery"), live=other).terms[0].live
    assert live is not None
    assert live.status == "differ"
    assert "did not mark it raised" in live.summary
