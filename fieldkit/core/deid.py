"""De-identification: find identifiers in a transcript; replace them with consistent placeholders.

Two kinds of detector suggest replacements:
- the study's identifier list (names of people, places, organisations …), matched whole-word and
  case-insensitively, with whitespace between words flexible, and with inflected forms: a
  possessive or plural ending stays outside the placeholder ("Diane's" → "[PERSON 1]'s");
- patterns: phone numbers (Australian, UK, US and international forms), e-mail addresses (written,
  and as speech recognition writes them: "diane at example dot com"), street addresses, and dates
  of birth (a date near "born", "birth", "DOB" or "birthday"; any other full date is a plain date).

Placeholders are numbered per category in order of first appearance, and the same entity gets the
same placeholder throughout a transcript. An existing key (placeholder → entity from an earlier
run on the same transcript) is honoured, so re-running after adding identifiers keeps every
placeholder already used.

Pure: no storage, no UI. The key stays in the study database; nothing here writes anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from fieldkit.core.models import Segment, Word


class Category(StrEnum):
    PERSON = "person"
    PLACE = "place"
    ORGANISATION = "organisation"
    OTHER = "other"
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"
    DATE_OF_BIRTH = "date of birth"
    DATE = "date"


# What a user may put on the identifier list; the rest come from patterns.
LIST_CATEGORIES = (Category.PERSON, Category.PLACE, Category.ORGANISATION, Category.OTHER)

LABELS: dict[Category, str] = {
    Category.PERSON: "PERSON",
    Category.PLACE: "PLACE",
    Category.ORGANISATION: "ORGANISATION",
    Category.OTHER: "OTHER",
    Category.PHONE: "PHONE",
    Category.EMAIL: "EMAIL",
    Category.ADDRESS: "ADDRESS",
    Category.DATE_OF_BIRTH: "DATE OF BIRTH",
    Category.DATE: "DATE",
}


@dataclass(frozen=True)
class Identifier:
    text: str
    category: Category


@dataclass(frozen=True)
class Suggestion:
    """One replacement: characters start..end of segment `segment`'s text become `placeholder`."""

    segment: int  # index into the transcript's segments
    start: int
    end: int
    original: str  # the text replaced, as written in the transcript
    entity: str  # what makes two mentions the same entity (see `entity_key`)
    category: Category
    placeholder: str
    source: str  # "list" or the pattern's name

    @property
    def span(self) -> tuple[int, int, int]:
        return (self.segment, self.start, self.end)


def entity_key(category: Category, text: str) -> str:
    """The same entity written differently gets the same key: case, spacing and (for numbers)
    punctuation do not matter."""
    if category is Category.PHONE:
        digits = re.sub(r"\D", "", text)
        return f"{category.value}:{digits}"
    folded = re.sub(r"\s+", " ", text.strip().casefold())
    return f"{category.value}:{folded}"


def placeholder_for(category: Category, number: int) -> str:
    return f"[{LABELS[category]} {number}]"


# -- the identifier list ---------------------------------------------------------------------

# Possessive and plural endings stay outside the placeholder: Diane's → [PERSON 1]'s.
_ENDINGS = r"(?=(?:['’]s|s['’]|['’]|es|s)?(?![\w]))"


def _list_pattern(text: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in text.split()]
    body = r"[\s\-]+".join(words)  # "St Vincent's" / "St  Vincent's" / "Riverton-Community"
    return re.compile(rf"(?<![\w])(?:{body}){_ENDINGS}", re.IGNORECASE)


def _find_listed(
    text: str, identifiers: Sequence[Identifier]
) -> list[tuple[int, int, Category, str]]:
    found: list[tuple[int, int, Category, str]] = []
    for identifier in identifiers:
        if not identifier.text.strip():
            continue
        for match in _list_pattern(identifier.text).finditer(text):
            key = entity_key(identifier.category, identifier.text)
            found.append((match.start(), match.end(), identifier.category, key))
    return found


