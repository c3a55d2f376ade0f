"""The schedule lint reads follow-ups too, and folds text before matching (issue 9, item 19).

A follow-up is asked once its own term is raised; any other guarded term may still be locked
then. A soft hyphen (U+00AD) or full-width letters must not hide a guarded term from the lint or
from the guard.
"""

from __future__ import annotations

import pytest

from fieldkit.core.guard import GuardEventKind, GuardTracker, TermMatcher
from fieldkit.core.models import GuardedTerm, Speaker
from fieldkit.core.schedule import parse_schedule

SOFT = "\u00ad"
FULL_WIDTH_RECOVERY = "ｒｅｃｏｖｅｒｙ"

RECOVERY = GuardedTerm("recovery", ("recover",), "recovery-meaning", "What is recovery to you?")
HOPE = GuardedTerm("hope", ("hopeful",), "hope-meaning", "What does hope mean to you?")


def schedule_text(
    recovery_follow_up: str = "You mentioned recovery: what does recovery mean to you?",
    hope_follow_up: str = "What does hope mean to you?",
    question: str = "How has your week been?",
) -> str:
    return f"""\
id: s
title: S
guarded_terms:
  - term: recovery
    forms: [recover, recovering]
    follow_up:
      id: recovery-meaning
      text: "{recovery_follow_up}"
  - term: hope
    forms: [hopeful]
    follow_up:
      id: hope-meaning
      text: "{hope_follow_up}"
topics:
  - id: t
    title: T
    questions:
      - id: q
        text: "{question}"
"""


def problems(text: str) -> list[tuple[int, str]]:
    _, found = parse_schedule(text, "s.yaml")
    return [(p.line, p.message) for p in found]


def test_a_follow_up_may_say_its_own_term_in_any_form() -> None:
    assert problems(schedule_text("So recovering, or recovery: what is that like for you?")) == []


def test_a_follow_up_may_not_say_another_guarded_term() -> None:
    found = problems(schedule_text("Does recovery make you hopeful?"))
    assert len(found) == 1, found
    line, message = found[0]
    assert line == 8  # the follow-up's text
    assert "the follow-up of guarded term 'recovery' says 'hopeful'" in message
    assert "(guarded term 'hope')" in message
    assert "may still be locked" in message


def test_each_follow_up_is_checked() -> None:
    found = problems(schedule_text(hope_follow_up="Is hope part of your recovery?"))
    assert [(line, "follow-up of guarded term 'hope'" in m) for line, m in found] == [(13, True)]


def test_a_multi_line_follow_up_points_at_the_line_with_the_term() -> None:
    text = schedule_text().replace(
        '      text: "What does hope mean to you?"',
        "      text: >-\n        What does hope mean to you,\n        and to your recovery?",
    )
    found = problems(text)
    assert [line for line, _ in found] == [15]


def test_a_soft_hyphen_does_not_hide_a_term_from_the_lint() -> None:
    found = problems(schedule_text(question=f"How is your re{SOFT}covery going?"))
    assert len(found) == 1, found
    assert "question 'q' says 'recovery' (guarded term 'recovery')" in found[0][1]


def test_full_width_letters_do_not_hide_a_term_from_the_lint() -> None:
    found = problems(schedule_text(question=f"Is {FULL_WIDTH_RECOVERY} going well?"))
    assert len(found) == 1, found
    assert "says 'recovery'" in found[0][1]
    found = problems(schedule_text("Does recovery make you ｈｏｐｅｆｕｌ?"))
    assert len(found) == 1 and "(guarded term 'hope')" in found[0][1], found


def test_a_soft_hyphen_in_a_listed_form_is_the_same_form() -> None:
    text = schedule_text().replace("forms: [hopeful]", f"forms: [hopeful, re{SOFT}cover]")
    found = problems(text)
    assert any("form 'recover' belongs to both 'recovery' and 'hope'" in m for _, m in found)


@pytest.mark.parametrize(
    ("text", "said", "form"),
    [
        (f"my re{SOFT}covery matters", f"re{SOFT}covery", "recovery"),
        (f"my {FULL_WIDTH_RECOVERY} matters", FULL_WIDTH_RECOVERY, "recovery"),
        ("a recovery\u2010oriented ward", "recovery\u2010oriented", "recovery-oriented"),
        ("a recovery\u2013oriented ward", "recovery\u2013oriented", "recovery-oriented"),
        (f"to RE{SOFT}COVER", f"RE{SOFT}COVER", "recover"),
    ],
)
def test_the_guard_matcher_folds_soft_hyphens_full_width_letters_and_dashes(
    text: str, said: str, form: str
) -> None:
    (found,) = TermMatcher([RECOVERY]).find(text)
    assert text[found.start : found.end] == said  # offsets into the text as given
    assert found.form == form


def test_the_guard_raises_a_term_written_with_a_soft_hyphen() -> None:
    tracker = GuardTracker([RECOVERY, HOPE])
    events = tracker.observe(f"My re{SOFT}covery is slow.", Speaker.PARTICIPANT, 12.0)
    assert [(e.term, e.kind) for e in events] == [("recovery", GuardEventKind.RAISED)]
    events = tracker.observe("I feel ｈｏｐｅｆｕｌ now.", Speaker.INTERVIEWER, 15.0)
    assert [(e.term, e.kind) for e in events] == [("hope", GuardEventKind.BREACH)]
