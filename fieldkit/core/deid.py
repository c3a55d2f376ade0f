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
from functools import lru_cache

from fieldkit.core.folding import fold, fold_text
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
    """The same entity written differently gets the same key: case, spacing, accents,
    apostrophe and dash forms and periods do not matter; a phone number is its digits; an
    e-mail address said aloud ("diane dot smith at example dot com") is the address typed."""
    if category is Category.PHONE:
        return f"{category.value}:{''.join(_phone_digits(text))}"
    if category is Category.EMAIL:
        return f"{category.value}:{_typed_email(fold_text(text).casefold().strip())}"
    return f"{category.value}:{identifier_form(text)}"


def identifier_form(text: str) -> str:
    """What two ways of writing one identifier share: "Zoë" and "zoe", "St. Vincent’s" and
    "st vincent's", "Mary–Anne" and "Mary Anne"."""
    return re.sub(r"[\s.\-]+", " ", fold_text(text).casefold()).strip()


def canonical_entity(entity: str) -> str:
    """An entity key from an earlier version (or run) in today's form, so an existing key keeps
    its placeholders: "person:Siobhán" and "person:siobhan" are the same entity."""
    prefix, separator, text = entity.partition(":")
    try:
        category = Category(prefix)
    except ValueError:
        return entity
    return entity_key(category, text) if separator else entity


def _typed_email(spoken: str) -> str:
    said = {"dot": ".", "at": "@", "underscore": "_", "hyphen": "-", "dash": "-"}
    words = re.split(r"\s+", spoken)
    return "".join(said.get(w, w) for w in words)


def placeholder_for(category: Category, number: int) -> str:
    return f"[{LABELS[category]} {number}]"


# -- the identifier list ---------------------------------------------------------------------
# Matching runs on folded text (see fieldkit.core.folding): Zoë = Zoe, O’Brien = O'Brien.

# Possessive and plural endings stay outside the placeholder: Diane's → [PERSON 1]'s.
_ENDINGS = r"(?=(?:'s|s'|'|es|s)?(?!\w))"
# Between the parts of a listed name the text may put spaces, periods, apostrophes or hyphens,
# or nothing: "St. Vincent's" = "St Vincents" = "St-Vincent's"; "Mary-Anne" = "Mary Anne".
_GAP = r"[\s.'\-]*"


@lru_cache(maxsize=2048)
def _list_pattern(text: str) -> re.Pattern[str] | None:
    """The pattern for one listed identifier, or None if it holds no letters or digits."""
    folded = re.sub(r"^\W+|\W+$", "", fold_text(text))
    tokens = re.findall(r"\w+|\W+", folded)
    if not tokens:
        return None
    parts: list[str] = []
    for token in tokens:
        if re.match(r"\w", token):
            parts.append(re.escape(token))
            continue
        kept = re.sub(r"[\s.'\-]", "", token)
        if not kept:
            parts.append(_GAP)
        elif kept == "&":
            parts.append(rf"{_GAP}(?:&|and){_GAP}")
        else:
            parts.append(_GAP + re.escape(kept) + _GAP)
    if len(tokens) >= 3 and tokens[-1].casefold() == "s" and "'" in tokens[-2]:
        # A name that ends in a possessive (St Vincent's) is also said without it.
        parts[-2:] = [r"(?:'?s)?"]
    body = "".join(parts)
    return re.compile(rf"(?<!\w)(?:{body}){_ENDINGS}", re.IGNORECASE)


def _find_listed(
    folded: str, identifiers: Sequence[Identifier]
) -> list[tuple[int, int, Category, str]]:
    """(start, end, category, entity key) in the folded text for every listed identifier."""
    found: list[tuple[int, int, Category, str]] = []
    for identifier in identifiers:
        pattern = _list_pattern(identifier.text)
        if pattern is None:
            continue
        key = entity_key(identifier.category, identifier.text)
        for match in pattern.finditer(folded):
            if match.end() > match.start():
                found.append((match.start(), match.end(), identifier.category, key))
    return found


