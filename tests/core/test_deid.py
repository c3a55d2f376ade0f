"""De-identification rules: the identifier list, every pattern class, consistent placeholders,
inflected forms, and word timings that carry no identifier."""

from __future__ import annotations

import pytest

from fieldkit.core.deid import (
    Category,
    Identifier,
    apply,
    detect,
    key_of,
    remaining_identifiers,
    suggest,
)
from fieldkit.core.models import Segment, Speaker, Word

P = Speaker.PARTICIPANT
LIST = [
    Identifier("Diane", Category.PERSON),
    Identifier("Mark Tan", Category.PERSON),
    Identifier("Riverton", Category.PLACE),
    Identifier("Riverton Community Health", Category.ORGANISATION),
    Identifier("Harbour Club", Category.OTHER),
]


def deidentified(*texts: str, identifiers: list[Identifier] = LIST) -> list[str]:
    segments = [Segment(float(i), float(i + 1), P, t) for i, t in enumerate(texts)]
    return [s.text for s in apply(segments, suggest(segments, identifiers))]


def one(text: str, identifiers: list[Identifier] = LIST) -> str:
    return deidentified(text, identifiers=identifiers)[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Diane helped.", "[PERSON 1] helped."),
        ("I work in Riverton.", "I work in [PLACE 1]."),
        ("at Riverton Community Health now", "at [ORGANISATION 1] now"),
        ("we meet at the Harbour Club", "we meet at the [OTHER 1]"),
    ],
)
def test_every_list_category_is_replaced(text: str, expected: str) -> None:
    assert one(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Diane's office", "[PERSON 1]'s office"),
        ("Diane’s office", "[PERSON 1]’s office"),  # a typographic apostrophe
        ("diane and DIANE and Diane", "[PERSON 1] and [PERSON 1] and [PERSON 1]"),
        ("Mark  Tan's team", "[PERSON 1]'s team"),  # spacing inside a name
        ("Riverton's clinics", "[PLACE 1]'s clinics"),
        ("(Diane)", "([PERSON 1])"),
        ("the Tans' house, Mark Tans", "the Tans' house, [PERSON 1]s"),
    ],
)
def test_case_and_inflected_forms_are_caught(text: str, expected: str) -> None:
    assert one(text) == expected


@pytest.mark.parametrize("text", ["Dianella is a suburb", "the Markets", "Rivertonian pride"])
def test_only_whole_words_are_matched(text: str) -> None:
    assert one(text) == text


def test_the_longest_listed_name_wins() -> None:
    assert one("Riverton Community Health in Riverton") == "[ORGANISATION 1] in [PLACE 1]"


def test_placeholders_are_consistent_and_numbered_by_first_appearance() -> None:
    out = deidentified(
        "Mark Tan and Diane from Riverton.",
        "Diane's idea, not Mark Tan's.",
        "Back in riverton, diane said so.",
    )
    assert out == [
        "[PERSON 1] and [PERSON 2] from [PLACE 1].",
        "[PERSON 2]'s idea, not [PERSON 1]'s.",
        "Back in [PLACE 1], [PERSON 2] said so.",
    ]


def test_an_existing_key_keeps_its_placeholders() -> None:
    segments = [Segment(0, 1, P, "Mark Tan met Diane.")]
    first = suggest(segments, LIST[:1])  # only Diane was listed the first time
    key = {s.entity: s.placeholder for s in first}
    assert [s.placeholder for s in first] == ["[PERSON 1]"]
    again = suggest(segments, LIST[:2], existing_key=key)
    by_original = {s.original: s.placeholder for s in again}
    assert by_original == {"Diane": "[PERSON 1]", "Mark Tan": "[PERSON 2]"}


@pytest.mark.parametrize(
    "number",
    [
        "0412 345 678",  # AU mobile
        "0412345678",
        "(02) 9876 5432",  # AU landline
        "+61 2 9876 5432",
        "+61 412 345 678",
        "07700 900123",  # UK mobile
        "+44 7700 900123",
        "020 7946 0958",  # UK landline
        "(0161) 496 0000",
        "(555) 123-4567",  # US
        "555-123-4567",
        "555.123.4567",
        "+1 555 123 4567",
    ],
)
def test_phone_numbers_are_replaced(number: str) -> None:
    assert one(f"Ring {number} after five.") == "Ring [PHONE 1] after five."


def test_the_same_number_written_twice_differently_is_one_placeholder() -> None:
    assert one("0412 345 678 or 0412-345-678") == "[PHONE 1] or [PHONE 1]"