# -- patterns --------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+(?<!\.)")
# How speech recognition writes a spoken address: "diane dot smith at example dot com dot au".
_SPOKEN_EMAIL = re.compile(
    r"(?<![\w])[a-z0-9]+(?:\s+(?:dot|underscore)\s+[a-z0-9]+)*\s+at\s+[a-z0-9-]+"
    r"(?:\s+dot\s+[a-z]{2,})+(?![\w])",
    re.IGNORECASE,
)

# A run of digit groups with phone separators; the digit count decides (8–13 digits).
_PHONE = re.compile(
    r"(?<![\w+])"
    r"(?:\+\d{1,3}[\s.\-]?)?"  # +61, +44, +1
    r"(?:\(\d{1,5}\)[\s.\-]?)?"  # (02), (0161), (555)
    r"\d{1,12}(?:[\s.\-]\d{1,6}){0,5}"
    r"(?![\w])"
)
_PHONE_DIGITS = range(8, 14)

_STREET_TYPES = (
    "street|st|road|rd|avenue|ave|lane|ln|drive|dr|court|ct|place|pl|crescent|cres|boulevard|"
    "blvd|way|terrace|tce|parade|pde|highway|hwy|close|grove|square|circuit|cct|row|walk|mews"
)
_ADDRESS = re.compile(
    r"(?<![\w/])(?:(?:unit|flat|apartment|apt)\s+\d+[a-z]?[,/]?\s*)?"
    r"\d{1,5}[a-z]?(?:/\d{1,5}[a-z]?)?,?\s+"
    r"(?:[a-z][a-z'’\-]*\s+){1,3}"
    rf"(?:{_STREET_TYPES})\b",
    re.IGNORECASE,
)
_PO_BOX = re.compile(r"\b(?:PO|P\.O\.)\s*Box\s+\d+\b", re.IGNORECASE)

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
_NUMERIC_DATE = rf"[0-3]?\d[/.\-][01]?\d[/.\-](?:{_YEAR}|\d{{2}})|{_YEAR}-[01]\d-[0-3]\d"
_DAY_MONTH = rf"(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTHS}"
_MONTH_DAY = rf"{_MONTHS}\s+(?:the\s+)?{_DAY}"
_FULL_DATE = re.compile(
    rf"(?<![\w/])(?:{_NUMERIC_DATE}|(?:{_DAY_MONTH}|{_MONTH_DAY}),?\s+{_YEAR})(?![\w/])",
    re.IGNORECASE,
)
# Without a year a day and month is only identifying as a birthday.
_DAY_AND_MONTH = re.compile(rf"(?<![\w])(?:{_DAY_MONTH}|{_MONTH_DAY})(?![\w])", re.IGNORECASE)
_BIRTH_CUE = re.compile(r"\b(?:born|birth|birthday|d\.?o\.?b\.?)\b", re.IGNORECASE)
_CUE_WINDOW = 40  # characters before the date in which a birth cue makes it a date of birth


def _is_birth_date(text: str, start: int) -> bool:
    return bool(_BIRTH_CUE.search(text[max(0, start - _CUE_WINDOW) : start]))


def _find_patterns(text: str) -> list[tuple[int, int, Category, str, str]]:
    """(start, end, category, entity key, pattern name) for every pattern match in `text`."""
    found: list[tuple[int, int, Category, str, str]] = []
    for regex in (_EMAIL, _SPOKEN_EMAIL):
        for m in regex.finditer(text):
            found.append((m.start(), m.end(), Category.EMAIL, _key(Category.EMAIL, m), "email"))
    for m in _FULL_DATE.finditer(text):
        category = Category.DATE_OF_BIRTH if _is_birth_date(text, m.start()) else Category.DATE
        found.append((m.start(), m.end(), category, _key(category, m), "date"))
    for m in _DAY_AND_MONTH.finditer(text):
        if _is_birth_date(text, m.start()):
            category = Category.DATE_OF_BIRTH
            found.append((m.start(), m.end(), category, _key(category, m), "date"))
    for m in _PHONE.finditer(text):
        if len(re.sub(r"\D", "", m.group())) in _PHONE_DIGITS:
            found.append((m.start(), m.end(), Category.PHONE, _key(Category.PHONE, m), "phone"))
    for regex in (_ADDRESS, _PO_BOX):
        for m in regex.finditer(text):
            found.append(
                (m.start(), m.end(), Category.ADDRESS, _key(Category.ADDRESS, m), "address")
            )
    return found


