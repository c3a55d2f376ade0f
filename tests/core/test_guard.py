"""The guarded-term matcher and the per-interview locked → raised → followed-up tracker."""

from __future__ import annotations

import pytest

from fieldkit.core.guard import (
    GuardEvent,
    GuardEventKind,
    GuardTracker,
    TermMatcher,
    TermState,
    context_around,
    format_clock,
    looks_like_follow_up,
)
from fieldkit.core.models import GuardedTerm, Speaker

RECOVERY = GuardedTerm(
    term="recovery",
    forms=("recover", "recovers", "recovered", "recovering", "recovery-oriented"),
    follow_up_id="recovery-meaning",
    follow_up="You mentioned recovery — what does recovery mean to you?",
)
HOPE = GuardedTerm("hope", ("hopeful", "hoping"), "hope-meaning", "What does hope mean to you?")
PEER = GuardedTerm("peer support", (), "peer-meaning", "What is peer support to you?")


def forms_found(text: str, *terms: GuardedTerm) -> list[str]:
    return [m.form for m in TermMatcher(terms or (RECOVERY,)).find(text)]


# -- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Recovery matters to me", ["recovery"]),
        ("I RECOVERED slowly", ["recovered"]),
        ("she is recovering; he recovers", ["recovering", "recovers"]),
        ("to recover.", ["recover"]),
        ("a recovery-oriented unit", ["recovery-oriented"]),
        ("a Recovery-Focused team", ["recovery-focused"]),  # compound not listed: still caught
        ("non-recovery approaches", ["non-recovery"]),
        ("the recovery‑oriented (non-breaking hyphen) ward", ["recovery-oriented"]),
        ("recovery's place", ["recovery"]),
        ("recovery’s place", ["recovery"]),
        ("“recovery”, they said", ["recovery"]),
        ("recovery – so what now", ["recovery"]),  # a spaced dash is punctuation, not a compound
    ],
)
def test_matcher_catches_forms_compounds_case_and_apostrophes(
    text: str, expected: list[str]
) -> None:
    assert forms_found(text) == expected


@pytest.mark.parametrize(
    "text",
    ["discovery", "a discovered fact", "recoveryx", "recovery_plan", "recovery2", "uncover", ""],
)
def test_matcher_ignores_words_that_merely_contain_the_letters(text: str) -> None:
    assert forms_found(text) == []


def test_matcher_offsets_point_at_the_use() -> None:
    text = "So, about recovery-oriented care"
    (match,) = TermMatcher([RECOVERY]).find(text)
    assert text[match.start : match.end] == "recovery-oriented"
    assert match.term == "recovery"


def test_matcher_handles_several_terms_and_multi_word_forms() -> None:
    matcher = TermMatcher([RECOVERY, HOPE, PEER])
    found = matcher.find("Hoping for recovery through Peer  Support and peer-support work")
    assert [(m.term, m.form) for m in found] == [
        ("hope", "hoping"),
        ("recovery", "recovery"),
        ("peer support", "peer  support"),
        ("peer support", "peer-support"),
    ]


def test_context_takes_six_words_either_side() -> None:
    text = (
        "one two three four five six seven recovery eight nine ten eleven twelve thirteen fourteen"
    )
    start = text.index("recovery")
    context = context_around(text, start, start + len("recovery"))
    assert (
        context
        == "… two three four five six seven recovery eight nine ten eleven twelve thirteen …"
    )


def test_format_clock() -> None:
    assert format_clock(492.7) == "08:12"
    assert format_clock(3725) == "1:02:05"
    assert format_clock(-3) == "00:00"


# -- the follow-up heuristic -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("You mentioned recovery — what does recovery mean to you?", True),
        ("So what does recovering mean for you", True),  # question opener, inflected form
        ("You said recovering. Can you tell me more about that?", True),  # "that" points back
        ("You mentioned it earlier, what does that mean to you?", False),  # never says the term
        ("Recovery, right.", False),
        ("Let's move on to the next topic.", False),
    ],
)
def test_follow_up_heuristic(text: str, expected: bool) -> None:
    assert looks_like_follow_up(text, RECOVERY, TermMatcher([RECOVERY])) is expected


# -- the tracker ---------------------------------------------------------------------------


def test_locked_then_raised_by_participant_then_followed_up() -> None:
    tracker = GuardTracker([RECOVERY])
    assert tracker.state("recovery") is TermState.LOCKED
    assert not tracker.is_unlocked(["recovery"])

    events = tracker.observe("I think recovery is a journey", Speaker.PARTICIPANT, 492.0)
    assert [(e.kind, e.speaker, e.at) for e in events] == [
        (GuardEventKind.RAISED, Speaker.PARTICIPANT, 492.0)
    ]
    assert "recovery is a journey" in events[0].context
    assert tracker.state("recovery") is TermState.RAISED
    assert tracker.raised_by("recovery") is Speaker.PARTICIPANT
    assert tracker.raised_at("recovery") == 492.0
    assert tracker.is_unlocked(["recovery"])

    events = tracker.observe(
        "You mentioned recovery, what does recovery mean to you?", Speaker.INTERVIEWER, 500.0
    )
    assert [e.kind for e in events] == [GuardEventKind.FOLLOWED_UP]
    assert tracker.state("recovery") is TermState.FOLLOWED_UP
    assert tracker.followed_up_at("recovery") == 500.0