# -- patterns --------------------------------------------------------------------------------
# Every pattern runs on folded text: dashes are "-", apostrophes "'", letters without accents.

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+\s*@\s*[\w-]+(?:\.[\w-]+)+(?<!\.)(?![\w@])")
# How speech recognition writes a spoken address: "diane dot smith at example dot com dot au",
# "diane.smith at example.com", "j underscore tan at health dot nsw dot gov dot au", with a
# domain name said as words ("diane at riverton health dot org"). The last label must be a
# common top-level domain and the first domain word no ordinary word, so "look at the dot
# points" is not an address.
_TOP_LEVEL_DOMAINS = "com|org|net|edu|gov|au|uk|nz|ca|us|ie|io|co|info|biz|me|int|health"
_NOT_A_DOMAIN = "the|a|an|this|that|these|those|it|its|my|your|our|their|his|her|some|any"
_SPOKEN_JOIN = r"(?:\s+(?:dot|underscore|hyphen|dash)\s+|[._\-])"
_SPOKEN_DOT = r"(?:\s+dot\s+|\.)"
_SPOKEN_EMAIL = re.compile(
    rf"(?<![\w.'@\-])[a-z0-9]+(?:{_SPOKEN_JOIN}[a-z0-9]+)*"
    r"(?:\s+at\s+|\s*@\s*)"
    rf"(?!(?:{_NOT_A_DOMAIN})\b)[a-z0-9]+(?:-[a-z0-9]+)*(?:\s+(?!(?:dot|at)\b)[a-z0-9]+){{0,2}}"
    rf"(?:{_SPOKEN_DOT}[a-z0-9]+(?:-[a-z0-9]+)*)*"
    rf"{_SPOKEN_DOT}(?:{_TOP_LEVEL_DOMAINS})(?![\w@])(?!\.\w)",
    re.IGNORECASE,
)

# Phone numbers: a run of digit groups, then a check of the whole run (see `_phone_spans`).
# Groups may be split by spaces, hyphens, periods or commas, with stray spaces around them
# ("041 -234 -5678", "0-4-1-2-3-4-5-6-7-8", "double 044, 123, 456"), and start with +, "plus",
# or an area code in brackets.
_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "nought": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_REPEATS = {"double": 2, "triple": 3}
_PHONE_GROUP = re.compile(
    r"(?P<sep>\s*[-.,]\s*|\s+)?"
    r"(?P<lead>(?:\+\s*|plus\s+)?(?:(?:double|triple)\s+)?)"
    r"(?P<group>\(\d+\)|\d+)(?![\w(])",
    re.IGNORECASE,
)
_PHONE_RUN = re.compile(
    r"(?<![\w+$.,])(?:\+\s*|plus\s+)?(?:(?:double|triple)\s+)?(?:\(\d+\)|\d+)"
    r"(?:(?:\s*[-.,]\s*|\s+)(?:(?:double|triple)\s+)?(?:\(\d+\)|\d+))*(?![\w(])",
    re.IGNORECASE,
)
# Said digit by digit in words: "oh four one two, three four five, six seven eight".
_DIGIT_WORD = rf"(?:(?:double|triple)\s+)?(?:{'|'.join(_DIGIT_WORDS)})"
_SPOKEN_PHONE = re.compile(
    rf"(?<![\w])(?:plus\s+)?{_DIGIT_WORD}(?:[\s,\-]+{_DIGIT_WORD}){{7,}}(?![\w])",
    re.IGNORECASE,
)
_PHONE_DIGITS = range(8, 14)
_MAX_PHONE_GROUPS = 13  # a group holds at least one digit
_YEAR_GROUP = re.compile(r"(?:19|20)\d\d")


def _phone_digits(text: str) -> list[str]:
    """The digits a phone number says, with spoken digits and "double"/"triple" spelled out."""
    digits: list[str] = []
    repeat = 1
    for token in re.findall(r"\d+|[a-z]+", text.casefold()):
        if token in _REPEATS:
            repeat = _REPEATS[token]
            continue
        if token.isdigit():
            digits += [token[0]] * repeat + list(token[1:])
        elif token in _DIGIT_WORDS:
            digits += [_DIGIT_WORDS[token]] * repeat
        repeat = 1
    return digits


@dataclass(frozen=True)
class _Group:
    start: int  # where its separator (or the run) starts
    body_start: int  # where its lead ("+", "plus", "double") or digits start
    end: int
    separator: str  # "" for the first group of a run
    lead: str
    digits: str  # the group's digits as written, brackets dropped
    bracketed: bool  # an area code in brackets: "(02)"

    @property
    def strong(self) -> bool:
        """Starts the way only a phone number does: +, plus, double, (area code), or a 0."""
        return bool(self.lead.strip()) or self.bracketed or self.digits.startswith("0")


