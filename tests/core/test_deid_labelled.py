"""Issue 9 item 21: precision and recall on a labelled set of interview sentences
(tests/data/deid_labelled.yaml, scored by tests/core/deid_labelled.py; the README's figures come
from benchmarks/bench_deid.py on the same set).

Listed identifiers must all be found; pattern classes at least 95 %; no ordinary sentence may
change."""

from __future__ import annotations

import pytest

from fieldkit.core.deid import LIST_CATEGORIES, Identifier, remaining_identifiers

from .deid_labelled import FORMS, PATTERN_CATEGORIES, Score, Sentence, deidentified, load, score

Labelled = tuple[list[Identifier], list[Sentence]]
MIN_SENTENCES = 60
MIN_PATTERN_RECALL = 0.95


@pytest.fixture(scope="module")
def labelled() -> Labelled:
    return load()


@pytest.fixture(scope="module")
def result(labelled: Labelled) -> Score:
    return score(*labelled)


def test_the_set_covers_every_class_in_both_forms(labelled: Labelled) -> None:
    _, sentences = labelled
    assert len(sentences) >= MIN_SENTENCES
    seen = {(c, s.form) for s in sentences for _, _, c in s.expected}
    for category in (*LIST_CATEGORIES, *PATTERN_CATEGORIES):
        for form in FORMS:
            assert (category, form) in seen, f"no {form} example of {category.value}"
    with_numbers = [s for s in sentences if s.ordinary and any(ch.isdigit() for ch in s.text)]
    assert len(with_numbers) >= 20


def test_every_listed_identifier_is_found(result: Score) -> None:
    for category in LIST_CATEGORIES:
        assert result.by_class[category].recall == 1.0, "\n".join(result.misses)


def test_pattern_classes_are_found(result: Score) -> None:
    for category in PATTERN_CATEGORIES:
        recall = result.by_class[category].recall
        assert recall >= MIN_PATTERN_RECALL, f"{category.value}: {recall:.2f}\n" + "\n".join(
            result.misses
        )


def test_no_ordinary_sentence_changes(result: Score) -> None:
    assert result.changed_ordinary == []


def test_no_listed_identifier_is_left_after_deidentification(
    labelled: Labelled,
) -> None:
    """What the export's last check would say about each de-identified sentence."""
    identifiers, sentences = labelled
    left = {
        s.text: remaining_identifiers(deidentified(s.text, identifiers), identifiers)
        for s in sentences
    }
    assert {text: names for text, names in left.items() if names} == {}
