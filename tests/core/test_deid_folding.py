"""Issue 9 item 20: apostrophes, dashes, periods in abbreviations and diacritics do not matter
when matching listed identifiers (on the list or in the text), and the text outside an
identifier comes out byte for byte as it went in."""

from __future__ import annotations

import pytest

from fieldkit.core.deid import (
    Category,
    Identifier,
    apply,
    canonical_entity,
    detect,
    entity_key,
    remaining_identifiers,
    suggest,
)
from fieldkit.core.folding import fold
from fieldkit.core.models import Segment, Speaker, Word

P = Speaker.PARTICIPANT


def one(text: str, *listed: tuple[str, Category]) -> str:
    segments = [Segment(0.0, 1.0, P, text)]
    identifiers = [Identifier(t, c) for t, c in listed]
    return apply(segments, suggest(segments, identifiers))[0].text


PERSON, PLACE, ORG = Category.PERSON, Category.PLACE, Category.ORGANISATION


@pytest.mark.parametrize(
    ("listed", "text", "expected"),
    [
        # diacritics, either side, precomposed or decomposed
        ("Zoë", "Zoe rang me.", "[PERSON 1] rang me."),
        ("Zoe", "Zoë rang me.", "[PERSON 1] rang me."),
        ("Zoë", "Zoe\u0308 rang me.", "[PERSON 1] rang me."),  # e + combining diaeresis
        ("Siobhán", "siobhan said so", "[PERSON 1] said so"),
        ("Siobhan", "Siobhán’s team", "[PERSON 1]’s team"),
        ("Nguyễn", "Mr Nguyen came", "Mr [PERSON 1] came"),
        ("Søren", "Soren came", "[PERSON 1] came"),
        # apostrophes
        ("O’Brien", "o'brien came", "[PERSON 1] came"),
        ("O'Brien", "O’Brien came", "[PERSON 1] came"),
        ("O'Brien", "Oʼbrien came", "[PERSON 1] came"),  # modifier letter apostrophe
        ("O'Brien", "O‘Brien came", "[PERSON 1] came"),
        ("O'Brien", "OBrien came", "[PERSON 1] came"),
        # dashes
        ("Mary-Anne", "Mary–Anne came", "[PERSON 1] came"),
        ("Mary–Anne", "Mary-Anne and Mary Anne", "[PERSON 1] and [PERSON 1]"),
        ("Mary-Anne", "Mary\u00adAnne came", "[PERSON 1] came"),  # a soft hyphen
    ],
)
def test_names_match_whatever_the_accents_apostrophes_and_dashes(
    listed: str, text: str, expected: str
) -> None:
    assert one(text, (listed, PERSON)) == expected


@pytest.mark.parametrize(
    ("listed", "text", "expected"),
    [
        ("St. Vincent’s", "at St Vincent's today", "at [ORGANISATION 1] today"),
        ("St Vincent's", "at St. Vincent’s today", "at [ORGANISATION 1] today"),
        ("St Vincent's", "at st vincents today", "at [ORGANISATION 1] today"),  # as ASR writes
        ("St Vincent's", "the St Vincent clinic", "the [ORGANISATION 1] clinic"),
        ("St. Vincent's", "St.Vincent's", "[ORGANISATION 1]"),
        ("Dr. Priya Raman", "dr priya raman said", "[ORGANISATION 1] said"),
        ("Bellbrook & District", "bellbrook and district", "[ORGANISATION 1]"),
        ("Riverton Inc.", "Riverton Inc. said", "[ORGANISATION 1]. said"),
    ],
)
def test_periods_in_abbreviations_do_not_matter(listed: str, text: str, expected: str) -> None:
    assert one(text, (listed, ORG)) == expected


def test_places_with_macrons_match_as_typed_or_as_said() -> None:
    listed = ("Māhina Bay", PLACE)
    assert one("out at mahina bay", listed) == "out at [PLACE 1]"
    assert one("out at Māhina Bay", listed) == "out at [PLACE 1]"