def _groups(run: re.Match[str]) -> list[_Group]:
    groups = []
    for m in _PHONE_GROUP.finditer(run.group()):
        offset = run.start()
        groups.append(
            _Group(
                start=offset + m.start(),
                body_start=offset + m.start("lead"),
                end=offset + m.end(),
                separator=(m.group("sep") or "").strip() or (" " if m.group("sep") else ""),
                lead=m.group("lead"),
                digits=m.group("group").strip("()"),
                bracketed=m.group("group").startswith("("),
            )
        )
    return groups


def _is_phone(groups: Sequence[_Group]) -> bool:
    """Whether these consecutive groups (a whole run or part of one) make a phone number."""
    count = len(_phone_digits(" ".join(g.lead + g.digits for g in groups)))
    if count not in _PHONE_DIGITS:
        return False
    if groups[0].strong:
        return True
    inner = [g.separator for g in groups[1:]]
    sizes = [len(g.digits) for g in groups]
    if "," in inner:
        return False  # a list of counts: "45, 52, 61, 70"
    if sum(1 for g in groups if _YEAR_GROUP.fullmatch(g.digits)) >= 2:
        return False  # a run of years: "2019 2020 2021"
    if "." in inner and min(sizes) < 3:
        return False  # times and decimals: "10.30-11.30"
    if len(groups) > 1 and sizes[0] <= 3 and all(s == 3 for s in sizes[1:]):
        return False  # a large number grouped in thousands: "12 500 000"
    return not (len(groups) > 2 and all(s == 2 for s in sizes))  # "45 52 61 70"


def _phone_spans(groups: Sequence[_Group]) -> list[tuple[int, int]]:
    """Phone numbers within one run: the whole run if it is one, else its best parts (a part
    that starts like a phone number first, then the longest), so "in 2019 0412 345 678" keeps
    the year."""
    if not groups:
        return []
    if len(groups) <= _MAX_PHONE_GROUPS and _is_phone(groups):
        return [(groups[0].body_start, groups[-1].end)]
    windows = [
        (i, j)
        for i in range(len(groups))
        for j in range(i, min(len(groups), i + _MAX_PHONE_GROUPS))
        if _is_phone(groups[i : j + 1])
    ]
    windows.sort(key=lambda w: (not groups[w[0]].strong, w[0] - w[1], w[0]))
    chosen: list[tuple[int, int]] = []
    for i, j in windows:
        if all(j < first or i > last for first, last in chosen):
            chosen.append((i, j))
    return sorted((groups[i].body_start, groups[j].end) for i, j in chosen)


def _find_phones(text: str) -> list[tuple[int, int]]:
    spans = [span for run in _PHONE_RUN.finditer(text) for span in _phone_spans(_groups(run))]
    for m in _SPOKEN_PHONE.finditer(text):
        if len(_phone_digits(m.group())) in _PHONE_DIGITS:
            spans.append((m.start(), m.end()))
    return spans


_STREET_TYPES = (
    "street|st|road|rd|avenue|ave|lane|ln|drive|dr|court|ct|place|pl|crescent|cres|boulevard|"
    "blvd|way|terrace|tce|parade|pde|highway|hwy|close|grove|square|circuit|cct|row|walk|mews"
)
# A street name is one to three capitalised words ("Smith", "Old Mill", "St Kilda"), never "I":
# "12 Smith Street" is an address, "3 kids who walk" and "5 minutes to walk" are not.
_STREET_NAME_WORD = r"(?!I')[A-Z][A-Za-z'\-]*[A-Za-z]\.?"
_ADDRESS = re.compile(
    r"(?<![\w/])(?P<unit>(?i:unit|flat|apartment|apt|suite|shop|level|lot)\s+\d+[A-Za-z]?"
    r"\s*[,/]?\s*)?"
    r"(?P<number>(?i:number\s+)?\d{1,5}[A-Za-z]?(?:\s*[/\-]\s*\d{1,5}[A-Za-z]?)?),?\s+"
    rf"(?:{_STREET_NAME_WORD}\s+){{1,3}}"
    rf"(?i:{_STREET_TYPES})\b"
)
_PO_BOX = re.compile(r"\b(?:PO|P\.O\.)\s*Box\s+\d+\b", re.IGNORECASE)


