"""When does the interviewer count as having asked the follow-up? (issue 9, item 18)

Only a question, after the participant raised the term, that says the term (or a form of it) and
asks about it: close to the schedule's follow-up, or with a cue such as "mean", "tell me more",
"what is". The same rule serves the transcript audit and the live guard.
"""

from __future__ import annotations

import pytest

from fieldkit.core.audit import audit_transcript
from fieldkit.core.guard import GuardEventKind, GuardTracker, TermMatcher, looks_like_follow_up
from fieldkit.core.models import GuardedTerm, Segment, Speaker

RECOVERY = GuardedTerm(
    term="recovery",
    forms=("recover", "recovers", "recovered", "recovering"),
    follow_up_id="recovery-meaning",
    follow_up="You mentioned recovery — what does recovery mean to you?",
)
GARDEN = GuardedTerm("garden", ("gardens",), "garden-meaning", "What is the garden to you?")
HOW_DESCRIBED = GuardedTerm(
    "hope", ("hopeful",), "hope-words", "How would you put hope into your own words?"
)

NOT_A_FOLLOW_UP = [
    "So you mentioned the garden. What does that mean to you?",  # never says the term
    "Did you recover your bag?",  # says a form, asks about something else
    "What you said about recovery is interesting.",  # not a question
    "Recovery, right.",
    "Recovery means a lot to people here, I think.",  # a statement with a cue word
    "Is recovery important to you?",  # a closed question with no cue
    "You mentioned it earlier, what does that mean to you?",
    "We talked about recovery before. What does the garden look like?",  # no pointing back
]
A_FOLLOW_UP = [
    "You mentioned recovery — what does recovery mean to you?",
    "You mentioned recovery. What does recovery mean to you?",
    "So what does recovering mean for you",  # no question mark, but asked
    "Can you tell me more about recovery?",
    "Tell me more about recovery.",
    "What is recovery, for you?",
    "What’s recovery like for you?",  # curly apostrophe
    "How would you describe recovery?",
    "You used the word recovery. What does that mean to you?",
    "Okay so recovery what does that mean to you?",  # two live chunks read together
]


def follows_up(text: str, term: GuardedTerm = RECOVERY) -> bool:
    return looks_like_follow_up(text, term, TermMatcher([term]))


@pytest.mark.parametrize("text", NOT_A_FOLLOW_UP)
def test_these_do_not_count(text: str) -> None:
    assert not follows_up(text)


@pytest.mark.parametrize("text", A_FOLLOW_UP)
def test_these_count(text: str) -> None:
    assert follows_up(text)


def test_the_garden_asked_about_counts_for_a_garden_term() -> None:
    # The first refusal above is only about the term: for a guarded "garden" it is the probe.
    assert follows_up("So you mentioned the garden. What does that mean to you?", GARDEN)


def test_close_to_the_schedules_own_follow_up_counts_without_a_cue() -> None:
    assert follows_up("How would you put hope in your own words?", HOW_DESCRIBED)
    assert follows_up("Could you put hope into words for me?", HOW_DESCRIBED)
    assert not follows_up("Could you put the chairs away, hopefully?", HOW_DESCRIBED)


def seg(start: float, speaker: Speaker, text: str) -> Segment:
    return Segment(start, start + 3.0, speaker, text)


@pytest.mark.parametrize("question", NOT_A_FOLLOW_UP)
def test_the_audit_does_not_count_them(question: str) -> None:
    report = audit_transcript(
        [RECOVERY],
        [
            seg(0.0, Speaker.PARTICIPANT, "For me recovery is about getting my life back."),
            seg(5.0, Speaker.INTERVIEWER, question),
            seg(9.0, Speaker.PARTICIPANT, "Well, I suppose so."),
        ],
    )
    assert not report.terms[0].follow_up_asked


def test_the_audit_counts_the_probe_after_the_raise_only() -> None:
    segments = [
        seg(0.0, Speaker.PARTICIPANT, "For me recovery is about getting my life back."),
        seg(5.0, Speaker.INTERVIEWER, "You used the word recovery."),
        seg(7.0, Speaker.INTERVIEWER, "What does that mean to you?"),
    ]
    (term,) = audit_transcript([RECOVERY], segments).terms
    assert term.follow_up_asked and term.follow_up_at == 5.0


@pytest.mark.parametrize("question", NOT_A_FOLLOW_UP)
def test_the_live_guard_does_not_mark_them(question: str) -> None:
    tracker = GuardTracker([RECOVERY])
    tracker.observe("My recovery is slow.", Speaker.PARTICIPANT, 10.0)
    events = tracker.observe(question, Speaker.INTERVIEWER, 14.0)
    assert GuardEventKind.FOLLOWED_UP not in [e.kind for e in events]


def test_the_live_guard_marks_a_probe_cut_across_two_chunks() -> None:
    tracker = GuardTracker([RECOVERY])
    tracker.observe("My recovery is slow.", Speaker.PARTICIPANT, 10.0)
    tracker.observe("You used the word recovery.", Speaker.INTERVIEWER, 14.0)
    events = tracker.observe("What does that mean to you?", Speaker.INTERVIEWER, 18.0)
    assert [e.kind for e in events] == [GuardEventKind.FOLLOWED_UP]