def _key(category: Category, match: re.Match[str]) -> str:
    return entity_key(category, match.group())


# Where two detections overlap, the earlier-listed kind wins (then the longer match):
# a date is not a phone number, an e-mail address is not a name.
_PRIORITY = {
    Category.EMAIL: 0,
    Category.DATE_OF_BIRTH: 1,
    Category.DATE: 2,
    Category.ADDRESS: 3,
    Category.PHONE: 4,
    Category.PERSON: 5,
    Category.ORGANISATION: 5,
    Category.PLACE: 5,
    Category.OTHER: 5,
}


def _without_overlaps(
    found: Iterable[tuple[int, int, Category, str, str]],
) -> list[tuple[int, int, Category, str, str]]:
    chosen: list[tuple[int, int, Category, str, str]] = []
    ranked = sorted(found, key=lambda f: (_PRIORITY[f[2]], -(f[1] - f[0]), f[0]))
    for item in ranked:
        if all(item[1] <= c[0] or item[0] >= c[1] for c in chosen):
            chosen.append(item)
    return sorted(chosen, key=lambda f: f[0])


def detect(
    text: str, identifiers: Sequence[Identifier]
) -> list[tuple[int, int, Category, str, str]]:
    """Every identifier in one piece of text: (start, end, category, entity key, source)."""
    listed = [(s, e, c, k, "list") for s, e, c, k in _find_listed(text, identifiers)]
    return _without_overlaps([*listed, *_find_patterns(text)])


# -- placeholders ----------------------------------------------------------------------------


class PlaceholderBook:
    """Entity → placeholder for one transcript, numbered per category by first appearance."""

    def __init__(self, existing: Mapping[str, str] | None = None) -> None:
        self.by_entity: dict[str, str] = dict(existing or {})
        self._used: set[str] = set(self.by_entity.values())

    def placeholder(self, category: Category, entity: str) -> str:
        if entity not in self.by_entity:
            number = 1
            while placeholder_for(category, number) in self._used:
                number += 1
            self.by_entity[entity] = placeholder_for(category, number)
            self._used.add(self.by_entity[entity])
        return self.by_entity[entity]


def suggest(
    segments: Sequence[Segment],
    identifiers: Sequence[Identifier],
    existing_key: Mapping[str, str] | None = None,
) -> list[Suggestion]:
    """Suggested replacements for a transcript, in reading order.

    `existing_key` maps entity keys to placeholders already used for this transcript."""
    book = PlaceholderBook(existing_key)
    suggestions: list[Suggestion] = []
    for index, segment in enumerate(segments):
        for start, end, category, entity, source in detect(segment.text, identifiers):
            suggestions.append(
                Suggestion(
                    segment=index,
                    start=start,
                    end=end,
                    original=segment.text[start:end],
                    entity=entity,
                    category=category,
                    placeholder=book.placeholder(category, entity),
                    source=source,
                )
            )
    return suggestions


def replace_in_text(text: str, replacements: Sequence[tuple[int, int, str]]) -> str:
    """Apply (start, end, new text) replacements that do not overlap."""
    out: list[str] = []
    position = 0
    for start, end, new in sorted(replacements):
        if start < position:
            raise ValueError("overlapping replacements")
        out += [text[position:start], new]
        position = end
    out.append(text[position:])
    return "".join(out)