# Nobody says "the 12 Smith Street": after an article the number counts something, as in
# "the 3 Sisters Walk" (a walking track) or "the 2 Community Days".
_ARTICLE_BEFORE = re.compile(r"\b(?:the|a|an|these|those)\s+$", re.IGNORECASE)


def _find_addresses(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _ADDRESS.finditer(text):
        if not m.group("unit") and _YEAR_GROUP.fullmatch(m.group("number")):
            continue  # "in 2020 Smith Street clinic closed": a year, not a house number
        if _ARTICLE_BEFORE.search(text, max(0, m.start() - 8), m.start()):
            continue
        spans.append((m.start(), m.end()))
    return spans + [(m.start(), m.end()) for m in _PO_BOX.finditer(text)]


_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# Speech recognition often writes the day as a word: "the third of March, 1985".
_ORDINAL_WORDS = (
    r"(?:(?:twenty|thirty)[\s-]?)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|"
    r"ninth)|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|"
    r"eighteenth|nineteenth|twentieth|thirtieth"
)
_DAY = rf"(?:[0-3]?\d(?:st|nd|rd|th)?|{_ORDINAL_WORDS})"
_YEAR = r"(?:19|20)\d{2}"
# One separator throughout ("03/04/1985", "3.4.85"), so a time range "10.30-11.30" is no date.
_NUMERIC_DATE = rf"[0-3]?\d(?P<sep>[/.\-])[01]?\d(?P=sep)(?:{_YEAR}|\d{{2}})|{_YEAR}-[01]\d-[0-3]\d"
_DAY_MONTH = rf"(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTHS}"
_MONTH_DAY = rf"{_MONTHS}\s+(?:the\s+)?{_DAY}"
_FULL_DATE = re.compile(
    rf"(?<![\w/])(?<!\d[.\-])(?:{_NUMERIC_DATE}|(?:{_DAY_MONTH}|{_MONTH_DAY}),?\s+{_YEAR})"
    r"(?![\w/])",
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

    def add(start: int, end: int, category: Category, name: str) -> None:
        found.append((start, end, category, entity_key(category, text[start:end]), name))

    for regex in (_EMAIL, _SPOKEN_EMAIL):
        for m in regex.finditer(text):
            add(m.start(), m.end(), Category.EMAIL, "email")
    for m in _FULL_DATE.finditer(text):
        birth = _is_birth_date(text, m.start())
        add(m.start(), m.end(), Category.DATE_OF_BIRTH if birth else Category.DATE, "date")
    for m in _DAY_AND_MONTH.finditer(text):
        if _is_birth_date(text, m.start()):
            add(m.start(), m.end(), Category.DATE_OF_BIRTH, "date")
    for start, end in _find_phones(text):
        add(start, end, Category.PHONE, "phone")
    for start, end in _find_addresses(text):
        add(start, end, Category.ADDRESS, "address")
    return found


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
    """Every identifier in one piece of text: (start, end, category, entity key, source), with
    start and end indices into `text` itself (matching ran on its folded form)."""
    folded = fold(text)
    listed = [(s, e, c, k, "list") for s, e, c, k in _find_listed(folded.text, identifiers)]
    found = _without_overlaps([*listed, *_find_patterns(folded.text)])
    return [(*folded.span_in_original(s, e), c, k, src) for s, e, c, k, src in found]


# -- placeholders ----------------------------------------------------------------------------


class PlaceholderBook:
    """Entity → placeholder for one transcript, numbered per category by first appearance."""

    def __init__(self, existing: Mapping[str, str] | None = None) -> None:
        self.by_entity: dict[str, str] = {}
        for entity, placeholder in (existing or {}).items():
            self.by_entity.setdefault(canonical_entity(entity), placeholder)
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
    """Listed identifiers still present in `text` (a last check before an export), as written
    there. The same folding as `detect`: "Zoë" on the list finds a "Zoe" left in the text."""
    folded = fold(text)
    spans = [folded.span_in_original(s, e) for s, e, _, _ in _find_listed(folded.text, identifiers)]
    return sorted({text[s:e] for s, e in spans})


def key_of(suggestions: Iterable[Suggestion]) -> dict[str, tuple[Category, str, list[str]]]:
    """placeholder → (category, entity key, the forms it replaced), for the accepted ones."""
    key: dict[str, tuple[Category, str, list[str]]] = {}
    for s in suggestions:
        forms = key.setdefault(s.placeholder, (s.category, s.entity, []))[2]
        if s.original not in forms:
            forms.append(s.original)
    return key
