"""Text folded for matching, with a way back to the original characters.

De-identification matches identifiers and patterns on a folded copy of the text, so that the
ways a name or a number can be typed or transcribed do not matter:
- apostrophes (’ ‘ ʼ ′ ´ `) become ', dashes of every kind (– — ‑ − …) become -;
- diacritics go (Zoë → Zoe, Siobhán → Siobhan: NFKD, then combining marks dropped), and a few
  letters NFKD leaves alone are spelled plainly (ø → o, ł → l, æ → ae, ß → ss);
- compatibility forms become plain ones (full-width letters and digits, ligatures, no-break
  spaces), and invisible format characters (soft hyphens, zero-width spaces) are dropped.
Case is kept: some patterns (a street name) depend on capitals; matchers ignore case themselves.

The folded text keeps, for each of its characters, the index of the original character it came
from, so a match found in the folded text maps back to the exact original span and a replacement
leaves everything outside that span byte for byte as it was.

Pure and small on purpose; the guard's term matching may share it later.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

APOSTROPHES = frozenset("'’‘‛ʼʹ′´`＇")
# Dashes that are not in Unicode's dash-punctuation category but are typed as one.
_EXTRA_DASHES = frozenset("−⁃")
# Letters that NFKD does not decompose but that people type plainly too.
_PLAIN_LETTERS = {
    "ø": "o",
    "Ø": "O",
    "đ": "d",
    "Đ": "D",
    "ł": "l",
    "Ł": "L",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "ß": "ss",
    "ı": "i",
}


@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    """What one character becomes in folded text (possibly nothing, possibly two letters)."""
    if char.isascii() and char != "`":
        return char
    if char in APOSTROPHES:
        return "'"
    category = unicodedata.category(char)
    if category == "Pd" or char in _EXTRA_DASHES:
        return "-"
    if category == "Cf":  # soft hyphen, zero-width space/joiner, byte-order mark
        return ""
    if char in _PLAIN_LETTERS:
        return _PLAIN_LETTERS[char]
    parts = []
    for part in unicodedata.normalize("NFKD", char):
        if unicodedata.combining(part):
            continue
        parts.append(
            "'" if part in APOSTROPHES else "-" if unicodedata.category(part) == "Pd" else part
        )
    return "".join(parts)


@dataclass(frozen=True)
class Folded:
    """`text` is `original` folded; `origin[i]` is the original index of `text[i]`."""

    original: str
    text: str
    origin: tuple[int, ...] | None  # None: nothing changed, indices are the same

    def span_in_original(self, start: int, end: int) -> tuple[int, int]:
        """The original characters that folded into `text[start:end]` (end exclusive).

        Combining marks right after the span belong to its last letter (a decomposed "ë" is
        "e" plus a mark), so they are inside the returned span."""
        if self.origin is None:
            return start, end
        if start >= len(self.text):
            return len(self.original), len(self.original)
        original_start = self.origin[start]
        if end <= start:
            return original_start, original_start
        original_end = self.origin[end - 1] + 1
        while original_end < len(self.original) and _is_trailing_mark(self.original[original_end]):
            original_end += 1
        return original_start, original_end


def _is_trailing_mark(char: str) -> bool:
    return unicodedata.combining(char) != 0 and fold_char(char) == ""


def fold(text: str) -> Folded:
    """Fold `text` for matching (see the module's description)."""
    if text.isascii() and "`" not in text:
        return Folded(text, text, None)
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = fold_char(char)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return Folded(text, "".join(pieces), tuple(origin))


def fold_text(text: str) -> str:
    """Only the folded text (for keys and lists, where no way back is needed)."""
    return fold(text).text
