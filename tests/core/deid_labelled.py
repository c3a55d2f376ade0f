"""The labelled de-identification set (tests/data/deid_labelled.yaml): loading and scoring.

Shared by tests/core/test_deid_labelled.py and benchmarks/bench_deid.py, so the figures in the
README and the test's thresholds come from the same counting.

A detection counts as right only if both its span and its class are the labelled ones; a
detection with the wrong span or class counts once as a false alarm (for its class) and once as
a miss (for the labelled class).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fieldkit.core.deid import LIST_CATEGORIES, Category, Identifier, apply, detect, suggest
from fieldkit.core.models import Segment, Speaker

LABELLED = Path(__file__).resolve().parents[1] / "data" / "deid_labelled.yaml"
PATTERN_CATEGORIES = tuple(c for c in Category if c not in LIST_CATEGORIES)
FORMS = ("asr", "typed")
PARTS = {"dev": "sentences", "held-out": "held_out"}  # part → its list in the YAML file

Span = tuple[int, int, Category]


@dataclass(frozen=True)
class Sentence:
    text: str
    form: str  # "asr" or "typed"
    expected: tuple[Span, ...]
    part: str = "dev"  # "dev": written while tuning the patterns; "held-out": written after

    @property
    def ordinary(self) -> bool:
        return not self.expected


def _spans(text: str, labels: Sequence[Sequence[str]]) -> tuple[Span, ...]:
    """Each [class, words] label located in `text`, searching on from the previous one."""
    spans: list[Span] = []
    position = 0
    for category, words in labels:
        start = text.find(words, position)
        if start < 0:
            raise ValueError(f"{words!r} is not in {text!r} (after character {position})")
        spans.append((start, start + len(words), Category(category)))
        position = start + len(words)
    return tuple(spans)


def load(path: Path = LABELLED) -> tuple[list[Identifier], list[Sentence]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    identifiers = [Identifier(text, Category(category)) for category, text in data["identifiers"]]
    sentences = []
    for part, key in PARTS.items():
        for item in data.get(key) or []:
            if item["form"] not in FORMS:
                raise ValueError(f"form {item['form']!r} of {item['text']!r} is not in {FORMS}")
            spans = _spans(item["text"], item["expect"])
            sentences.append(Sentence(item["text"], item["form"], spans, part))
    return identifiers, sentences


@dataclass
class Tally:
    right: int = 0
    false_alarms: int = 0
    misses: int = 0

    @property
    def labelled(self) -> int:
        return self.right + self.misses

    @property
    def precision(self) -> float:
        found = self.right + self.false_alarms
        return self.right / found if found else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.labelled if self.labelled else 1.0


@dataclass
class Score:
    by_class: dict[Category, Tally] = field(default_factory=lambda: {c: Tally() for c in Category})
    by_form: dict[str, Tally] = field(default_factory=lambda: {f: Tally() for f in FORMS})
    misses: list[str] = field(default_factory=list)  # "class 'span' in 'sentence'"
    false_alarms: list[str] = field(default_factory=list)
    changed_ordinary: list[str] = field(default_factory=list)  # "before → after"
    sentences: int = 0
    ordinary: int = 0

    def total(self, categories: Sequence[Category]) -> Tally:
        tallies = [self.by_class[c] for c in categories]
        return Tally(
            sum(t.right for t in tallies),
            sum(t.false_alarms for t in tallies),
            sum(t.misses for t in tallies),
        )


def deidentified(text: str, identifiers: Sequence[Identifier]) -> str:
    segments = [Segment(0.0, 1.0, Speaker.PARTICIPANT, text)]
    return apply(segments, suggest(segments, identifiers))[0].text


def score(identifiers: Sequence[Identifier], sentences: Sequence[Sentence]) -> Score:
    result = Score(sentences=len(sentences), ordinary=sum(s.ordinary for s in sentences))
    for sentence in sentences:
        found = {(s, e, c) for s, e, c, _, _ in detect(sentence.text, identifiers)}
        expected = set(sentence.expected)
        for _, _, category in sorted(found & expected):
            result.by_class[category].right += 1
            result.by_form[sentence.form].right += 1
        for start, end, category in sorted(found - expected):
            result.by_class[category].false_alarms += 1
            result.by_form[sentence.form].false_alarms += 1
            words = sentence.text[start:end]
            result.false_alarms.append(f"{category.value} {words!r} in {sentence.text!r}")
        for start, end, category in sorted(expected - found):
            result.by_class[category].misses += 1
            result.by_form[sentence.form].misses += 1
            words = sentence.text[start:end]
            result.misses.append(f"{category.value} {words!r} in {sentence.text!r}")
        if sentence.ordinary:
            after = deidentified(sentence.text, identifiers)
            if after != sentence.text:
                result.changed_ordinary.append(f"{sentence.text!r} → {after!r}")
    return result