def test_interviewer_saying_a_locked_term_is_a_breach_and_it_stays_locked() -> None:
    tracker = GuardTracker([RECOVERY])
    events = tracker.observe("Is this a recovery-oriented unit?", Speaker.INTERVIEWER, 17.0)
    assert [e.kind for e in events] == [GuardEventKind.BREACH]
    assert tracker.state("recovery") is TermState.LOCKED
    assert tracker.breaches("recovery") == 1
    assert tracker.raised_by("recovery") is None


def test_unknown_speaker_only_mentions() -> None:
    tracker = GuardTracker([RECOVERY])
    events = tracker.observe("recovery", Speaker.UNKNOWN, 3.0)
    assert [e.kind for e in events] == [GuardEventKind.MENTION]
    assert tracker.state("recovery") is TermState.LOCKED


def test_text_without_terms_yields_no_events() -> None:
    tracker = GuardTracker([RECOVERY])
    assert tracker.observe("I discovered the unit last year", Speaker.PARTICIPANT, 1.0) == []
    assert tracker.observe("Tell me more.", Speaker.INTERVIEWER, 2.0) == []


def test_repeat_uses_after_the_raise_are_mentions() -> None:
    tracker = GuardTracker([RECOVERY])
    tracker.observe("recovery", Speaker.PARTICIPANT, 1.0)
    again = tracker.observe("and recovering again", Speaker.PARTICIPANT, 5.0)
    aside = tracker.observe("Recovery, right.", Speaker.INTERVIEWER, 6.0)
    assert [e.kind for e in again + aside] == [GuardEventKind.MENTION, GuardEventKind.MENTION]
    assert tracker.state("recovery") is TermState.RAISED
    assert tracker.raised_at("recovery") == 1.0


def test_follow_up_split_across_two_live_chunks() -> None:
    tracker = GuardTracker([RECOVERY])
    tracker.observe("recovery is everything", Speaker.PARTICIPANT, 10.0)
    first = tracker.observe("Okay so recovery", Speaker.INTERVIEWER, 20.0)
    second = tracker.observe("what does that mean to you?", Speaker.INTERVIEWER, 25.0)
    assert [e.kind for e in first] == [GuardEventKind.MENTION]
    assert [e.kind for e in second] == [GuardEventKind.FOLLOWED_UP]


def test_split_chunks_too_far_apart_are_not_joined() -> None:
    tracker = GuardTracker([RECOVERY])
    tracker.observe("recovery is everything", Speaker.PARTICIPANT, 10.0)
    tracker.observe("Okay so recovery", Speaker.INTERVIEWER, 20.0)
    later = tracker.observe("what does that mean to you?", Speaker.INTERVIEWER, 60.0)
    assert later == []
    assert tracker.state("recovery") is TermState.RAISED


def test_manual_marks_and_banner() -> None:
    tracker = GuardTracker([RECOVERY, HOPE])
    assert tracker.banner("recovery") == "recovery — not raised by the participant: do not say it"
    event = tracker.mark_raised("recovery", 492.0)
    assert (event.kind, event.source, event.speaker) == (
        GuardEventKind.RAISED,
        "manual",
        Speaker.PARTICIPANT,
    )
    assert tracker.banner("recovery") == (
        "recovery — raised by the participant at 08:12 · ask: "
        "You mentioned recovery — what does recovery mean to you?"
    )
    tracker.mark_raised("recovery", 600.0)  # a second press changes nothing
    assert tracker.raised_at("recovery") == 492.0
    tracker.mark_followed_up("recovery", 610.0)
    assert tracker.banner("recovery") == "recovery — followed up"
    assert tracker.state("hope") is TermState.LOCKED
    assert not tracker.is_unlocked(["recovery", "hope"])


def test_following_up_a_locked_term_is_refused() -> None:
    tracker = GuardTracker([RECOVERY])
    with pytest.raises(ValueError, match="not been raised"):
        tracker.mark_followed_up("recovery", 5.0)
    assert tracker.state("recovery") is TermState.LOCKED


def test_unknown_term_raises_key_error() -> None:
    tracker = GuardTracker([RECOVERY])
    with pytest.raises(KeyError):
        tracker.state("hope")
    with pytest.raises(KeyError):
        tracker.mark_raised("hope", 1.0)
    assert not tracker.is_unlocked(["hope"])


def test_from_events_replays_a_stored_history() -> None:
    live = GuardTracker([RECOVERY, HOPE])
    history: list[GuardEvent] = []
    history += live.observe("recovery first", Speaker.INTERVIEWER, 5.0)
    history += live.observe("I hope to help people recover", Speaker.PARTICIPANT, 30.0)
    history += live.observe("What does recovery mean to you?", Speaker.INTERVIEWER, 40.0)
    history.append(GuardEvent("retired-term", GuardEventKind.RAISED, Speaker.PARTICIPANT, 50.0))

    restored = GuardTracker.from_events([RECOVERY, HOPE], history)
    for term in ("recovery", "hope"):
        assert restored.state(term) is live.state(term)
        assert restored.raised_at(term) == live.raised_at(term)
    assert restored.state("recovery") is TermState.FOLLOWED_UP
    assert restored.state("hope") is TermState.RAISED
    assert restored.breaches("recovery") == 1
    assert restored.banner("hope").startswith("hope — raised by the participant at 00:30")
    assert len(restored.events) == len(history)
