"""The approval workflow's rules: every transition, legal and illegal; deadlines; decisions."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from fieldkit.core.workflow import (
    DECISIONS,
    EDITABLE_STATES,
    FINAL_STATES,
    LEGAL_MOVES,
    QUEUE_ORDER,
    TranscriptState,
    can_move,
    check_move,
    check_no_response,
    days_waiting,
    deadline_for,
    decision_word,
    is_overdue,
    is_ready_for_analysis,
    parse_decision,
    queue_key,
)
from fieldkit.errors import WorkflowError

S = TranscriptState
LEGAL = {
    (S.TRANSCRIBING, S.NEEDS_REVIEW),
    (S.NEEDS_REVIEW, S.REVIEWED),
    (S.REVIEWED, S.SENT),
    (S.REVIEWED, S.NEEDS_REVIEW),
    (S.SENT, S.RETURNED),
    (S.SENT, S.NO_RESPONSE),
    (S.SENT, S.WITHDRAWN),
    (S.SENT, S.APPROVED),
    (S.RETURNED, S.APPROVED),
    (S.RETURNED, S.APPROVED_WITH_CHANGES),
    (S.RETURNED, S.WITHDRAWN),
    # a participant may withdraw after a decision too (issue 9: deletion at every stage)
    (S.APPROVED, S.WITHDRAWN),
    (S.APPROVED_WITH_CHANGES, S.WITHDRAWN),
    (S.NO_RESPONSE, S.WITHDRAWN),
}
ALL_PAIRS = list(itertools.product(TranscriptState, TranscriptState))


def test_every_state_has_its_moves_listed() -> None:
    assert set(LEGAL_MOVES) == set(TranscriptState)
    assert set(QUEUE_ORDER) == set(TranscriptState)


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_legal_moves_are_allowed(current: S, target: S) -> None:
    assert can_move(current, target)
    check_move(current, target)  # does not raise


@pytest.mark.parametrize(
    ("current", "target"), [p for p in ALL_PAIRS if p not in LEGAL], ids=lambda s: s.name
)
def test_illegal_moves_are_refused_with_one_line(current: S, target: S) -> None:
    assert not can_move(current, target)
    with pytest.raises(WorkflowError) as caught:
        check_move(current, target, "the transcript of P1 (commencement)")
    line = caught.value.one_line()
    assert "\n" not in line
    assert line.startswith("the transcript of P1 (commencement) ")
    # plain words, not the state machine's vocabulary
    assert "cannot become" not in line and f"is {current.value}:" not in line
    assert caught.value.hint


def test_refusals_say_what_to_do_in_plain_words() -> None:
    def refusal(current: S, target: S) -> str:
        with pytest.raises(WorkflowError) as caught:
            check_move(current, target, "this transcript")
        return caught.value.one_line()

    assert refusal(S.NEEDS_REVIEW, S.SENT).startswith(
        "this transcript still needs review; sign it off before sending. "
    )
    assert "fieldkit approval reviewed" in refusal(S.NEEDS_REVIEW, S.SENT)
    assert refusal(S.REVIEWED, S.REVIEWED).startswith("this transcript is already signed off")
    assert "stored only once" in refusal(S.RETURNED, S.RETURNED)
    assert "a returned copy can no longer be stored" in refusal(S.APPROVED, S.RETURNED)
    assert "not sent yet" in refusal(S.REVIEWED, S.RETURNED)
    assert "still being transcribed" in refusal(S.TRANSCRIBING, S.REVIEWED)


def test_decided_states_go_nowhere_but_withdrawn() -> None:
    for state in FINAL_STATES:
        assert LEGAL_MOVES[state] <= {S.WITHDRAWN}
        with pytest.raises(WorkflowError) as caught:
            check_move(state, S.NEEDS_REVIEW)
        assert "decided" in caught.value.one_line()
    assert LEGAL_MOVES[S.WITHDRAWN] == frozenset()
    with pytest.raises(WorkflowError, match="was already withdrawn"):
        check_move(S.WITHDRAWN, S.WITHDRAWN)


@pytest.mark.parametrize("state", [S.NEEDS_REVIEW, S.REVIEWED])
@pytest.mark.parametrize("decision", sorted(FINAL_STATES))
def test_decisions_before_sending_are_refused_with_the_reason(state: S, decision: S) -> None:
    with pytest.raises(WorkflowError) as caught:
        check_move(state, decision)
    assert "after the participant's copy is sent" in caught.value.one_line()


def test_approved_with_changes_needs_the_returned_copy() -> None:
    with pytest.raises(WorkflowError) as caught:
        check_move(S.SENT, S.APPROVED_WITH_CHANGES)
    assert "fieldkit approval receive" in caught.value.hint


def test_decision_words() -> None:
    assert {parse_decision(w) for w in DECISIONS} == set(FINAL_STATES)
    assert parse_decision(" Approved-With-Changes ") is S.APPROVED_WITH_CHANGES
    for state in FINAL_STATES:
        assert parse_decision(decision_word(state)) is state
    with pytest.raises(WorkflowError, match="unknown decision 'maybe'"):
        parse_decision("maybe")


def test_deadlines_and_overdue() -> None:
    sent = dt.date(2026, 3, 1)
    deadline = deadline_for(sent, 14)
    assert deadline == dt.date(2026, 3, 15)
    assert not is_overdue(S.SENT, deadline, dt.date(2026, 3, 15))  # the last day still counts
    assert is_overdue(S.SENT, deadline, dt.date(2026, 3, 16))
    assert not is_overdue(S.RETURNED, deadline, dt.date(2026, 4, 1))
    assert not is_overdue(S.SENT, None, dt.date(2026, 4, 1))
    with pytest.raises(WorkflowError, match="until 2026-03-15"):
        check_no_response(deadline, dt.date(2026, 3, 15))
    check_no_response(deadline, dt.date(2026, 3, 16))
    assert days_waiting(sent, dt.date(2026, 3, 4)) == 3
    assert days_waiting(sent, dt.date(2026, 2, 1)) == 0


def test_queue_order_puts_overdue_first_then_longest_waiting() -> None:
    items = [
        (S.APPROVED, False, 30),
        (S.NEEDS_REVIEW, False, 2),
        (S.SENT, True, 20),
        (S.NEEDS_REVIEW, False, 9),
        (S.SENT, True, 40),
        (S.RETURNED, False, 1),
    ]
    ordered = sorted(items, key=lambda i: queue_key(*i))
    assert ordered[:2] == [(S.SENT, True, 40), (S.SENT, True, 20)]
    assert ordered[2] == (S.RETURNED, False, 1)
    assert ordered[3:5] == [(S.NEEDS_REVIEW, False, 9), (S.NEEDS_REVIEW, False, 2)]
    assert ordered[-1] == (S.APPROVED, False, 30)


def test_ready_for_analysis_follows_the_policy() -> None:
    assert is_ready_for_analysis(S.APPROVED, False)
    assert is_ready_for_analysis(S.APPROVED_WITH_CHANGES, False)
    assert not is_ready_for_analysis(S.NO_RESPONSE, False)
    assert is_ready_for_analysis(S.NO_RESPONSE, True)
    for state in set(TranscriptState) - FINAL_STATES:
        assert not is_ready_for_analysis(state, True)
    assert not is_ready_for_analysis(S.WITHDRAWN, True)
    assert {S.NEEDS_REVIEW, S.REVIEWED} == EDITABLE_STATES