def test_still_whole_words_only() -> None:
    assert one("Zoey and Zoëtrope", ("Zoë", PERSON)) == "Zoey and Zoëtrope"
    assert one("the Anne-Marie rota", ("Mary-Anne", PERSON)) == "the Anne-Marie rota"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Zoë\u0301 – “quoted” … ﬁne — Ｆｕｌｌ café\u00a0ok, Zoë’s",
            "[PERSON 1] – “quoted” … ﬁne — Ｆｕｌｌ café\u00a0ok, [PERSON 1]’s",
        ),
        ("a\u00adb Zoe\u0308\u0301 c\u200bd ‘Zoë’", "a\u00adb [PERSON 1] c\u200bd ‘[PERSON 1]’"),
        ("plain: Zoe's, Zoe-ish, 'Zoe'", "plain: [PERSON 1]'s, [PERSON 1]-ish, '[PERSON 1]'"),
    ],
)
def test_text_outside_identifiers_is_unchanged_byte_for_byte(text: str, expected: str) -> None:
    """Folding is for matching only: dashes, quotes, ligatures, full-width letters, no-break
    spaces, soft hyphens and zero-width spaces outside a name come out as they went in."""
    assert one(text, ("Zoë", PERSON)).encode("utf-8") == expected.encode("utf-8")


def test_spans_point_at_the_original_characters() -> None:
    text = "Ｓｉｏｂｈáｎ’s and Zoe\u0308’s"
    found = detect(text, [Identifier("Siobhan", PERSON), Identifier("Zoë", PERSON)])
    assert [text[s:e] for s, e, *_ in found] == ["Ｓｉｏｂｈáｎ", "Zoe\u0308"]


def test_word_timings_survive_a_folded_match() -> None:
    text = "So Siobhán’s team helped."
    words = tuple(Word(i, i + 1.0, f" {t}", 0.9) for i, t in enumerate(text.split()))
    segment = Segment(0, 4, P, text, words)
    [out] = apply([segment], suggest([segment], [Identifier("Siobhan", PERSON)]))
    assert out.text == "So [PERSON 1]’s team helped."
    assert [w.word for w in out.words] == [" So", " [PERSON 1]’s", " team", " helped."]


def test_one_entity_however_it_is_written() -> None:
    assert entity_key(PERSON, "Zoë") == entity_key(PERSON, "ZOE") == "person:zoe"
    assert entity_key(ORG, "St. Vincent’s") == entity_key(ORG, "st vincent's")
    # the same placeholder for every form of a name in one transcript
    assert one("Zoë, Zoe and ZOË", ("Zoë", PERSON)) == "[PERSON 1], [PERSON 1] and [PERSON 1]"


def test_a_key_from_before_folding_keeps_its_placeholders() -> None:
    """Keys stored by an earlier version hold unfolded entities ("person:siobhán")."""
    old_key = {
        "person:siobhán": "[PERSON 3]",
        "email:diane dot smith at example dot com": "[EMAIL 2]",
    }
    assert canonical_entity("person:siobhán") == "person:siobhan"
    segments = [Segment(0, 1, P, "Siobhan wrote from diane.smith@example.com")]
    found = suggest(segments, [Identifier("Siobhán", PERSON)], existing_key=old_key)
    assert [s.placeholder for s in found] == ["[PERSON 3]", "[EMAIL 2]"]


def test_the_remaining_identifier_check_folds_too() -> None:
    listed = [Identifier("Siobhán", PERSON), Identifier("St. Vincent’s", ORG)]
    text = "[PERSON 1] said Siobhan’s mum went to st vincents"
    assert remaining_identifiers(text, listed) == ["Siobhan", "st vincents"]
    assert remaining_identifiers("[PERSON 1] went home", listed) == []


def test_folding_maps_back_to_the_original() -> None:
    folded = fold("Zoë’s café – Ｆｕｌｌ")
    assert folded.text == "Zoe's cafe - Full"
    assert folded.span_in_original(0, 3) == (0, 3)
    start = folded.text.index("Full")
    s, e = folded.span_in_original(start, start + 4)
    assert folded.original[s:e] == "Ｆｕｌｌ"
