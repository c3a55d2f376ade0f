"""Word-level differences between two texts, and carrying word times across an edit.

Pure: used by the review screen (an edited turn keeps the times of the words that did not
change) and by the participant's returned copy (redactions and additions, shown and stored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from enum import StrEnum

from fieldkit.core.models import Segment, Word
from fieldkit.core.wording import counted

# A word a person typed: they are sure of it, so the review screen does not flag it.
TYPED_PROBABILITY = 1.0


class Change(StrEnum):
    EQUAL = "equal"
    DELETE = "delete"
    INSERT = "insert"


@dataclass(frozen=True)
class DiffOp:
    change: Change
    words: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class DiffSummary:
    deleted: int  # words
    inserted: int

    @property
    def changed(self) -> bool:
        return bool(self.deleted or self.inserted)

    def describe(self) -> str:
        if not self.changed:
            return "no changes"
        return f"{counted(self.deleted, 'word')} deleted, {counted(self.inserted, 'word')} added"


def tokenize(text: str) -> list[str]:
    return text.split()


def diff_words(old: Sequence[str], new: Sequence[str]) -> list[DiffOp]:
    """The shortest readable edit from `old` to `new`; a replacement is a deletion then an
    insertion."""
    ops: list[DiffOp] = []
    matcher = SequenceMatcher(a=list(old), b=list(new), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(DiffOp(Change.EQUAL, tuple(old[i1:i2])))
            continue
        if i2 > i1:
            ops.append(DiffOp(Change.DELETE, tuple(old[i1:i2])))
        if j2 > j1:
            ops.append(DiffOp(Change.INSERT, tuple(new[j1:j2])))
    return ops


def diff_text(old: str, new: str) -> list[DiffOp]:
    return diff_words(tokenize(old), tokenize(new))


def summarize(ops: Sequence[DiffOp]) -> DiffSummary:
    return DiffSummary(
        deleted=sum(len(op.words) for op in ops if op.change is Change.DELETE),
        inserted=sum(len(op.words) for op in ops if op.change is Change.INSERT),
    )


def spread(tokens: Sequence[str], start: float, end: float) -> list[Word]:
    """Typed words share the time between `start` and `end` evenly."""
    if not tokens:
        return []
    end = max(start, end)
    step = (end - start) / len(tokens)
    return [
        Word(
            round(start + i * step, 3),
            round(start + (i + 1) * step, 3),
            token,
            TYPED_PROBABILITY,
        )
        for i, token in enumerate(tokens)
    ]


def words_of(segment: Segment) -> tuple[Word, ...]:
    """The segment's words; where its text no longer matches them, the text's words spread over
    the segment's time."""
    tokens = tokenize(segment.text)
    if [w.word for w in segment.words] == tokens:
        return segment.words
    return tuple(spread(tokens, segment.start, segment.end))


def realign(
    old: Sequence[tuple[int, Word]], new_tokens: Sequence[str], start: float, end: float
) -> list[tuple[int, Word]]:
    """Carry (owner, word) pairs across an edit to `new_tokens`.

    Unchanged words keep their owner (a segment index), time and probability. A typed word takes
    the owner of the word before it (or after it, at the start) and shares the time of the words
    it replaces, or the gap it was typed into."""
    matcher = SequenceMatcher(a=[w.word for _, w in old], b=list(new_tokens), autojunk=False)
    result: list[tuple[int, Word]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.extend(old[i1:i2])
            continue
        typed = new_tokens[j1:j2]
        if not typed:
            continue  # deleted words simply go
        if i2 > i1:  # replaced: the typed words share the old words' time
            owner = old[i1][0]
            lo, hi = old[i1][1].start, old[i2 - 1][1].end
        else:  # inserted into the gap between two words
            before = result[-1] if result else None
            after = old[i1] if i1 < len(old) else None
            owner = before[0] if before else (after[0] if after else 0)
            lo = before[1].end if before else (min(start, after[1].start) if after else start)
            hi = after[1].start if after else max(lo, end)
        result.extend((owner, w) for w in spread(typed, lo, max(lo, hi)))
    return result


def edit_turn(segments: Sequence[Segment], new_text: str) -> list[Segment]:
    """Rewrite consecutive segments (one speaker's turn) as `new_text`.

    Words that did not change keep their segment, time and probability; segments left without
    words are dropped; the rest keep their speaker. An empty text removes the turn."""
    if not segments:
        return []
    old = [(i, w) for i, s in enumerate(segments) for w in words_of(s)]
    start, end = segments[0].start, segments[-1].end
    carried = realign(old, tokenize(new_text), start, end)
    by_owner: dict[int, list[Word]] = {}
    for owner, word in carried:
        by_owner.setdefault(owner, []).append(word)
    result: list[Segment] = []
    for index, segment in enumerate(segments):
        words = by_owner.get(index)
        if not words:
            continue
        original = tuple(replace(w, speaker=segment.speaker) for w in words_of(segment))
        kept = tuple(replace(w, speaker=segment.speaker) for w in words)
        if kept == original:
            result.append(segment)
            continue
        # The turn keeps its edges while its first and last words stay; otherwise it shrinks
        # (or grows) to the words it now has.
        first_kept = bool(original) and kept[0] == original[0]
        last_kept = bool(original) and kept[-1] == original[-1]
        result.append(
            replace(
                segment,
                start=segment.start if first_kept else kept[0].start,
                end=segment.end if last_kept else max(kept[-1].end, kept[0].start),
                text=" ".join(w.word for w in kept),
                words=kept,
            )
        )
    return result
