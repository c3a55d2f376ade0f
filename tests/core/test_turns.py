"""The one turn builder and the one speaker labelling (fieldkit.core.turns)."""

from __future__ import annotations

from fieldkit.core.models import Segment, Speaker, Turn
from fieldkit.core.turns import (
    INTERVIEWER_LABEL,
    UNKNOWN_LABEL,
    build_turns,
    speaker_label,
    speaker_labels,
)

IV, P, U = Speaker.INTERVIEWER, Speaker.PARTICIPANT, Speaker.UNKNOWN


def seg(start: float, end: float, speaker: Speaker, text: str) -> Segment:
    return Segment(start, end, speaker, text)


def test_consecutive_segments_of_one_speaker_make_one_turn() -> None:
    turns = build_turns(
        [
            seg(0, 3, IV, "How did you start?"),
            seg(3, 6, P, " I applied  in March."),
            seg(6, 9, P, "Then I   started."),
            seg(9, 12, IV, "And now?"),
        ]
    )
    assert turns == [
        Turn(0, 3, IV, "How did you start?", (0,)),
        Turn(3, 9, P, "I applied in March. Then I started.", (1, 2)),
        Turn(9, 12, IV, "And now?", (3,)),
    ]


def test_segments_are_read_in_time_order() -> None:
    turns = build_turns([seg(5, 8, P, "second"), seg(0, 4, P, "first"), seg(9, 10, IV, "third")])
    assert [(t.start, t.end, t.text, t.segments) for t in turns] == [
        (0, 8, "first second", (1, 0)),
        (9, 10, "third", (2,)),
    ]


def test_a_blank_segment_neither_starts_nor_breaks_a_turn_but_belongs_to_one() -> None:
    segments = [
        seg(0, 1, U, "  "),  # before any text: belongs to the first turn
        seg(1, 3, IV, "So, recovery."),
        seg(3, 3.5, U, ""),
        seg(3.5, 6, IV, "What does it mean to you?"),
        seg(6, 7, P, "A life of my own."),
        seg(7, 8, P, " "),
    ]
    turns = build_turns(segments)
    assert [(t.speaker, t.text, t.segments) for t in turns] == [
        (IV, "So, recovery. What does it mean to you?", (0, 1, 2, 3)),
        (P, "A life of my own.", (4, 5)),
    ]
    assert (turns[0].start, turns[0].end) == (1, 6)  # the text's times, not the blank's
    assert sorted(i for t in turns for i in t.segments) == list(range(len(segments)))


def test_no_text_no_turns() -> None:
    assert build_turns([]) == []
    assert build_turns([seg(0, 1, IV, " ")]) == []


def test_one_label_per_speaker() -> None:
    assert speaker_label(IV, "INTSTA001-PEER") == INTERVIEWER_LABEL == "Interviewer"
    assert speaker_label(P, "INTSTA001-PEER") == "INTSTA001-PEER"
    assert speaker_label(U, "INTSTA001-PEER") == UNKNOWN_LABEL == "Unknown speaker"
    assert speaker_labels("P1") == ("Interviewer", "P1", "Unknown speaker")