@pytest.mark.parametrize(
    "text", ["In 2019 we had 10 000 visits.", "It took 3.5 hours", "Wards 4 and 12"]
)
def test_other_numbers_are_not_phone_numbers(text: str) -> None:
    assert one(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail diane.smith@example.com.au today", "mail [EMAIL 1] today"),
        ("it's diane dot smith at gmail dot com", "it's [EMAIL 1]"),  # as Whisper writes it
        ("j_tan+work@health.nsw.gov.au.", "[EMAIL 1]."),
    ],
)
def test_email_addresses_are_replaced(text: str, expected: str) -> None:
    assert one(text, identifiers=[]) == expected


def test_an_email_address_holding_a_listed_name_is_one_email() -> None:
    assert one("write to diane@example.com") == "write to [EMAIL 1]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I live at 12 Smith Street now", "I live at [ADDRESS 1] now"),
        ("at 4/27 Old Mill Rd.", "at [ADDRESS 1]."),
        ("Unit 3, 15 George St", "[ADDRESS 1]"),
        ("12 High Street", "[ADDRESS 1]"),
        ("post it to PO Box 123", "post it to [ADDRESS 1]"),
    ],
)
def test_street_addresses_are_replaced(text: str, expected: str) -> None:
    assert one(text, identifiers=[]) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I was born on 3 March 1985.", "I was born on [DATE OF BIRTH 1]."),
        ("DOB 03/04/1985", "DOB [DATE OF BIRTH 1]"),
        ("my date of birth is 1985-03-04", "my date of birth is [DATE OF BIRTH 1]"),
        ("born on the 5th of June", "born on [DATE OF BIRTH 1]"),
        ("my birthday is March 5th", "my birthday is [DATE OF BIRTH 1]"),
        ("We started on 12 January 2023.", "We started on [DATE 1]."),
        ("We started in March.", "We started in March."),
    ],
)
def test_dates_of_birth_are_replaced(text: str, expected: str) -> None:
    assert one(text, identifiers=[]) == expected


def test_suggestions_carry_spans_sources_and_categories() -> None:
    text = "Diane: 0412 345 678"
    found = detect(text, LIST)
    assert [(text[s:e], c, src) for s, e, c, _, src in found] == [
        ("Diane", Category.PERSON, "list"),
        ("0412 345 678", Category.PHONE, "phone"),
    ]


def test_rejected_suggestions_stay_as_said() -> None:
    segments = [Segment(0, 1, P, "Diane lives in Riverton")]
    found = suggest(segments, LIST)
    accepted = [s for s in found if s.category is Category.PERSON]
    assert apply(segments, accepted)[0].text == "[PERSON 1] lives in Riverton"


def words(text: str) -> tuple[Word, ...]:
    return tuple(Word(i, i + 1.0, f" {t}", 0.9 - i / 100) for i, t in enumerate(text.split()))


def test_word_timings_are_kept_and_carry_placeholders() -> None:
    text = "So Diane's team at Riverton Community Health helped."
    segment = Segment(0, 8, P, text, words(text))
    [out] = apply([segment], suggest([segment], LIST))
    assert out.text == "So [PERSON 1]'s team at [ORGANISATION 1] helped."
    assert [w.word for w in out.words] == [
        " So",
        " [PERSON 1]'s",
        " team",
        " at",
        " [ORGANISATION 1]",
        " helped.",
    ]
    org = out.words[4]
    assert (org.start, org.end) == (4.0, 7.0)  # the three words' span
    assert org.probability == pytest.approx(0.9 - 6 / 100)  # the least sure of them
    assert "".join(w.word for w in out.words).strip() == out.text


def test_words_that_no_longer_match_an_edited_text_are_dropped() -> None:
    segment = Segment(0, 3, P, "Diane was kind.", words("Di ane was nice."))
    [out] = apply([segment], suggest([segment], LIST))
    assert out.text == "[PERSON 1] was kind."
    assert out.words == ()


def test_the_key_maps_placeholders_to_every_form_replaced() -> None:
    segments = [Segment(0, 1, P, "Diane, diane's and Riverton")]
    key = key_of(suggest(segments, LIST))
    assert key["[PERSON 1]"] == (Category.PERSON, "person:diane", ["Diane", "diane"])
    assert key["[PLACE 1]"][2] == ["Riverton"]


def test_remaining_identifiers_finds_what_is_left() -> None:
    assert remaining_identifiers("[PERSON 1] went to Riverton", LIST) == ["Riverton"]
    assert remaining_identifiers("[PERSON 1] went home", LIST) == []