def apply(segments: Sequence[Segment], accepted: Sequence[Suggestion]) -> list[Segment]:
    """The transcript with the accepted suggestions replaced. Word timings are kept where the
    words spell out the segment's text; otherwise the segment's words are dropped so no
    identifier survives in them."""
    by_segment: dict[int, list[Suggestion]] = {}
    for suggestion in accepted:
        by_segment.setdefault(suggestion.segment, []).append(suggestion)
    result: list[Segment] = []
    for index, segment in enumerate(segments):
        chosen = by_segment.get(index)
        if not chosen:
            result.append(segment)
            continue
        edits = [(s.start, s.end, s.placeholder) for s in chosen]
        text = replace_in_text(segment.text, edits)
        result.append(replace(segment, text=text, words=_redacted_words(segment, edits)))
    return result


def _redacted_words(segment: Segment, edits: Sequence[tuple[int, int, str]]) -> tuple[Word, ...]:
    """Words laid over the segment text; the words a replacement touches become one word
    carrying the placeholder, timed from the first one's start to the last one's end."""
    if not segment.words:
        return ()
    spans = _word_spans(segment)
    if spans is None:
        return ()  # edited text no longer matches the words: keep no words rather than leak one
    groups = _word_groups(spans, edits)
    words: list[Word] = []
    for first, last in groups:
        word = segment.words[first]
        span_start, span_end = spans[first][0], spans[last][1]
        inside = [e for e in edits if e[0] < span_end and e[1] > span_start]
        if not inside and first == last:
            words.append(word)
            continue
        local = [(s - span_start, e - span_start, p) for s, e, p in inside]
        leading = word.word[: len(word.word) - len(word.word.lstrip())]
        text = leading + replace_in_text(segment.text[span_start:span_end], local)
        probability = min(w.probability for w in segment.words[first : last + 1])
        words.append(replace(word, word=text, end=segment.words[last].end, probability=probability))
    return tuple(words)


def _word_groups(
    spans: Sequence[tuple[int, int]], edits: Sequence[tuple[int, int, str]]
) -> list[tuple[int, int]]:
    """(first, last) word index runs: a run is one word, or the words one replacement spans."""
    groups: list[tuple[int, int]] = []
    for index, (w_start, w_end) in enumerate(spans):
        touching = [e for e in edits if e[0] < w_end and e[1] > w_start]
        previous = groups[-1] if groups else None
        joins_previous = previous is not None and any(
            e[0] < spans[previous[1]][1] for e in touching
        )
        if joins_previous and previous is not None:
            groups[-1] = (previous[0], index)
        else:
            groups.append((index, index))
    return groups


def _word_spans(segment: Segment) -> list[tuple[int, int]] | None:
    """Where each word's (stripped) text sits in the segment text, or None if they diverge."""
    spans: list[tuple[int, int]] = []
    position = 0
    text = segment.text
    for word in segment.words:
        token = word.word.strip()
        if not token:
            spans.append((position, position))
            continue
        found = text.find(token, position)
        if found < 0 or text[position:found].strip():
            return None
        spans.append((found, found + len(token)))
        position = found + len(token)
    if text[position:].strip():
        return None
    return spans


def remaining_identifiers(text: str, identifiers: Sequence[Identifier]) -> list[str]:
    """Listed identifiers still present in `text` (a last check before an export)."""
    return sorted({text[s:e] for s, e, _, _ in _find_listed(text, identifiers)})


def key_of(suggestions: Iterable[Suggestion]) -> dict[str, tuple[Category, str, list[str]]]:
    """placeholder → (category, entity key, the forms it replaced), for the accepted ones."""
    key: dict[str, tuple[Category, str, list[str]]] = {}
    for s in suggestions:
        forms = key.setdefault(s.placeholder, (s.category, s.entity, []))[2]
        if s.original not in forms:
            forms.append(s.original)
    return key
