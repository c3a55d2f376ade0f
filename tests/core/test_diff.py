"""Word-level diffs, and word times carried across edits."""

from __future__ import annotations

from fieldkit.core.diff import (
    TYPED_PROBABILITY,
    Change,
    DiffOp,
    diff_text,
    edit_turn,
    spread,
    summarize,
    words_of,
)
from fieldkit.core.models import Segment, Speaker, Word

P = Speaker.PARTICIPANT


def segment(start: float, words: list[tuple[str, float, float]], speaker: Speaker = P) -> Segment:
    ws = tuple(Word(s, e, w, 0.9, speaker) for w, s, e in words)
    return Segment(ws[0].start, ws[-1].end, speaker, " ".join(w.word for w in ws), ws)


def test_diff_shows_deletions_and_insertions_in_place() -> None:
    ops = diff_text("I live in Riverton near the river", "I live near the sea front")
    assert ops == [
        DiffOp(Change.EQUAL, ("I", "live")),
        DiffOp(Change.DELETE, ("in", "Riverton")),
        DiffOp(Change.EQUAL, ("near", "the")),
        DiffOp(Change.DELETE, ("river",)),
        DiffOp(Change.INSERT, ("sea", "front")),
    ]
    summary = summarize(ops)
    assert (summary.deleted, summary.inserted) == (3, 2)
    assert summary.describe() == "3 words deleted, 2 words added"
    assert not summarize(diff_text("same words", " same   words ")).changed


def test_spread_shares_time_evenly() -> None:
    words = spread(["a", "b", "c", "d"], 10.0, 12.0)
    assert [(w.start, w.end) for w in words] == [
        (10.0, 10.5),
        (10.5, 11.0),
        (11.0, 11.5),
        (11.5, 12.0),
    ]
    assert all(w.probability == TYPED_PROBABILITY for w in words)
    assert spread([], 1, 2) == []


def test_words_of_falls_back_to_the_text_when_it_no_longer_matches() -> None:
    s = segment(0, [("hello", 0, 1), ("there", 1, 2)])
    assert words_of(s) == s.words
    edited = Segment(0, 2, P, "hello over there", s.words)
    assert [w.word for w in words_of(edited)] == ["hello", "over", "there"]


def test_edit_keeps_unchanged_words_and_times_new_ones_between_neighbours() -> None:
    s = segment(0, [("I", 0.0, 0.2), ("live", 0.3, 0.6), ("in", 0.7, 0.8), ("Riverton", 0.9, 1.5)])
    [edited] = edit_turn([s], "I live by the sea in Riverton")
    assert edited.text == "I live by the sea in Riverton"
    words = {w.word: w for w in edited.words}
    assert words["I"] == s.words[0] and words["Riverton"] == s.words[3]
    new = [w for w in edited.words if w.word in ("by", "the", "sea")]
    assert all(0.6 <= w.start <= w.end <= 0.7 for w in new)
    assert all(w.probability == TYPED_PROBABILITY for w in new)
    assert [w.start for w in edited.words] == sorted(w.start for w in edited.words)
    assert (edited.start, edited.end, edited.speaker) == (s.start, s.end, P)


def test_a_replaced_word_takes_the_old_words_time() -> None:
    s = segment(0, [("my", 0.0, 0.2), ("manager", 0.3, 0.8), ("Diane", 0.9, 1.4)])
    [edited] = edit_turn([s], "my manager [name]")
    assert edited.words[-1] == Word(0.9, 1.4, "[name]", TYPED_PROBABILITY, P)


def test_a_turn_of_several_segments_keeps_each_segment() -> None:
    a = segment(0, [("one", 0, 1), ("two", 1, 2)])
    b = segment(3, [("three", 3, 4), ("four", 4, 5)])
    edited = edit_turn([a, b], "one two and three four")
    assert [s.text for s in edited] == ["one two and", "three four"]
    assert edited[1] == b  # untouched: the very same segment
    gone = edit_turn([a, b], "three four")
    assert gone == [b]  # a segment left without words goes
    assert edit_turn([a, b], "") == []


def test_deleting_the_first_words_shrinks_the_segment() -> None:
    s = segment(0, [("well", 0.0, 0.4), ("I", 0.5, 0.6), ("think", 0.7, 1.0)])
    [edited] = edit_turn([s], "I think")
    assert (edited.start, edited.end) == (0.5, 1.0)
    assert edited.words == s.words[1:]
